"""Preference pairs: a correct plan (or answer) against one realistic mistake, tagged by kind.

The mistakes are the ones a planner makes in practice: a neighbouring period, a sibling indicator
(same unit, similar name), another department, a dropped 同比, a dropped policy search. For answers:
a figure changed by a few per cent (an invented number: ``check_numbers`` must reject it) and the
citation paragraph left out. A pair is kept only when the corruption really changes the plan's
slots (or the answer's text), so the reward model never learns to separate equal things.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from evals.planner import slots
from indicators import Catalog, Indicator, IndicatorQuery
from serving.assistant.composer import _NUMBER, UnsupportedNumberError, check_numbers
from serving.assistant.executor import ToolResult
from serving.planner.llm.prompt import PromptBuilder, plan_to_text
from serving.tools import Plan, QueryIndicatorCall, SearchPolicyCall
from training.data.periods import Period
from training.data.questions import Item

PLAN_CORRUPTIONS = (
    "wrong_period",
    "wrong_indicator",
    "wrong_department",
    "missing_comparison",
    "missing_policy",
)
ANSWER_CORRUPTIONS = ("invented_number", "missing_citation")
POLICY_HEADING = "相关政策与文件："


class PlanCorrupter:
    def __init__(
        self, catalog: Catalog, departments: list[str], periods: list[Period], rng: random.Random
    ) -> None:
        self.catalog = catalog
        self.departments = departments
        self.periods = [p for p in periods if not p.group_by]
        self.rng = rng
        self.active = [i for i in catalog.indicators.values() if i.status == "active"]

    def applicable(self, plan: Plan) -> list[str]:
        queries = [c.arguments for c in plan.indicator_calls]
        kinds = []
        if queries:
            kinds += ["wrong_period", "wrong_indicator"]
            if any(q.filters.department for q in queries):
                kinds.append("wrong_department")
            if any(q.compare for q in queries):
                kinds.append("missing_comparison")
        if queries and any(isinstance(c, SearchPolicyCall) for c in plan.calls):
            kinds.append("missing_policy")
        return kinds

    def corrupt(self, plan: Plan, kind: str) -> Plan | None:
        """The plan with one mistake of ``kind``, or None when it would not change the slots."""
        if kind == "missing_policy":
            wrong = Plan(calls=[c for c in plan.calls if not isinstance(c, SearchPolicyCall)])
        else:
            change: Callable[[IndicatorQuery], dict[str, Any]] = getattr(self, f"_{kind}")
            first = next(i for i, c in enumerate(plan.calls) if isinstance(c, QueryIndicatorCall))
            args = plan.calls[first].arguments
            update = change(args)
            if not update:
                return None
            calls = list(plan.calls)
            calls[first] = QueryIndicatorCall(
                arguments=IndicatorQuery.model_validate({**args.model_dump(), **update})
            )
            wrong = Plan(calls=calls)
        return wrong if slots(wrong) != slots(plan) else None

    def _wrong_period(self, q: IndicatorQuery) -> dict[str, Any]:
        others = [p for p in self.periods if (p.start, p.end) != (q.start, q.end)]
        p = self.rng.choice(others)
        return {"start": p.start, "end": p.end}

    def _wrong_indicator(self, q: IndicatorQuery) -> dict[str, Any]:
        current = self.catalog.get(q.indicators[0])
        sibling = sibling_of(current, self.active, self.rng)
        if sibling is None or sibling.name in q.indicators:
            return {}
        return {"indicators": [sibling.name, *q.indicators[1:]]}

    def _wrong_department(self, q: IndicatorQuery) -> dict[str, Any]:
        if not q.filters.department:
            return {}
        other = self.rng.choice([d for d in self.departments if d not in q.filters.department])
        return {"filters": {**q.filters.model_dump(), "department": [other]}}

    def _missing_comparison(self, q: IndicatorQuery) -> dict[str, Any]:
        return {"compare": []} if q.compare else {}


def sibling_of(ind: Indicator, pool: list[Indicator], rng: random.Random) -> Indicator | None:
    """An indicator easily confused with ``ind``: same unit, sharing most characters of the name."""
    same_unit = [i for i in pool if i.unit == ind.unit and i.code != ind.code]
    if not same_unit:
        return None
    shared = sorted(same_unit, key=lambda i: -len(set(i.name) & set(ind.name)))
    return rng.choice(shared[:3])


def plan_pair(builder: PromptBuilder, item: Item, wrong: Plan, kind: str) -> dict[str, Any]:
    return {
        "prompt": builder.messages(item.question, item.history),
        "chosen": [{"role": "assistant", "content": plan_to_text(item.plan)}],
        "rejected": [{"role": "assistant", "content": plan_to_text(wrong)}],
        "kind": "plan",
        "corruption": kind,
    }


def corrupt_answer(text: str, results: list[ToolResult], kind: str, rng: random.Random) -> str | None:
    """The answer with one figure changed, or without its citation paragraph; None if not possible."""
    if kind == "missing_citation":
        if POLICY_HEADING not in text:
            return None
        return "\n\n".join(p for p in text.split("\n\n") if not p.startswith(POLICY_HEADING)).strip() or None
    # invented_number: a figure of the answer's first paragraph (not a date, not a version) nudged
    head = text.split("\n\n")[0]
    spans = [
        m
        for m in _NUMBER.finditer(head)
        if "." in m.group() and not re.match(r"\d{4}-", head[m.start() : m.start() + 5])
    ]
    if not spans:
        return None
    m = rng.choice(spans)
    value = float(m.group().replace(",", ""))
    decimals = len(m.group().split(".")[1])
    factor = rng.choice([0.87, 0.93, 1.06, 1.12, 1.25])
    new = f"{value * factor:,.{decimals}f}" if "," in m.group() else f"{value * factor:.{decimals}f}"
    wrong = text.replace(head, head[: m.start()] + new + head[m.end() :], 1)
    try:
        check_numbers(wrong, results)
    except UnsupportedNumberError:
        return wrong  # the invented figure is one no tool gave: a real hallucination
    return None


def answer_pair(prompt: list[dict[str, str]], chosen: str, wrong: str, kind: str) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": wrong}],
        "kind": "answer",
        "corruption": kind,
    }
