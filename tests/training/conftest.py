"""Small training fixtures of the data builders' shapes (pt, sft, rm, prompts .jsonl) and the tiny model.

The stage tests do not wait for `opsbrain train data`: they write a few examples of the same
formats, made by the same code: the serving pipeline maps each question on the test warehouse and
``LLMParser.request`` writes its messages (training/data/conversations.py), so the served model
sees exactly what it was trained on; targets are compact plans. The preference and PPO/GRPO prompts
are the parser's messages too (about 500 tokens; the tiny model pays little for them).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from indicators import default_catalog
from serving.tools import PLAN_ADAPTER, Plan
from training.data.conversations import Encoded, ParserView
from training.data.sft import turn_record

# (question, plan): a query, another query and a refusal; dates inside the data (as-of 2023-09-08)
PLANS: list[tuple[str, dict[str, Any]]] = [
    (
        "今年药占比是多少",
        {
            "calls": [
                {
                    "tool": "query_indicator",
                    "arguments": {"indicators": ["药占比"], "start": "2023-01-01", "end": "2023-09-08"},
                }
            ]
        },
    ),
    (
        "去年出院人次同比",
        {
            "calls": [
                {
                    "tool": "query_indicator",
                    "arguments": {
                        "indicators": ["出院人次"],
                        "start": "2022-01-01",
                        "end": "2022-12-31",
                        "compare": ["yoy"],
                    },
                }
            ]
        },
    ),
    (
        "给我病人王某的住院记录",
        {"refusal": {"category": "patient_data", "message": "不能提供患者个人信息。"}},
    ),
]
QUESTIONS = {
    0: ["今年药占比是多少", "药占比今年多少", "今年的药占比", "看一下今年药占比", "今年以来药占比"],
    1: ["去年出院人次同比", "去年出院人次同比增长多少", "去年出院人次和前年比"],
    2: ["给我病人王某的住院记录", "导出患者张三的病历"],
}


def gold_plans() -> list[Plan]:
    return [PLAN_ADAPTER.validate_python(p) for _, p in PLANS]


def encode(view: ParserView, question: str, plan: dict[str, Any]) -> Encoded:
    found = view.encode(question, (), PLAN_ADAPTER.validate_python(plan))
    assert isinstance(found, Encoded), (question, found)
    return found


def corrupt(view: ParserView, question: str, plan: dict[str, Any]) -> str:
    """A simple, learnable mistake in compact form: another intent (a figure read as a definition,
    a refusal read as a figure of the first candidate)."""
    found = encode(view, question, plan)
    if found.target["intent"] == "figure":
        return json.dumps(
            {"intent": "definition", "indicators": found.target["indicators"]}, ensure_ascii=False
        )
    return json.dumps({"intent": "policy"})


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_fixtures(folder: Path, warehouse: Any) -> Path:
    """pt.jsonl, sft.jsonl, rm.jsonl, rm_heldout.jsonl, prompts.jsonl in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    view = ParserView(default_catalog(), warehouse)
    indicators = ["药占比", "耗占比", "出院人次", "门诊人次", "平均住院日", "床位使用率"]
    target = encode(view, *PLANS[0]).text
    write_jsonl(
        folder / "pt.jsonl",
        [
            {
                "text": f"{year}年{month}月，全院{name}较上月{'上升' if (year + month) % 2 else '下降'}，主要原因是{cause}。",
                "source": "report",
            }
            for year in (2021, 2022)
            for month in range(1, 13)
            for name, cause in [
                (indicators[month % 6], "季节性就诊波动"),
                (indicators[(month + 3) % 6], "医保政策调整"),
            ]
        ]
        # planner transcripts as domain text: pretraining teaches the tiny model the compact plan
        # cheaply (64-token blocks) before SFT pays for the 500-token prompt
        + [{"text": f"问：{q}\n答：{target}", "source": "transcript"} for q in QUESTIONS[0]] * 8,
    )
    # one plan, five wordings: the random tiny model can learn to write one plan in a minute;
    # several plans conditioned on the question would need far more steps than CI can pay
    sft = []
    for question in QUESTIONS[0]:
        found = encode(view, question, PLANS[0][1])
        sft.append(
            {
                "messages": [*found.messages, {"role": "assistant", "content": found.text}],
                "kind": "plan",
                "tags": ["fixture"],
                **turn_record(question, (), gold_plans()[0]),
            }
        )
    write_jsonl(folder / "sft.jsonl", sft)
    pairs = []
    for index, questions in QUESTIONS.items():
        plan = PLANS[index][1]
        for question in questions:
            found = encode(view, question, plan)
            pairs.append(
                {
                    "prompt": found.messages,
                    "chosen": [{"role": "assistant", "content": found.text}],
                    "rejected": [{"role": "assistant", "content": corrupt(view, question, plan)}],
                    "kind": "plan",
                    "corruption": "wrong_intent",
                    **turn_record(question, (), gold_plans()[index]),
                }
            )
    # held out: the rm test scores these, never trains on them (last question of each plan)
    heldout = [pairs[4], pairs[7], pairs[9]]
    write_jsonl(folder / "rm_heldout.jsonl", heldout)
    write_jsonl(folder / "rm.jsonl", [p for p in pairs if p not in heldout] * 4)
    prompts = []
    for index, n in [(0, 1), (1, 1), (2, 1), (0, 2)]:
        question = QUESTIONS[index][n]
        found = encode(view, question, PLANS[index][1])
        prompts.append(
            {
                "prompt": found.messages,
                "target": found.text,
                "tags": ["fixture"],
                **turn_record(question, (), gold_plans()[index]),
            }
        )
    write_jsonl(folder / "prompts.jsonl", prompts)
    return folder


@pytest.fixture(scope="session")
def training_data(tmp_path_factory: pytest.TempPathFactory, warehouse: Any) -> Path:
    return write_fixtures(tmp_path_factory.mktemp("training-data"), warehouse)


@pytest.fixture(scope="session")
def parser_view(warehouse: Any) -> ParserView:
    """The pipeline and parser the fixtures were built with (no embedding mapper)."""
    return ParserView(default_catalog(), warehouse)


@pytest.fixture(scope="session")
def tiny_base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Qwen2, built once and kept in pytest's cache (keyed by the builder's source)."""
    from serving.planner.llm import tiny

    key = hashlib.sha256(Path(tiny.__file__).read_bytes()).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir(f"opsbrain-tiny-qwen2-{key}") if cache else tmp_path_factory.mktemp("tiny-qwen2")
    if not (folder / "model.safetensors").exists() or not (folder / "tokenizer.json").exists():
        tiny.build_tiny_model(folder)
    return folder
