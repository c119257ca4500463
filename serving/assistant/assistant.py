"""The assistant: plan the question, run the tools, compose a checked answer; timings per stage."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, Field

from retrieval import Citation
from serving.assistant.composer import Answer, UnsupportedNumberError, compose
from serving.assistant.executor import Executor, ToolResult
from serving.tools import Plan, Turn

log = logging.getLogger("opsbrain.assistant")
MAX_QUESTION_CHARS = 500
WITHHELD_ANSWER = "答案校验未通过（出现了工具结果之外的数字），已拦截。请查看下方的计算结果与引用。"


class InvalidQuestionError(ValueError):
    """Empty or oversized question: the message says what is accepted."""


class Planner(Protocol):
    name: str

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan: ...


class AssistantResponse(BaseModel):
    question: str
    answer: str
    plan: Plan
    tool_results: list[ToolResult]
    citations: list[Citation]
    chart: dict[str, Any] | None = None
    table: dict[str, Any] | None = None
    as_of: date
    planner: str
    timings_ms: dict[str, float] = Field(description="plan, execute, compose")


class Assistant:
    def __init__(self, planner: Planner, executor: Executor, as_of: date) -> None:
        self.planner = planner
        self.executor = executor
        self.as_of = as_of

    def ask(self, question: str, history: Sequence[Turn] = ()) -> AssistantResponse:
        question = question.strip()
        if not question:
            raise InvalidQuestionError("问题为空：请输入一个问题，例如“医院本年药占比是多少？包括同比”")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidQuestionError(
                f"问题过长（{len(question)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内"
            )
        timings: dict[str, float] = {}
        started = time.perf_counter()
        plan = self.planner.plan(question, history)
        timings["plan"] = _ms(started)
        started = time.perf_counter()
        results = self.executor.run(plan.calls)
        timings["execute"] = _ms(started)
        started = time.perf_counter()
        try:
            answer = compose(plan, results)
        except UnsupportedNumberError:  # a composer bug must not reach a user as a wrong figure
            log.exception("answer held a number that no tool gave; withheld")
            answer = Answer(text=WITHHELD_ANSWER)
        timings["compose"] = _ms(started)
        return AssistantResponse(
            question=question,
            answer=answer.text,
            plan=plan,
            tool_results=results,
            citations=answer.citations,
            chart=answer.chart,
            table=answer.table,
            as_of=self.as_of,
            planner=self.planner.name,
            timings_ms=timings,
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
