"""The data builders of issue #5: formats, valid plans that run, honest answers, real corruptions,
disjoint prompts, no eval overlap, determinism, and the compact prompt the planner serves with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.planner import dataset_path, load_items, slots
from indicators import default_catalog
from opsbrain.settings import Settings
from serving.planner.llm.planner import LLMPlanner
from serving.planner.llm.prompt import PromptBuilder, parse_plan, plan_to_text
from serving.planner.rules import RulesPlanner
from serving.tools import PLAN_ADAPTER
from tests.serving.llm_fixtures import ScriptedBackend
from training.data import overlap
from training.data.build import build_all
from training.data.questions import QuestionGenerator
from training.data.rm import POLICY_HEADING
from training.data.sft import numbers_covered

SIZES = {"sft_size": 60, "rm_size": 30, "prompts_size": 25, "report_months": 2}
ROLES = {"system", "user", "assistant"}


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.fixture(scope="module")
def built(tmp_path_factory, warehouse, catalog, corpus_kb) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("training-data")
    extra = tmp_path_factory.mktemp("extra-text")
    (extra / "note.txt").write_text("医务科周例会纪要：本周讨论了日间手术流程。", encoding="utf-8")
    (extra / "docs.jsonl").write_text(
        json.dumps({"text": "护理部通知：加强病区巡查。"}, ensure_ascii=False) + "\n"
    )
    report = build_all(out, warehouse, catalog, kb=corpus_kb, seed=3, extra_text_dirs=[extra], **SIZES)
    return out, report


def rows(out: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_files_have_the_agreed_formats(built):
    out, report = built
    for row in rows(out, "pt"):
        assert set(row) == {"text", "source"} and row["text"] and isinstance(row["source"], str)
    sft = rows(out, "sft")
    assert {r["kind"] for r in sft} == {"plan", "answer"}
    for row in sft:
        assert set(row) == {"messages", "kind", "tags"} and isinstance(row["tags"], list)
        assert {m["role"] for m in row["messages"]} <= ROLES
        assert row["messages"][0]["role"] == "system" and row["messages"][-1]["role"] == "assistant"
    for row in rows(out, "rm"):
        assert set(row) == {"prompt", "chosen", "rejected", "kind", "corruption"}
        assert row["prompt"][-1]["role"] == "user"
        assert [m["role"] for m in row["chosen"] + row["rejected"]] == ["assistant", "assistant"]
    for row in rows(out, "prompts"):
        assert set(row) == {"prompt", "gold", "tags"} and row["prompt"][-1]["role"] == "user"
        PLAN_ADAPTER.validate_python(row["gold"])
    assert report["counts"]["sft"] == len(sft) and (out / "report.md").exists()
    sources = {r["source"].split(":")[0] for r in rows(out, "pt")}
    assert sources == {"policy", "catalog", "report", "user"}


def test_every_plan_is_valid_and_every_query_runs(built, warehouse):
    out, _ = built
    plans = [parse_plan(r["messages"][-1]["content"]) for r in rows(out, "sft") if r["kind"] == "plan"]
    plans += [PLAN_ADAPTER.validate_python(r["gold"]) for r in rows(out, "prompts")]
    plans += [parse_plan(r["chosen"][0]["content"]) for r in rows(out, "rm") if r["kind"] == "plan"]
    queries = [c.arguments for p in plans for c in p.indicator_calls]
    assert len(plans) > 80 and len(queries) > 40
    for q in queries:
        warehouse.query(q)  # raises on a failing query


def test_plan_targets_are_the_inference_format(built, warehouse, catalog):
    out, _ = built
    names = {d: [m.name for m in ms] for d, ms in warehouse.dimensions.members.items() if d != "doctor"}
    builder = PromptBuilder(catalog, warehouse.as_of, warehouse.data_start, names, style="compact")
    for row in (r for r in rows(out, "sft") if r["kind"] == "plan"):
        messages, target = row["messages"][:-1], row["messages"][-1]["content"]
        assert messages[0]["content"] == builder.system_prompt
        assert target == plan_to_text(parse_plan(target))  # what plan_to_text writes, byte for byte


def test_answers_only_state_numbers_from_the_tool_results(built):
    out, report = built
    answers = [r for r in rows(out, "sft") if r["kind"] == "answer"]
    assert answers and report["sft_answers"] == len(answers)
    for row in answers:
        assert numbers_covered(row["messages"][-1]["content"], row["messages"][1]["content"])
    cited = [r for r in answers if POLICY_HEADING in r["messages"][-1]["content"]]
    assert cited, "with a knowledge base some answers cite policies"
    # the check can fail: a figure no tool gave is caught
    text = answers[0]["messages"][-1]["content"]
    assert not numbers_covered(text + " 增长 123456.78", answers[0]["messages"][1]["content"])


def test_rm_pairs_differ_by_their_corruption(built):
    out, _ = built
    pairs = rows(out, "rm")
    kinds = {r["corruption"] for r in pairs}
    assert {"wrong_period", "wrong_indicator"} <= kinds and "invented_number" in kinds
    for row in pairs:
        chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
        assert chosen != rejected
        if row["kind"] == "plan":
            assert slots(parse_plan(chosen)) != slots(parse_plan(rejected))
        elif row["corruption"] == "invented_number":
            assert not numbers_covered(rejected, row["prompt"][-1]["content"])
        else:
            assert POLICY_HEADING in chosen and POLICY_HEADING not in rejected


def test_prompts_are_disjoint_from_sft_and_evals(built):
    out, report = built
    sft_q = {overlap.normalise(q) for r in rows(out, "sft") for q in overlap.row_questions(r)}
    prompt_q = {overlap.normalise(q) for r in rows(out, "prompts") for q in overlap.row_questions(r)}
    assert prompt_q and not prompt_q & sft_q
    banned = overlap.eval_questions()
    every = (
        sft_q | prompt_q | {overlap.normalise(q) for r in rows(out, "rm") for q in overlap.row_questions(r)}
    )
    assert not every & banned
    assert report["eval_overlap"] == 0 and report["prompts_sft_overlap"] == 0


def test_a_planted_eval_question_is_dropped():
    question = load_items(dataset_path("dev"))[0].turns[0].question
    banned = overlap.eval_questions()
    planted = " " + question.replace("？", "?") + "！"  # other punctuation and spacing, same question
    keep = {"messages": [{"role": "user", "content": "一个不在评测集里的问题嗯嗯"}]}
    hit = {"messages": [{"role": "user", "content": planted}]}
    answer = {"messages": [{"role": "user", "content": f"问题：{planted}\n工具结果：[]"}]}
    kept, dropped = overlap.drop_collisions([keep, hit, answer], banned)
    assert kept == [keep] and dropped == 2


def test_the_generator_refuses_banned_questions(warehouse, catalog):
    first = QuestionGenerator(catalog, warehouse, seed=5).generate(30)
    banned = {overlap.normalise(first[0].question)}
    again = QuestionGenerator(catalog, warehouse, seed=5)
    items = again.generate(30, banned=banned)
    assert banned.isdisjoint(overlap.normalise(q) for it in items for q in it.questions)
    assert again.stats["eval_collision"] >= 1


def test_deterministic_for_a_seed(tmp_path, warehouse, catalog):
    sizes = {"sft_size": 25, "rm_size": 10, "prompts_size": 10, "report_months": 1, "corpus_dirs": []}
    build_all(tmp_path / "a", warehouse, catalog, seed=11, **sizes)
    build_all(tmp_path / "b", warehouse, catalog, seed=11, **sizes)
    build_all(tmp_path / "c", warehouse, catalog, seed=12, **sizes)
    for name in ("pt", "sft", "rm", "prompts"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (
            tmp_path / "b" / f"{name}.jsonl"
        ).read_bytes()
    assert (tmp_path / "a" / "sft.jsonl").read_bytes() != (tmp_path / "c" / "sft.jsonl").read_bytes()


def test_rules_agreement_is_reported_and_substantial(built):
    _, report = built
    # a QA figure, not a filter: the generator and the rules planner were written apart, so
    # agreement far below the rules planner's eval score would point at a generator bug
    assert 0.6 <= report["rules_agreement"] <= 1.0


def test_compact_prompt_is_short_and_the_planner_uses_it(warehouse, catalog, monkeypatch):
    full = PromptBuilder(catalog, warehouse.as_of, warehouse.data_start, style="full").system_prompt
    compact = PromptBuilder(catalog, warehouse.as_of, warehouse.data_start, style="compact").system_prompt
    assert len(compact) < 400 and len(full) > 5 * len(compact)
    assert "2023-09-08" in compact and "2019-01-01" in compact
    with pytest.raises(ValueError):
        PromptBuilder(catalog, warehouse.as_of, warehouse.data_start, style="tiny")  # type: ignore[arg-type]
    gold = '{"calls":[{"tool":"query_indicator","arguments":{"indicators":["药占比"],"start":"2023-01-01","end":"2023-09-08"}}]}'
    backend = ScriptedBackend(gold)
    rules = RulesPlanner(catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start)
    planner = LLMPlanner(
        backend,
        catalog,
        warehouse.dimensions,
        warehouse.as_of,
        warehouse.data_start,
        rules,
        prompt_style="compact",
    )
    plan = planner.plan("今年药占比")
    assert planner.name == "llm" and plan_to_text(plan) == gold
    assert backend.calls[0][0]["content"] == compact
    monkeypatch.setenv("OPSBRAIN_LLM_PROMPT_STYLE", "compact")
    assert Settings().llm_prompt_style == "compact"
