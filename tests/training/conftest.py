"""Small training fixtures of the data builders' shapes (pt, sft, rm, prompts .jsonl) and the tiny model.

The stage tests do not wait for `opsbrain train data`: they write a few examples of the same
formats. SFT examples use the planner's real prompt (PromptBuilder, as LLMPlanner builds it) so the
served model sees what it was trained on; the preference and PPO/GRPO prompts use a short system
prompt so the reward/policy steps stay cheap on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from indicators import default_catalog
from serving.planner.llm.prompt import PromptBuilder, plan_to_text
from serving.tools import PLAN_ADAPTER, Plan
from tests.serving.llm_fixtures import AS_OF, DATA_START, small_dimensions

SHORT_SYSTEM = "把问题转换成一个 JSON 计划。"

# (question, plan): a query, a clarification and a refusal; dates inside the data (AS_OF 2023-09-08)
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
    0: ["今年药占比是多少", "药占比今年多少", "今年的药占比", "看一下今年药占比", "药占比现在是多少"],
    1: ["去年出院人次同比", "去年出院人次同比增长多少", "去年出院人次和前年比"],
    2: ["给我病人王某的住院记录", "导出患者张三的病历"],
}


def plan_text(plan: dict[str, Any]) -> str:
    return plan_to_text(PLAN_ADAPTER.validate_python(plan))


def prompt_builder() -> PromptBuilder:
    dims = small_dimensions()
    names = {d: [m.name for m in ms] for d, ms in dims.members.items() if d != "doctor"}
    return PromptBuilder(default_catalog(), AS_OF, DATA_START, names)


def corrupt(plan: dict[str, Any]) -> str:
    """A simple, learnable mistake: a broken plan (truncated JSON) or a wrong indicator and year."""
    text = plan_text(plan)
    if "calls" in plan:
        return (
            text.replace("药占比", "门诊人次")
            .replace("出院人次", "床位使用率")
            .replace("2023-", "2031-")
            .replace("2022-", "2030-")
        )
    return text[: len(text) // 2]


def short_prompt(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SHORT_SYSTEM}, {"role": "user", "content": question}]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_fixtures(folder: Path) -> Path:
    """pt.jsonl, sft.jsonl, rm.jsonl, rm_heldout.jsonl, prompts.jsonl in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    builder = prompt_builder()
    indicators = ["药占比", "耗占比", "出院人次", "门诊人次", "平均住院日", "床位使用率"]
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
        # planner transcripts as domain text: pretraining teaches the tiny model the plan JSON cheaply
        # (64-token blocks) before SFT pays for the 2,500-token prompt
        + [{"text": f"问：{q}\n答：{plan_text(PLANS[0][1])}", "source": "transcript"} for q in QUESTIONS[0]]
        * 8,
    )
    # one plan, five wordings: the random tiny model can learn to write one plan in a minute;
    # several plans conditioned on the question would need far more steps than CI can pay
    sft = []
    for index, questions in list(QUESTIONS.items())[:1]:
        for question in questions:
            sft.append(
                {
                    "messages": [
                        *builder.messages(question),
                        {"role": "assistant", "content": plan_text(PLANS[index][1])},
                    ],
                    "kind": "plan",
                    "tags": ["fixture"],
                }
            )
    write_jsonl(folder / "sft.jsonl", sft)
    pairs = []
    for index, questions in QUESTIONS.items():
        plan = PLANS[index][1]
        for question in questions:
            pairs.append(
                {
                    "prompt": short_prompt(question),
                    "chosen": [{"role": "assistant", "content": plan_text(plan)}],
                    "rejected": [{"role": "assistant", "content": corrupt(plan)}],
                    "kind": "plan",
                    "corruption": "wrong_indicator" if "calls" in plan else "truncated",
                }
            )
    # held out: the rm test scores these, never trains on them (last question of each plan)
    heldout = [pairs[4], pairs[7], pairs[9]]
    write_jsonl(folder / "rm_heldout.jsonl", heldout)
    write_jsonl(folder / "rm.jsonl", [p for p in pairs if p not in heldout] * 4)
    write_jsonl(
        folder / "prompts.jsonl",
        [
            {"prompt": short_prompt(q), "gold": plan, "tags": ["fixture"]}
            for q, plan in [
                (QUESTIONS[0][1], PLANS[0][1]),
                (QUESTIONS[1][1], PLANS[1][1]),
                (QUESTIONS[2][1], PLANS[2][1]),
                (QUESTIONS[0][2], PLANS[0][1]),
            ]
        ],
    )
    return folder


def gold_plans() -> list[Plan]:
    return [PLAN_ADAPTER.validate_python(p) for _, p in PLANS]


@pytest.fixture(scope="session")
def training_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixtures(tmp_path_factory.mktemp("training-data"))


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
