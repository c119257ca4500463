"""The planner question sets are well-formed and the scorer's slots see what differs."""

from evals.planner import DEV_SPLITS, SPLITS, dataset_path, load_items, slots
from serving.tools import Plan


def test_sizes_and_split() -> None:
    items = {s: load_items(dataset_path(s)) for s in SPLITS}
    assert sum(len(v) for v in items.values()) >= 300
    assert sum(1 for v in items.values() for i in v if len(i.turns) > 1) >= 40
    dev_questions = {t.question for s in DEV_SPLITS for i in items[s] for t in i.turns}
    heldout_questions = {t.question for i in items["heldout"] for t in i.turns}
    # written separately; short follow-ups (同比呢, 按科室看) and terse questions coincide now and then
    assert len(dev_questions & heldout_questions) <= len(heldout_questions) // 10


def test_slots_tell_plans_apart() -> None:
    a = Plan.model_validate(
        {
            "calls": [
                {
                    "tool": "query_indicator",
                    "arguments": {"indicators": ["药占比"], "start": "2023-01-01", "end": "2023-09-08"},
                }
            ]
        }
    )
    b = Plan.model_validate(
        {
            "calls": [
                {
                    "tool": "query_indicator",
                    "arguments": {
                        "indicators": ["药占比"],
                        "start": "2023-01-01",
                        "end": "2023-09-08",
                        "compare": ["yoy"],
                    },
                }
            ]
        }
    )
    assert slots(a) != slots(b) and slots(b) - slots(a) == {("compare", "yoy")}
