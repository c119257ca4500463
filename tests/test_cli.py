"""The CLI runs real commands; --help works for every subcommand."""

import pytest
from rich.console import Console
from typer.testing import CliRunner

from opsbrain.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch) -> None:
    # rich folds table cells to the terminal width; a test terminal is narrow
    monkeypatch.setattr("opsbrain.cli.console", Console(width=200))


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo-data"],
        ["serve"],
        ["up"],
        ["indicators"],
        ["indicators", "list"],
        ["indicators", "show"],
        ["indicators", "query"],
        ["warehouse", "build-aggregates"],
        ["warehouse", "load-postgres"],
        ["kb", "ingest"],
        ["kb", "search"],
        ["kb", "stats"],
        ["eval", "kb"],
        ["eval", "planner"],
        ["ask"],
        ["model", "demo-base"],
        ["train"],
    ],
)
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output


def test_serve_builds_what_is_missing_before_serving(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("opsbrain.cli._prepare", lambda: calls.append("prepare"))
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: calls.append(f"run {kw['host']}:{kw['port']}"))
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == ["prepare", "run 0.0.0.0:8123"]


def test_list_and_show() -> None:
    listed = runner.invoke(app, ["indicators", "list", "手术"])
    assert listed.exit_code == 0 and "四级手术" in listed.output
    shown = runner.invoke(app, ["indicators", "show", "药站比"])
    assert shown.exit_code == 0 and "药品收入 ÷ 医疗收入" in shown.output
    unknown = runner.invoke(app, ["indicators", "show", "不存在的指标"])
    assert unknown.exit_code == 2 and "未知指标" in unknown.output


def test_query_against_a_warehouse(demo_db_path, monkeypatch) -> None:
    monkeypatch.setattr("opsbrain.cli.settings.warehouse_url", f"duckdb:///{demo_db_path}")
    args = [
        "indicators",
        "query",
        "平均住院日",
        "--start",
        "2023-01-01",
        "--end",
        "2023-06-30",
        "--group-by",
        "department",
        "--top",
        "3",
        "--compare",
        "yoy",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "平均住院日" in result.output and "同比" not in result.output.split("\n")[0]
    bad = runner.invoke(
        app,
        [
            "indicators",
            "query",
            "平均住院日",
            "--start",
            "2023-01-01",
            "--end",
            "2023-06-30",
            "--filter",
            "department=心内",
        ],
    )
    assert bad.exit_code == 2 and "心血管内科" in bad.output


@pytest.fixture
def kb_settings(monkeypatch, tmp_path, tiny_embedding_model):
    """Point the CLI's settings at a fresh data folder and the tiny embedding model."""
    from opsbrain import cli

    monkeypatch.setattr(cli.settings, "data_dir", tmp_path)
    monkeypatch.setattr(cli.settings, "kb_embedding_model", tiny_embedding_model)
    return cli.settings


def test_kb_ingest_search_stats(kb_settings, tmp_path) -> None:
    first = runner.invoke(app, ["kb", "ingest"])
    assert first.exit_code == 0, first.output
    assert "0 unchanged" in first.output and "added" in first.output
    again = runner.invoke(app, ["kb", "ingest"])
    assert "0 added" in again.output and "0 updated" in again.output, again.output

    own = tmp_path / "own"
    own.mkdir()
    (own / "empty.md").write_text("")
    (own / "rule.txt").write_text(
        "院内耗材管理规定\n一、耗占比目标\n本院耗占比控制在百分之二十以内，超出时由运营管理部约谈科室。"
    )
    added = runner.invoke(app, ["kb", "ingest", str(own)])
    assert "1 added" in added.output and "skipped" in added.output and "empty.md" in added.output

    found = runner.invoke(
        app, ["kb", "search", "耗占比 约谈", "--mode", "bm25", "--scope", "internal", "-k", "1"]
    )
    assert found.exit_code == 0 and "院内耗材管理规定" in found.output and "一、耗占比目标" in found.output

    stats = runner.invoke(app, ["kb", "stats"])
    assert stats.exit_code == 0 and '"documents"' in stats.output


@pytest.mark.parametrize(
    "args",
    [
        ["kb", "search", "药占比", "--mode", "fuzzy"],
        ["kb", "search", "药占比", "--status", "草案"],
        ["kb", "search", "   "],
    ],
)
def test_kb_search_bad_input(kb_settings, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "error" in result.output
