"""The verifiable reward of stage `grpo`: parse the model's plan and score it against the gold plan.

- not a plan (no JSON, invalid JSON, schema errors): ``INVALID`` (-1), the lowest reward;
- a valid plan: slot F1 against the gold plan (``evals.planner.slots``, the planner eval's own
  slots), in [0, 1];
- plus ``EXACT_BONUS`` when every slot matches;
- plus ``EXECUTION_BONUS`` when a warehouse is given and both plans' indicator queries return the
  same rows (as the eval's execution match: a different but equivalent plan still earns it).

No model judges anything: the numbers come from the parser, the schema and the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from evals.planner import slots
from serving.planner.llm.prompt import PlanParseError, parse_plan
from serving.tools import PLAN_ADAPTER, Plan

INVALID = -1.0
EXACT_BONUS = 0.5
EXECUTION_BONUS = 0.5


def plan_reward(completion: str, gold: Plan, warehouse: Any | None = None) -> float:
    try:
        predicted = parse_plan(completion)
    except PlanParseError:
        return INVALID
    want, got = slots(gold), slots(predicted)
    tp = len(want & got)
    f1 = 2 * tp / (len(want) + len(got)) if want or got else 1.0
    reward = f1 + (EXACT_BONUS if want == got else 0.0)
    if warehouse is not None and gold.indicator_calls:
        reward += EXECUTION_BONUS if _same_results(warehouse, gold, predicted) else 0.0
    return reward


def _same_results(warehouse: Any, gold: Plan, predicted: Plan) -> bool:
    from indicators import IndicatorError

    try:
        want = [warehouse.query(c.arguments).model_dump(mode="json") for c in gold.indicator_calls]
        got = [warehouse.query(c.arguments).model_dump(mode="json") for c in predicted.indicator_calls]
    except (IndicatorError, ValueError):
        return False
    return _rows(want) == _rows(got)


def _rows(results: list[dict[str, Any]]) -> list:
    # compare values only: the query echo (names, periods as written) may differ for equal answers
    return [[(r.get("code"), r.get("rows")) for r in q.get("results", [])] for q in results]


def grpo_reward_function(warehouse: Any | None = None) -> Callable[..., list[float]]:
    """A trl GRPO reward function; the dataset's ``gold`` column holds the gold plan as JSON text."""

    def plan_reward_fn(completions: list[Any], gold: list[str], **_: Any) -> list[float]:
        return [
            plan_reward(_text(c), PLAN_ADAPTER.validate_python(json.loads(g)), warehouse)
            for c, g in zip(completions, gold, strict=True)
        ]

    plan_reward_fn.__name__ = "plan_reward"  # the name trl logs the reward under
    return plan_reward_fn


def _text(completion: Any) -> str:
    if isinstance(completion, list):  # conversational completions: the assistant message
        return completion[-1]["content"]
    return str(completion)
