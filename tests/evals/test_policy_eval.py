"""The policy/fact scorer and the split checkers catch what they are for."""

from __future__ import annotations

import json
from pathlib import Path

from evals.check import PolicyQuestion, check_planner_split, check_policy_split
from evals.policy import POLICY_SPLITS, dataset_path, score_question
from indicators import default_catalog
from serving.assistant.policy_answer import NOT_HELD


def test_facts_are_read_from_the_first_sentences_only() -> None:
    item = PolicyQuestion(
        id="x", question="处方开几天", answerable=True, facts=[["7日", "7天"], ["3日", "3天"]]
    )
    assert score_question(item, "一般不超过7日；急诊不超过3日。[1]\n\n来源：\n[1] 《处方管理办法》", True).ok
    missing = score_question(item, "一般不超过7日。[1]\n\n来源：\n[1] 急诊3日", True)
    assert not missing.ok and missing.missing == [["3日", "3天"]]
    unanswerable = PolicyQuestion(id="y", question="消防检查多久一次", answerable=False)
    assert score_question(unanswerable, f"{NOT_HELD}。最接近的文件：《A》。", False).ok
    assert not score_question(unanswerable, "一般不超过7日。", True).ok


def test_shipped_policy_splits_are_sound() -> None:
    for split in POLICY_SPLITS:
        assert check_policy_split(dataset_path(split)) == [], split


def test_planner_split_checker_lists_each_problem(tmp_path: Path, warehouse) -> None:
    good = {
        "tool": "query_indicator",
        "arguments": {"indicators": ["药占比"], "start": "2023-01-01", "end": "2023-09-08"},
    }
    lines = [
        {"id": "a", "turns": [{"question": "q", "gold": {"calls": [good]}}], "tags": ["class:plain"]},
        {
            "id": "a",
            "turns": [
                {
                    "question": "q",
                    "gold": {
                        "calls": [dict(good, arguments={**good["arguments"], "indicators": ["药品占比"]})]
                    },
                }
            ],
        },
        {
            "id": "b",
            "turns": [
                {
                    "question": "q",
                    "gold": {"calls": [dict(good, arguments={**good["arguments"], "end": "2024-01-01"})]},
                }
            ],
        },
        {"id": "c", "turns": [{"question": "q", "gold": {"calls": [good]}}], "tags": ["class:made_up"]},
    ]
    path = tmp_path / "split.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    problems = check_planner_split(
        path, default_catalog(), warehouse.dimensions, warehouse.as_of, warehouse.data_start
    )
    text = "\n".join(problems)
    assert "id a repeats" in text and "write the catalog name '药占比'" in text
    assert "must lie within" in text and "unknown class tags" in text
