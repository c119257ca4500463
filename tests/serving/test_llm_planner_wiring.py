"""How the LLM parser is chosen and built: settings, the factory, build_assistant, the demo model,
the CLI, the evaluation report, and the chat API saying which parser answered."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from indicators import default_catalog
from opsbrain.cli import app
from opsbrain.settings import Settings
from serving.assistant.build import build_assistant
from serving.planner.llm import demo_model
from serving.planner.llm.backends import BackendError, LocalBackend, OpenAIBackend
from serving.planner.llm.factory import build_planner
from serving.planner.llm.parser import LLMParser
from serving.planner.llm.prompt import to_text
from serving.planner.llm.report import add_planner_stats
from serving.planner.pipeline import Pipeline
from serving.planner.rules import RulesPlanner
from tests.conftest import signed_in
from tests.serving.llm_fixtures import (
    AS_OF,
    DATA_START,
    ScriptedBackend,
    small_dimensions,
    stub_openai_server,
    tiny_model_folder,
)

QUESTION = "药占比这个东西今年咋样了"  # routed to the model: 这个东西 and 咋样 are unexplained


@pytest.fixture
def fake_warehouse():
    return SimpleNamespace(dimensions=small_dimensions(), as_of=AS_OF, data_start=DATA_START)


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(request, tmp_path_factory)


def test_settings_read_the_planner_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPSBRAIN_PLANNER", "llm")
    monkeypatch.setenv("OPSBRAIN_LLM_BASE_URL", "http://vllm:8000/v1")
    monkeypatch.setenv("OPSBRAIN_LLM_MAX_NEW_TOKENS", "99")
    monkeypatch.setenv("OPSBRAIN_LLM_THREADS", "3")
    monkeypatch.setenv("OPSBRAIN_LLM_DTYPE", "float32")
    config = Settings(data_dir=tmp_path)
    assert config.planner == "llm" and config.llm_base_url == "http://vllm:8000/v1"
    assert config.llm_max_new_tokens == 99 and config.llm_threads == 3 and config.llm_dtype == "float32"
    assert config.resolved_llm_model == tmp_path / "models" / "qwen2.5-coder-0.5b-instruct"
    for name, bad in [
        ("OPSBRAIN_PLANNER", "gpt"),
        ("OPSBRAIN_LLM_DTYPE", "float16"),
        ("OPSBRAIN_LLM_THREADS", "0"),
    ]:
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError):
            Settings()
        monkeypatch.delenv(name)


def test_factory_builds_each_planner(tmp_path, fake_warehouse):
    catalog = default_catalog()
    rules = build_planner(Settings(data_dir=tmp_path), catalog, fake_warehouse)
    assert isinstance(rules, RulesPlanner) and rules.llm is None

    remote = Settings(
        data_dir=tmp_path,
        planner="llm",
        llm_base_url="http://localhost:1/v1",
        llm_model_name="m",
        llm_max_new_tokens=77,
    )
    pipeline = build_planner(remote, catalog, fake_warehouse)
    assert isinstance(pipeline, Pipeline) and isinstance(pipeline.llm, LLMParser)
    assert isinstance(pipeline.llm.backend, OpenAIBackend) and pipeline.llm.backend.max_tokens == 77
    assert pipeline.name == "llm"

    with pytest.raises(ValueError, match="MODEL_NAME"):
        build_planner(remote.model_copy(update={"llm_model_name": None}), catalog, fake_warehouse)
    with pytest.raises(BackendError, match="demo-base"):  # no local model folder yet
        build_planner(Settings(data_dir=tmp_path, planner="llm"), catalog, fake_warehouse)
    with pytest.raises(ValueError, match="unknown planner"):
        build_planner(Settings(data_dir=tmp_path), catalog, fake_warehouse, kind="gpt")


def test_threads_and_dtype_settings_reach_the_local_model(tiny_model, monkeypatch, fake_warehouse):
    import torch

    threads: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", threads.append)  # recorded, not applied to the test run
    monkeypatch.setenv("OPSBRAIN_PLANNER", "llm")
    monkeypatch.setenv("OPSBRAIN_LLM_MODEL", str(tiny_model))
    monkeypatch.setenv("OPSBRAIN_LLM_THREADS", "1")
    monkeypatch.setenv("OPSBRAIN_LLM_DTYPE", "bfloat16")
    pipeline = build_planner(Settings(), default_catalog(), fake_warehouse)
    backend = pipeline.llm.backend
    assert isinstance(backend, LocalBackend) and threads == [1]
    assert {p.dtype for p in backend.model.parameters()} == {torch.bfloat16}
    assert backend._prefix_ids is not None  # warmed by the factory
    assert pipeline.understand(QUESTION).parser == "llm"  # bf16 decoding gives a plan too
    assert backend.last_usage.cached_tokens == len(backend._prefix_ids)


def test_build_assistant_answers_with_rules_when_the_model_cannot_start(tmp_path, fake_warehouse, caplog):
    config = Settings(data_dir=tmp_path, planner="llm")  # no model folder in tmp_path
    with caplog.at_level(logging.ERROR, logger="opsbrain.assistant"):
        assistant = build_assistant(config, fake_warehouse, default_catalog(), kb=None)
    assert isinstance(assistant.planner, RulesPlanner) and assistant.planner.name == "rules"
    assert "llm planner unavailable; answering with the rules planner" in caplog.text
    assert "does not exist" in caplog.text  # with the reason
    with pytest.raises(BackendError, match="does not exist"):
        build_assistant(config, fake_warehouse, default_catalog(), kb=None, strict=True)


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


def test_eval_report_gets_the_parser_counters(tmp_path):
    paths = {"json": tmp_path / "r.json", "markdown": tmp_path / "r.md"}
    paths["json"].write_text(json.dumps({"planner": "llm"}))
    paths["markdown"].write_text("| metric | value |\n")
    catalog = default_catalog()
    pipeline = Pipeline(catalog, small_dimensions(), AS_OF, DATA_START)
    pipeline.llm = LLMParser(ScriptedBackend("x", BackendError("down")), catalog, pipeline.intents, AS_OF)
    pipeline.plan(QUESTION)
    pipeline.plan(QUESTION)
    pipeline.plan("今年药占比多少")  # explained by the mapping: the rules parser, not counted
    add_planner_stats(paths, pipeline.llm.stats, seconds=10.0, turns=3)
    counters = json.loads(paths["json"].read_text())["planner_stats"]
    assert counters["questions"] == 2 and counters["turns"] == 3 and counters["planned_by_model"] == 0
    assert counters["fallback_reasons"] == {"invalid_output": 1, "backend_error": 1}
    markdown = paths["markdown"].read_text()
    assert "2 of 3 turns were routed to the model" in markdown
    assert "| rules fallback (invalid_output) | 1 | 50.0% |" in markdown


def test_chat_api_says_which_parser_answered(tmp_path, demo_db_path, corpus_kb):

    from serving.app import create_app

    good = to_text(
        {
            "intent": "figure",
            "indicators": ["药占比"],
            "time": "t1",
            "filters": [],
            "group_by": [],
            "compare": ["yoy"],
            "rank": "none",
        }
    )
    with stub_openai_server([good, "不是计划"]) as (url, received):
        config = Settings(
            data_dir=tmp_path,
            warehouse_url=f"duckdb:///{demo_db_path}",
            planner="llm",
            llm_base_url=url,
            llm_model_name="planner",
        )
        api = create_app(config)
        api.state.knowledge_base = corpus_kb  # no embedding model to load
        with signed_in(api) as client:
            first = client.post("/api/v1/chat", json={"question": QUESTION}).json()
            second = client.post("/api/v1/chat", json={"question": "门诊量这个东西去年咋样"}).json()
            third = client.post("/api/v1/chat", json={"question": "今年药占比多少"}).json()
    assert first["planner"] == "llm" and first["plan"]["calls"][0]["arguments"]["compare"] == ["yoy"]
    assert second["planner"] == "llm→rules"  # an invalid answer: the rules parser's plan
    assert second["plan"]["calls"][0]["arguments"]["indicators"] == ["门诊人次"]
    assert third["planner"] == "rules"  # explained by the mapping: the model is not asked
    assert len(received) == 2
    assert received[0]["body"]["response_format"]["type"] == "json_schema"
    assert api.state.assistant.planner.llm.stats.fallbacks == {"invalid_output": 1}
