"""Run a plan's tool calls against the indicator API and the policy knowledge base."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from indicators import Catalog, IndicatorError, QueryResult, Warehouse
from retrieval import Citation, KnowledgeBase
from serving.tools import (
    ExplainIndicatorCall,
    ListDimensionValuesCall,
    ListIndicatorsCall,
    QueryIndicatorCall,
    SearchPolicyCall,
    ToolCall,
)


class ToolResult(BaseModel):
    tool: str
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

    def run(self, calls: list[ToolCall]) -> list[ToolResult]:
        return [self._run(call) for call in calls]

    def _run(self, call: ToolCall) -> ToolResult:
        started = time.perf_counter()
        try:
            result = self._dispatch(call)
        except IndicatorError as exc:
            result = ToolResult(tool=call.tool, ok=False, error=exc.to_dict())
        result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    def _dispatch(self, call: ToolCall) -> ToolResult:
        if isinstance(call, QueryIndicatorCall):
            return ToolResult(tool=call.tool, ok=True, query=self.warehouse.query(call.arguments))
        if isinstance(call, SearchPolicyCall):
            if self.kb is None:
                return ToolResult(
                    tool=call.tool, ok=False, error={"message": "政策知识库未启用", "type": "unavailable"}
                )
            hits = self.kb.search(
                call.arguments.query, k=call.arguments.k, filters=call.arguments.filters
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
            names = [m.name for m in members if call.arguments.query in m.name]
            return ToolResult(
                tool=call.tool, ok=True, data={"dimension": call.arguments.dimension, "values": names}
            )
        raise AssertionError(f"unknown tool {call.tool}")  # the ToolCall union makes this unreachable
