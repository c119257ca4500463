"""Run a plan's tool calls against the indicator API and the policy knowledge base.

Besides what the plan asks, a figure gets its context: the same indicator year by year (for the
chart) and what the regulations say about it (for the citations and a target comparison). These
extra results are marked ``role="context"`` so that scorers and clients can tell them from the plan's.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from indicators import Catalog, IndicatorError, QueryResult, Warehouse
from retrieval import Citation, KnowledgeBase
from retrieval.models import SearchMode
from serving.assistant.caller import EVERYONE, Caller
from serving.tools import (
    ExplainIndicatorCall,
    ListDimensionValuesCall,
    ListIndicatorsCall,
    QueryIndicatorCall,
    SearchPolicyArgs,
    SearchPolicyCall,
    ToolCall,
)


class ToolResult(BaseModel):
    tool: str
    role: Literal["plan", "context"] = Field(
        "plan", description="plan: a call of the plan; context: added by the assistant around a figure"
    )
    ok: bool
    query: QueryResult | None = None
    citations: list[Citation] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict, description="explain/list results")
    error: dict[str, Any] | None = None
    elapsed_ms: float = 0.0


class Executor:
    def __init__(self, warehouse: Warehouse, catalog: Catalog, kb: KnowledgeBase | None) -> None:
        self.warehouse = warehouse
        self.catalog = catalog
        self.kb = kb

    def run(self, calls: list[ToolCall], context: bool = True, caller: Caller = EVERYONE) -> list[ToolResult]:
        """Run the calls for ``caller``: figures within their data scope, documents they may read."""
        results = [self._run(call, caller) for call in calls]
        if context:
            for call in self.context_calls(calls, results):
                # BM25 alone for context: as good on this corpus (README, knowledge-base benchmark) and ~50x faster
                results.append(self._run(call, caller, "bm25").model_copy(update={"role": "context"}))
        return results

    def context_calls(self, calls: list[ToolCall], results: list[ToolResult]) -> list[ToolCall]:
        """A yearly trend behind a single figure, and a policy search when the plan has none."""
        figures = [
            c.arguments
            for c, r in zip(calls, results, strict=False)
            if isinstance(c, QueryIndicatorCall) and r.ok and not c.arguments.group_by
        ]
        extra: list[ToolCall] = []
        for query in figures:
            # the figure in the 口径 the policy targets use, when the asked one has no target itself
            variants = [self.catalog.get(n) for n in query.indicators]
            variants = [
                self.catalog.indicators[i.policy_caliber].name
                for i in variants
                if i.policy_caliber and not i.targets
            ]
            if variants:
                same = query.model_copy(update={"indicators": variants, "compare": [], "version": None})
                extra.append(QueryIndicatorCall(arguments=same))
            since = self.warehouse.data_start
            if query.end.year > since.year:  # one year alone is no trend
                trend = query.model_copy(
                    update={"start": since, "group_by": ["year"], "compare": [], "rank": None}
                )
                extra.append(QueryIndicatorCall(arguments=trend))
        asked = [n for c in calls if isinstance(c, QueryIndicatorCall) for n in c.arguments.indicators]
        if asked and self.kb is not None and not any(isinstance(c, SearchPolicyCall) for c in calls):
            names = " ".join(dict.fromkeys(self.catalog.get(n).name for n in asked))
            extra.append(SearchPolicyCall(arguments=SearchPolicyArgs(query=f"{names} 目标 要求", k=3)))
        return extra

    def _run(self, call: ToolCall, caller: Caller, search_mode: SearchMode = "hybrid") -> ToolResult:
        started = time.perf_counter()
        try:
            result = self._dispatch(call, caller, search_mode)
        except IndicatorError as exc:
            result = ToolResult(tool=call.tool, ok=False, error=exc.to_dict())
        result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    def _dispatch(self, call: ToolCall, caller: Caller, search_mode: SearchMode) -> ToolResult:
        if isinstance(call, QueryIndicatorCall):
            query = self.warehouse.query(call.arguments, caller.access)
            return ToolResult(tool=call.tool, ok=True, query=query)
        if isinstance(call, SearchPolicyCall):
            if self.kb is None:
                return ToolResult(
                    tool=call.tool, ok=False, error={"message": "政策知识库未启用", "type": "unavailable"}
                )
            filters = call.arguments.filters
            if not caller.internal_documents:  # the hospital's own documents are not for every role
                if filters.scope == "internal":
                    return ToolResult(tool=call.tool, ok=True, citations=[])
                filters = filters.model_copy(update={"scope": "external"})
            hits = self.kb.search(
                call.arguments.query, k=call.arguments.k, mode=search_mode, filters=filters
            ).hits
            return ToolResult(tool=call.tool, ok=True, citations=hits)
        if isinstance(call, ExplainIndicatorCall):
            ind = self.catalog.get(call.arguments.indicator)
            active = ind.status != "not_available"
            data = {
                "indicator": ind.model_dump(mode="json"),
                "lineage": self.catalog.lineage_of(ind) if active else {},
            }
            return ToolResult(tool=call.tool, ok=True, data=data)
        if isinstance(call, ListIndicatorsCall):
            found = self.catalog.search(call.arguments.query, call.arguments.system)
            items = [
                {"name": i.name, "unit": i.unit, "status": i.status, "systems": i.systems} for i in found
            ]
            return ToolResult(tool=call.tool, ok=True, data={"indicators": items})
        if isinstance(call, ListDimensionValuesCall):
            members = self.warehouse.dimensions.members.get(call.arguments.dimension, [])
            names = [
                m.name
                for m in members
                if call.arguments.query in m.name and caller.access.allows_member(call.arguments.dimension, m)
            ]
            return ToolResult(
                tool=call.tool, ok=True, data={"dimension": call.arguments.dimension, "values": names}
            )
        raise AssertionError(f"unknown tool {call.tool}")  # the ToolCall union makes this unreachable
