"""The server starts only on a warehouse that is there and readable; demo data only in demo mode;
a refusal is one line that says what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsbrain.settings import Settings
from opsbrain.startup import NO_WAREHOUSE, StartupError, prepare_warehouse


def _never(*_args) -> None:
    raise AssertionError("must not be called")


def test_no_warehouse_and_no_demo_mode_refuses_instead_of_inventing_data(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as refused:
        prepare_warehouse(Settings(data_dir=tmp_path), _never, _never)
    assert str(refused.value) == NO_WAREHOUSE and "OPSBRAIN_WAREHOUSE_URL" in NO_WAREHOUSE
    assert not (tmp_path / "demo.duckdb").exists()


def test_demo_mode_generates_the_demo_warehouse_when_missing(tmp_path: Path, demo_db_path: Path) -> None:
    made: list[str] = []

    def make_demo() -> None:
        shutil.copy(demo_db_path, tmp_path / "demo.duckdb")
        made.append("demo")

    prepare_warehouse(Settings(data_dir=tmp_path, demo=True), make_demo, _never)
    assert made == ["demo"]
    prepare_warehouse(Settings(data_dir=tmp_path, demo=True), _never, _never)  # second start: nothing to do


def test_a_corrupt_warehouse_file_is_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "hospital.duckdb"
    broken.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(StartupError) as refused:
        prepare_warehouse(Settings(data_dir=tmp_path, warehouse_url=f"duckdb:///{broken}"), _never, _never)
    message = str(refused.value)
    assert "数据仓库无法打开" in message and "\n" not in message and "Traceback" not in message


def test_a_warehouse_without_the_engine_tables_names_them(tmp_path: Path) -> None:
    import duckdb

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(StartupError, match="数据仓库缺少表 meta_warehouse"):
        prepare_warehouse(Settings(data_dir=tmp_path, warehouse_url=f"duckdb:///{empty}"), _never, _never)


def test_an_unreachable_database_does_not_print_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://reader:s3cret-pw@127.0.0.1:1/warehouse"
    with pytest.raises(StartupError) as refused:
        prepare_warehouse(Settings(data_dir=tmp_path, warehouse_url=url), _never, _never)
    assert "s3cret-pw" not in str(refused.value) and "reader:***@127.0.0.1" in str(refused.value)


def test_serve_stops_with_the_line_and_exit_code_2(tmp_path: Path, monkeypatch) -> None:
    from opsbrain.cli import app

    monkeypatch.setattr("opsbrain.cli.settings", Settings(data_dir=tmp_path))
    monkeypatch.setattr("uvicorn.run", _never)
    result = CliRunner().invoke(app, ["serve"])
    assert (
        result.exit_code == 2
        and "opsbrain 未启动" in result.output
        and "OPSBRAIN_WAREHOUSE_URL" in result.output
    )
    assert "Traceback" not in result.output


def test_up_is_serve_in_demo_mode_unless_a_warehouse_is_configured(tmp_path: Path, monkeypatch) -> None:
    from opsbrain.cli import app

    seen: list[bool] = []
    config = Settings(data_dir=tmp_path)
    monkeypatch.setattr("opsbrain.cli.settings", config)
    monkeypatch.setattr("opsbrain.cli._prepare", lambda: seen.append(config.demo))
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    assert CliRunner().invoke(app, ["up"]).exit_code == 0
    config.demo, config.warehouse_url = False, "duckdb:///x.duckdb"
    assert CliRunner().invoke(app, ["up"]).exit_code == 0
    assert seen == [True, False]
