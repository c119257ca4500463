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
    ],
)
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output


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
