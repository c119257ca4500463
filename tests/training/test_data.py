"""The data builders of issues #5 and #13: the parser's exact input and compact targets that decode
back to their gold plans, valid plans that run, honest answers, real corruptions, disjoint prompts,
no eval overlap, every-day wording present, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.planner import dataset_path, slots
from indicators import default_catalog
from serving.planner.llm import compact
from serving.planner.llm.parser import compact_object
from serving.planner.llm.prompt import SYSTEM_PROMPT, to_text
from serving.tools import PLAN_ADAPTER
from training.data import overlap
from training.data.build import build_all
from training.data.conversations import ParserView
from training.data.questions import CATEGORIES, QuestionGenerator
from training.data.rm import POLICY_HEADING
from training.data.sft import numbers_covered, turns_of

SIZES = {"sft_size": 90, "rm_size": 30, "prompts_size": 25, "report_months": 2}
ROLES = {"system", "user", "assistant"}
TURN_KEYS = {"question", "history", "gold"}


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


@pytest.fixture(scope="module")
def view(warehouse, catalog, corpus_kb) -> ParserView:
    """The pipeline the data was built with (the knowledge base's embedder in the mapper too)."""
    return ParserView(catalog, warehouse, corpus_kb.embedder)


def rows(out: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def plan_rows(out: Path) -> list[dict]:
    return [r for r in rows(out, "sft") if r["kind"] == "plan"]


def test_files_have_the_agreed_formats(built):
    out, report = built
    for row in rows(out, "pt"):
        assert set(row) == {"text", "source"} and row["text"] and isinstance(row["source"], str)
    sft = rows(out, "sft")
    assert {r["kind"] for r in sft} == {"plan", "answer"}
    for row in sft:
        keys = {"messages", "kind", "tags"} | (TURN_KEYS if row["kind"] == "plan" else set())
        assert set(row) == keys and isinstance(row["tags"], list)
        assert {m["role"] for m in row["messages"]} <= ROLES
        assert [m["role"] for m in row["messages"]][-1] == "assistant"
        assert row["messages"][0]["role"] == "system"
    for row in rows(out, "rm"):
        assert {"prompt", "chosen", "rejected", "kind", "corruption"} <= set(row)
        assert row["prompt"][-1]["role"] == "user"
        assert [m["role"] for m in row["chosen"] + row["rejected"]] == ["assistant", "assistant"]
    for row in rows(out, "prompts"):
        assert set(row) == {"prompt", "target", "tags"} | TURN_KEYS and row["prompt"][-1]["role"] == "user"
        PLAN_ADAPTER.validate_python(row["gold"])
    assert report["counts"]["sft"] == len(sft) and (out / "report.md").exists()
    sources = {r["source"].split(":")[0] for r in rows(out, "pt")}
    assert sources == {"policy", "catalog", "report", "user"}


def test_plan_rows_are_the_parsers_exact_input_and_decode_to_their_gold(built, view):
    """Every SFT target, decoded as the server decodes it, is its gold plan (the eval's slots)."""
    out, _ = built
    checked = 0
    for row in plan_rows(out):
        question, history, gold = turns_of(row)
        ctx, reading = view.pipeline.prepare(question, list(history))
        messages, _, choices = view.parser.request(ctx)
        assert row["messages"][:-1] == messages  # exactly what the model sees at serving time
        assert messages[0]["content"] == SYSTEM_PROMPT
        target = row["messages"][-1]["content"]
        obj = compact_object(target)
        assert target == to_text(obj)  # one line, no spaces: what the grammar lets the model write
        plan = compact.decode(obj, ctx, reading, view.pipeline.intents, choices)
        assert slots(plan) == slots(gold), (question, target)
        checked += 1
    assert checked > 80


def test_every_gold_plan_is_valid_and_every_query_runs(built, warehouse):
    out, _ = built
    plans = [turns_of(r)[2] for r in plan_rows(out)]
    plans += [PLAN_ADAPTER.validate_python(r["gold"]) for r in rows(out, "prompts")]
    plans += [PLAN_ADAPTER.validate_python(r["gold"]) for r in rows(out, "rm") if r["kind"] == "plan"]
    queries = [c.arguments for p in plans for c in p.indicator_calls]
    assert len(plans) > 100 and len(queries) > 50
    for q in queries:
        warehouse.query(q)  # raises on a failing query


def test_dialogues_are_built_turn_by_turn(built):
    """Each turn of a dialogue is a conversation of its own, its history the earlier gold turns."""
    out, report = built
    by_key = {(tuple(t["question"] for t in r["history"]), r["question"]): r for r in plan_rows(out)}
    multi = [r for r in plan_rows(out) if r["history"]]
    assert multi and report["sft_multi_turn"] == len(multi)
    for row in multi:
        earlier = tuple(t["question"] for t in row["history"])
        first = by_key.get(((), earlier[0]))
        if first is not None:  # the first turn, when it encodes, is trained on too
            assert first["gold"] == row["history"][0]["plan"]
        # the answer to a clarification is planned as the first question with the choice in it
        # (Pipeline.prepare): it shows no previous turn; every other follow-up shows the last one
        if row["history"][-1]["plan"].get("clarification") is None:
            assert "上一轮：" in row["messages"][1]["content"], row["question"]


def test_answers_only_state_numbers_from_the_tool_results(built):
    out, report = built
    answers = [r for r in rows(out, "sft") if r["kind"] == "answer"]
    assert answers and report["sft_answers"] == len(answers)
    for row in answers:
        assert numbers_covered(row["messages"][-1]["content"], row["messages"][1]["content"])
    cited = [r for r in answers if POLICY_HEADING in r["messages"][-1]["content"]]
    assert cited, "with a knowledge base some answers cite policies"
    text = answers[0]["messages"][-1]["content"]
    assert not numbers_covered(text + " 增长 123456.78", answers[0]["messages"][1]["content"])


def test_rm_pairs_are_gold_against_a_decodable_mistake(built, view):
    out, _ = built
    pairs = rows(out, "rm")
    kinds = {r["corruption"] for r in pairs}
    assert {"wrong_intent", "wrong_time"} <= kinds and "invented_number" in kinds
    for row in pairs:
        chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
        assert chosen != rejected
        if row["kind"] == "plan":
            question, history, gold = turns_of(row)
            ctx, reading = view.pipeline.prepare(question, list(history))
            _, _, choices = view.parser.request(ctx)
            right = compact.decode(compact_object(chosen), ctx, reading, view.pipeline.intents, choices)
            wrong = compact.decode(compact_object(rejected), ctx, reading, view.pipeline.intents, choices)
            assert slots(right) == slots(gold) != slots(wrong)
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


def test_report_counts_encoding_per_category(built):
    _, report = built
    encoding = report["encoding"]
    assert encoding["encoded_share"] > 0.85
    for category, counts in encoding["per_category"].items():
        assert counts["encoded"] <= counts["tried"], category
    assert sum(c["tried"] - c["encoded"] for c in encoding["per_category"].values()) == sum(
        m["count"] for m in encoding["not_encoded"]
    )


def test_everyday_wording_follows_the_conventions(warehouse, catalog):
    """Issue #13's classes are generated, and their gold plans say what the conventions say."""
    gen = QuestionGenerator(catalog, warehouse, seed=1)
    items = {c: [gen.make(c) for _ in range(12)] for c in ("formula", "follow_switch", "compare_words")}
    items = {c: [i for i in found if i is not None] for c, found in items.items()}
    assert all(items.values()), {c: len(v) for c, v in items.items()}
    for it in items["follow_switch"]:  # one word switched: the indicator, nothing else
        before, after = it.history[-1].plan.indicator_calls[0].arguments, it.plan.indicator_calls[0].arguments
        assert before.indicators != after.indicators
        assert before.model_dump(exclude={"indicators"}) == after.model_dump(exclude={"indicators"})
    for it in items["compare_words"]:  # a comparison in words is a comparison, never a ranking
        query = it.plan.indicator_calls[0].arguments
        assert query.compare in (["yoy"], ["mom"]) and query.rank is None
    for it in items["formula"]:  # one indicator, the ratio of the two parts named
        assert len(it.plan.indicator_calls[0].arguments.indicators) == 1
    for category in ("plain", "policy_fact", "not_available_family", "dept_short", "dialogue"):
        assert category in CATEGORIES


def test_the_overlap_check_covers_every_eval_split():
    files = overlap.eval_files()
    every = sorted(dataset_path("dev").parent.glob("*.jsonl"))
    assert files == every, set(every) - set(files)  # planner_*, policy_*, kb_questions: all of them
    assert {f.name.split("_")[0] for f in files} >= {"planner", "policy", "kb"}
    for path in files:  # each split gives questions (a schema change would silently give none)
        assert overlap.eval_questions([path]), path.name


@pytest.mark.parametrize("split", [p.name for p in overlap.eval_files()])
def test_a_planted_eval_question_is_dropped(split):
    """One question of each split, planted with other punctuation and spacing, in every row form."""
    path = dataset_path("dev").parent / split
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    question = next(iter(overlap._questions(record)))
    banned = overlap.eval_questions()
    planted = " " + question.replace("？", "?") + "！"
    keep = {"messages": [{"role": "user", "content": "一个不在评测集里的问题嗯嗯"}]}
    hit = {"question": planted, "history": [], "messages": []}
    earlier = {"question": "那去年呢", "history": [{"question": planted, "plan": {}}], "messages": []}
    answer = {"messages": [{"role": "user", "content": f"问题：{planted}\n工具结果：[]"}]}
    kept, dropped = overlap.drop_collisions([keep, hit, earlier, answer], banned)
    assert kept == [keep] and dropped == 3


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
    # a QA figure, not a filter: the generator and the rules pipeline were written apart, so
    # agreement far below the rules planner's eval score would point at a generator bug
    assert 0.6 <= report["rules_agreement"] <= 1.0
