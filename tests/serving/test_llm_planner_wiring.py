"""How the llm planner is chosen and built: settings, the factory, deps, the demo model, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from indicators import default_catalog
from opsbrain.cli import app
from opsbrain.settings import Settings
from serving.planner.llm import demo_model
from serving.planner.llm.backends import BackendError, OpenAIBackend
from serving.planner.llm.factory import build_planner
from serving.planner.llm.planner import LLMPlanner
from serving.planner.llm.report import add_planner_stats
from serving.planner.rules import RulesPlanner
from tests.serving.llm_fixtures import AS_OF, DATA_START, ScriptedBackend, small_dimensions


@pytest.fixture
def fake_warehouse():
    return SimpleNamespace(dimensions=small_dimensions(), as_of=AS_OF, data_start=DATA_START)


def test_settings_read_the_planner_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPSBRAIN_PLANNER", "llm")
    monkeypatch.setenv("OPSBRAIN_LLM_BASE_URL", "http://vllm:8000/v1")
    monkeypatch.setenv("OPSBRAIN_LLM_MAX_NEW_TOKENS", "99")
    config = Settings(data_dir=tmp_path)
    assert config.planner == "llm" and config.llm_base_url == "http://vllm:8000/v1"
    assert config.llm_max_new_tokens == 99
    assert config.resolved_llm_model == tmp_path / "models" / "qwen2.5-coder-0.5b-instruct"
    monkeypatch.setenv("OPSBRAIN_PLANNER", "gpt")
    with pytest.raises(ValueError):
        Settings()


def test_factory_builds_each_planner(tmp_path, fake_warehouse):
    catalog = default_catalog()
    assert isinstance(build_planner(Settings(data_dir=tmp_path), catalog, fake_warehouse), RulesPlanner)

    remote = Settings(
        data_dir=tmp_path, planner="llm", llm_base_url="http://localhost:1/v1", llm_model_name="m"
    )
    planner = build_planner(remote, catalog, fake_warehouse)
    assert isinstance(planner, LLMPlanner) and isinstance(planner.backend, OpenAIBackend)
    assert planner.name == "llm" and isinstance(planner.fallback, RulesPlanner)

    with pytest.raises(ValueError, match="MODEL_NAME"):
        build_planner(remote.model_copy(update={"llm_model_name": None}), catalog, fake_warehouse)
    with pytest.raises(BackendError, match="demo-base"):  # no local model folder yet
        build_planner(Settings(data_dir=tmp_path, planner="llm"), catalog, fake_warehouse)


def test_api_keeps_answering_with_rules_when_the_llm_cannot_start(tmp_path, fake_warehouse, caplog):
    from serving.api.deps import _planner

    planner = _planner(Settings(data_dir=tmp_path, planner="llm"), default_catalog(), fake_warehouse)
    assert isinstance(planner, RulesPlanner)
    assert "llm planner unavailable" in caplog.text


def test_demo_model_refuses_parts_with_the_wrong_checksum(tmp_path, monkeypatch):
    parts = []
    for n in range(6):
        part = tmp_path / f"part{n}.bin"
        part.write_bytes(b"not a model %d" % n)
        parts.append(part)
    monkeypatch.setattr(demo_model, "_part_files", lambda site, say: parts)
    with pytest.raises(demo_model.DemoModelError, match="sha256"):
        demo_model.build_demo_model(tmp_path / "models" / "demo", say=lambda _: None)
    assert not (tmp_path / "models" / "demo").exists()
    assert list((tmp_path / "models").iterdir()) == []  # the scratch folder is gone too


def test_demo_model_is_not_rebuilt_when_present(tmp_path, monkeypatch):
    target = tmp_path / "demo"
    target.mkdir()
    (target / demo_model.MARKER).write_text("{}")
    monkeypatch.setattr(demo_model, "_part_files", lambda site, say: pytest.fail("should not fetch"))
    assert demo_model.build_demo_model(target) == target


def test_cli_has_the_model_and_planner_options():
    runner = CliRunner()
    result = runner.invoke(app, ["model", "demo-base", "--help"])
    assert result.exit_code == 0 and "sha256" in result.output
    result = runner.invoke(app, ["eval", "planner", "--help"])
    assert result.exit_code == 0 and "--limit" in result.output and "llm" in result.output
    result = runner.invoke(app, ["eval", "planner", "--planner", "gpt"])
    assert result.exit_code == 2 and "unknown planner" in result.output


def test_eval_report_gets_the_planner_counters(tmp_path):
    paths = {"json": tmp_path / "r.json", "markdown": tmp_path / "r.md"}
    paths["json"].write_text(json.dumps({"planner": "llm"}))
    paths["markdown"].write_text("| metric | value |\n")
    planner = LLMPlanner(ScriptedBackend("x", "y"), default_catalog(), small_dimensions(), AS_OF, DATA_START)
    planner.plan("今年药占比多少")
    add_planner_stats(paths, planner.stats, seconds=10.0, turns=1)
    report = json.loads(paths["json"].read_text())
    assert report["planner_stats"]["fallback_reasons"] == {"invalid_output": 1}
    assert "rules fallback (invalid_output) | 1 | 100.0%" in Path(paths["markdown"]).read_text()


def test_chat_api_says_which_planner_answered(tmp_path, demo_db_path, corpus_kb):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.serving.llm_fixtures import stub_openai_server

    good = (
        '{"calls":[{"tool":"query_indicator","arguments":{"indicators":["药占比"],'
        '"start":"2023-01-01","end":"2023-09-08","compare":["yoy"]}}]}'
    )
    with stub_openai_server([good, "不是计划", "还不是"]) as (url, received):
        config = Settings(
            data_dir=tmp_path,
            warehouse_url=f"duckdb:///{demo_db_path}",
            planner="llm",
            llm_base_url=url,
            llm_model_name="planner",
        )
        app = create_app(config)
        app.state.knowledge_base = corpus_kb  # no embedding model to load
        with TestClient(app) as client:
            first = client.post("/api/v1/chat", json={"question": "今年药占比多少，同比"}).json()
            second = client.post("/api/v1/chat", json={"question": "去年门诊量"}).json()
    assert first["planner"] == "llm" and first["plan"]["calls"][0]["arguments"]["compare"] == ["yoy"]
    assert second["planner"] == "llm→rules"  # two invalid answers: the rules planner's plan
    assert second["plan"]["calls"][0]["arguments"]["indicators"] == ["门诊人次"]
    assert len(received) == 3 and app.state.assistant.planner.stats.fallbacks == {"invalid_output": 1}
