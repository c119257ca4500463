"""The generator's item and the small plan-building helpers its parts share.

``explain`` and ``policy`` are the rules parser's own call builders (serving/planner/parsers/rules.py),
so a gold plan names its tools exactly as the served planner does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indicators import IndicatorQuery
from serving.planner.parsers.rules import explain_calls, policy_call
from serving.tools import ExplainIndicatorCall, Plan, SearchPolicyCall, Turn


@dataclass(frozen=True)
class Item:
    question: str
    plan: Plan
    history: tuple[Turn, ...] = ()
    tags: tuple[str, ...] = ()
    category: str = ""

    @property
    def questions(self) -> list[str]:
        return [t.question for t in self.history] + [self.question]


@dataclass
class Scope:
    """Who a figure is about: the words in the question and the filters of the plan."""

    text: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    dimension: str = ""  # the dimension the filter uses ("" = the whole hospital)


def copy_query(q: IndicatorQuery, **update: Any) -> IndicatorQuery:
    """The query with some arguments changed, validated again."""
    return IndicatorQuery.model_validate({**q.model_dump(), **update})


def explain(name: str) -> ExplainIndicatorCall:
    return explain_calls([name])[0]


def policy(query: str) -> SearchPolicyCall:
    return policy_call(query)
