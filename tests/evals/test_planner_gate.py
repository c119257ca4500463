"""A fast gate on the planner: plan exact match of the rules path on every development split.

The rules path plans a question in milliseconds, so the whole of each split runs in CI and a change
that breaks how questions are read fails here. The floors are the scores measured when they were
set (README, issue #13), less one or two turns of slack; held-out splits are not gated here, they
are only ever scored (``opsbrain eval planner``).
"""

from __future__ import annotations

import pytest

from evals.planner import dataset_path, load_items, plan_matches
from indicators import Warehouse, default_catalog
from serving.planner.rules import RulesPlanner

FLOORS = {"dev": 0.99, "dev2": 0.99, "dev3": 0.98, "dev4": 0.92}


@pytest.fixture(scope="module")
def planner(warehouse: Warehouse) -> RulesPlanner:
    return RulesPlanner(default_catalog(), warehouse.dimensions, warehouse.as_of, warehouse.data_start)


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_rules_plan_exact_match_holds_on_the_dev_splits(planner: RulesPlanner, split: str) -> None:
    found = plan_matches(planner, load_items(dataset_path(split)))
    exact = sum(ok for *_, ok in found) / len(found)
    misses = [f"{item}#{turn}" for item, turn, ok in found if not ok]
    assert exact >= FLOORS[split], (
        f"{split}: plan exact match {exact:.3f} < {FLOORS[split]}; misses {misses[:20]}"
    )
