"""The verifiable reward of stage `grpo`: decode the model's compact plan and score it against the gold.

A completion is the compact JSON the LLM parser decodes (serving/planner/llm/compact.py). The
question is mapped again by the serving pipeline (training/data/conversations.py, cached per
prompt), so the completion is decoded exactly as the server would decode it:

- not a plan for the question (no JSON object, a name or reference not among its choices):
  ``INVALID`` (-1), the lowest reward;
- a plan: slot F1 against the gold plan (``evals.planner.slots``, the planner eval's own slots),
  in [0, 1];
- plus ``EXACT_BONUS`` when every slot matches;
- plus ``EXECUTION_BONUS`` when a warehouse is given and both plans' indicator queries return the
  same rows (as the eval's execution match: a different but equivalent plan still earns it).

No model judges anything: the numbers come from the decoder, the slots and the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from evals.planner import slots
from serving.planner.llm import compact
from serving.planner.llm.parser import compact_object
from serving.tools import PLAN_ADAPTER, Plan, Turn
from training.data.conversations import ParserView

INVALID = -1.0
EXACT_BONUS = 0.5
EXECUTION_BONUS = 0.5


def plan_reward(predicted: Plan | None, gold: Plan, warehouse: Any | None = None) -> float:
    """The reward of a decoded plan (None: the completion was no plan for the question)."""
    if predicted is None:
        return INVALID
    want, got = slots(gold), slots(predicted)
    tp = len(want & got)
    f1 = 2 * tp / (len(want) + len(got)) if want or got else 1.0
    reward = f1 + (EXACT_BONUS if want == got else 0.0)
    if warehouse is not None and gold.indicator_calls:
        reward += EXECUTION_BONUS if _same_results(warehouse, gold, predicted) else 0.0
    return reward


class CompactDecoder:
    """Decodes completions for a question the way the server does, the question mapped once."""

    def __init__(self, view: ParserView) -> None:
        self.view = view
        self._mapped: dict[str, tuple[Any, Any, compact.Choices]] = {}

    def plan(self, completion: str, question: str, history: list[Turn]) -> Plan | None:
        key = json.dumps([question, [t.model_dump(mode="json") for t in history]], ensure_ascii=False)
        if key not in self._mapped:
            ctx, reading = self.view.pipeline.prepare(question, history)
            _, _, choices = self.view.parser.request(ctx)
            self._mapped[key] = (ctx, reading, choices)
        ctx, reading, choices = self._mapped[key]
        try:
            return compact.decode(
                compact_object(completion), ctx, reading, self.view.pipeline.intents, choices
            )
        except (ValueError, compact.CompactPlanError):  # JSONDecodeError is a ValueError
            return None

    def reward(
        self, completion: str, question: str, history: list[Turn], gold: Plan, warehouse: Any | None = None
    ) -> float:
        return plan_reward(self.plan(completion, question, history), gold, warehouse)


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


def grpo_reward_function(decoder: CompactDecoder, warehouse: Any | None = None) -> Callable[..., list[float]]:
    """A trl GRPO reward function. The dataset's ``gold`` and ``history`` columns hold JSON text
    (plans have different keys, which Arrow columns cannot hold), ``question`` the question."""

    def plan_reward_fn(
        completions: list[Any], gold: list[str], question: list[str], history: list[str], **_: Any
    ) -> list[float]:
        return [
            decoder.reward(_text(c), q, _history(h), PLAN_ADAPTER.validate_python(json.loads(g)), warehouse)
            for c, g, q, h in zip(completions, gold, question, history, strict=True)
        ]

    plan_reward_fn.__name__ = "plan_reward"  # the name trl logs the reward under
    return plan_reward_fn


def _history(text: str) -> list[Turn]:
    return [
        Turn(question=t["question"], plan=PLAN_ADAPTER.validate_python(t["plan"])) for t in json.loads(text)
    ]


def _text(completion: Any) -> str:
    if isinstance(completion, list):  # conversational completions: the assistant message
        return completion[-1]["content"]
    return str(completion)
