"""A chat request's scope: the web UI's filter bar (period, 院区, 科室, 医生) laid over the plan.

The planner reads the question; the scope then replaces the period and those filters in every
indicator query of the plan, so "re-run the last question for 东院区 in Q2" needs no rewording and
no second parse. A field left out keeps what the question said; an empty list removes that filter.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indicators import IndicatorQuery
from serving.tools import Plan

_NAMES = Field(None, max_length=20, description="names or codes; [] removes the filter")


class ChatScope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = Field(None, description="统计期开始日期（含）")
    end: date | None = Field(None, description="统计期结束日期（含）")
    campus: list[str] | None = _NAMES
    department: list[str] | None = _NAMES
    doctor: list[str] | None = _NAMES

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"统计期开始日期 {self.start} 晚于结束日期 {self.end}")
        return self

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def apply(self, plan: Plan) -> Plan:
        """A copy of ``plan`` whose indicator queries (and a pending clarification's) use this scope."""
        if self.is_empty():
            return plan
        plan = plan.model_copy(deep=True)
        for call in plan.indicator_calls:
            call.arguments = self._narrow(call.arguments)
        if plan.clarification and plan.clarification.pending:
            plan.clarification.pending = self._narrow(plan.clarification.pending)
        return plan

    def _narrow(self, query: IndicatorQuery) -> IndicatorQuery:
        filters = query.filters.model_dump() | self.model_dump(
            include={"campus", "department", "doctor"}, exclude_none=True
        )
        start, end = self.start or query.start, self.end or query.end
        if start > end:  # only one end given, and it crosses the question's period: keep a valid period
            start, end = (start, start) if self.start else (end, end)
        # through the model again: the query's own validators (names, duplicates) see the new values
        return IndicatorQuery.model_validate(
            {**query.model_dump(), "filters": filters, "start": start, "end": end}
        )
