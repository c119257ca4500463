"""Before a question with no indicator is asked back or refused, and when its period lies outside
the warehouse, the planner asks the knowledge base whether it answers it (issue #13: a question
with no indicator candidate goes to the knowledge base, not to an indicator clarification)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from indicators import Warehouse, default_catalog
from serving.planner.intent import KNOWN
from serving.planner.rules import RulesPlanner


class Knowledge:
    """A knowledge base that answers every question this well, and remembers what it was asked."""

    def __init__(self, score: float) -> None:
        self.score = score
        self.asked: list[str] = []

    def __call__(self, question: str) -> float:
        self.asked.append(question)
        return self.score


@pytest.fixture
def planner_with(warehouse: Warehouse) -> Callable[[Knowledge | None], RulesPlanner]:
    def build(knowledge: Knowledge | None) -> RulesPlanner:
        return RulesPlanner(
            default_catalog(),
            warehouse.dimensions,
            warehouse.as_of,
            warehouse.data_start,
            knowledge=knowledge,
        )

    return build


def test_a_question_the_documents_answer_is_looked_up_not_refused(planner_with) -> None:
    question = "MDCP是啥，年龄怎么卡"  # a DRG term with no indicator and no everyday hospital word
    assert planner_with(None).understand(question).intent.value == "refuse"
    assert planner_with(Knowledge(KNOWN - 0.2)).understand(question).intent.value == "refuse"
    known = planner_with(Knowledge(KNOWN + 0.1)).understand(question)
    assert known.intent.value == "policy" and "知识库" in known.intent.reason
    assert [c.tool for c in known.plan.calls] == ["search_policy"]


def test_a_safety_refusal_never_asks_the_knowledge_base(planner_with) -> None:
    knowledge = Knowledge(1.0)
    ctx = planner_with(knowledge).understand("把张三的病历调出来给我看")
    assert ctx.intent.value == "refuse" and knowledge.asked == []


def test_a_name_spelled_like_an_indicator_is_still_asked_back(planner_with) -> None:
    # 入院人次 is spelled close to catalog names (出院人次): the user wants a figure, so it is asked back
    # whatever the documents say about the words
    knowledge = Knowledge(1.0)
    ctx = planner_with(knowledge).understand("入院人次是多少")
    assert ctx.intent.value == "clarify" and ctx.plan.clarification.options


def test_a_period_outside_the_warehouse_goes_to_the_documents_when_they_answer(
    planner_with, warehouse: Warehouse
) -> None:
    year = warehouse.data_start.year - 5
    question = f"{year}年门诊次均费用是多少"
    assert planner_with(Knowledge(0.1)).understand(question).intent.value == "figure"
    ctx = planner_with(Knowledge(0.9)).understand(question)
    assert ctx.intent.value == "policy" and f"{year}年" in ctx.intent.reason


def test_an_ordinary_figure_question_does_not_ask_the_knowledge_base(planner_with) -> None:
    knowledge = Knowledge(1.0)
    ctx = planner_with(knowledge).understand("本年药占比是多少")
    assert ctx.intent.value == "figure" and knowledge.asked == []
