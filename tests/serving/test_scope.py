"""ChatScope: the filter bar's period and filters laid over a plan."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from indicators import IndicatorQuery
from serving.assistant.scope import ChatScope
from serving.tools import Clarification, Plan, QueryIndicatorCall, SearchPolicyCall

QUERY = IndicatorQuery(
    indicators=["药占比"],
    start=date(2023, 1, 1),
    end=date(2023, 9, 8),
    filters={"campus": ["本部"], "department": ["儿科"]},
    compare=["yoy"],
)


def _plan() -> Plan:
    return Plan(
        calls=[QueryIndicatorCall(arguments=QUERY), SearchPolicyCall(arguments={"query": "药占比"})],
    )


def test_fields_given_replace_fields_left_out_keep() -> None:
    scoped = ChatScope(start=date(2023, 4, 1), end=date(2023, 6, 30), campus=["东院区"]).apply(_plan())
    query = scoped.indicator_calls[0].arguments
    assert (query.start, query.end) == (date(2023, 4, 1), date(2023, 6, 30))
    assert query.filters.campus == ["东院区"] and query.filters.department == ["儿科"]
    assert query.compare == ["yoy"] and query.indicators == ["药占比"]
    assert scoped.calls[1] == _plan().calls[1]  # a policy search has no period or filters to scope


def test_empty_list_removes_a_filter_and_the_plan_is_not_changed_in_place() -> None:
    plan = _plan()
    scoped = ChatScope(department=[]).apply(plan)
    assert scoped.indicator_calls[0].arguments.filters.department == []
    assert plan.indicator_calls[0].arguments.filters.department == ["儿科"]
    assert ChatScope().apply(plan) is plan


def test_pending_clarification_is_scoped_too() -> None:
    plan = Plan(clarification=Clarification(slot="indicator", question="哪一个？", pending=QUERY))
    assert ChatScope(doctor=["韦云燕"]).apply(plan).clarification.pending.filters.doctor == ["韦云燕"]


def test_one_end_crossing_the_question_period_still_gives_a_valid_period() -> None:
    query = ChatScope(start=date(2023, 10, 1)).apply(_plan()).indicator_calls[0].arguments
    assert query.start <= query.end


@pytest.mark.parametrize(
    "fields",
    [
        {"start": date(2023, 6, 30), "end": date(2023, 1, 1)},
        {"campus": ["x"] * 21},
        {"insurance": ["自费"]},  # not a filter-bar field: say so rather than ignore it
    ],
)
def test_bad_scopes_are_refused(fields: dict) -> None:
    with pytest.raises(ValidationError):
        ChatScope(**fields)
