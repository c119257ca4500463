"""The assistant: plan the question, run the tools, compose a checked answer; timings per stage.

The stages are public so that a server can show the plan before the tools run: ``stream`` yields
one event per stage, and ``ask`` is ``stream`` run to its end, so both take the same code path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, Field

from retrieval import Citation
from serving.assistant.caller import EVERYONE, Caller
from serving.assistant.composer import Answer, compose
from serving.assistant.executor import Executor, ToolResult
from serving.assistant.numbers import UnsupportedNumberError
from serving.assistant.scope import ChatScope
from serving.planner.context import Understanding, UnderstandingSummary
from serving.tools import Plan, Turn

log = logging.getLogger("opsbrain.assistant")
MAX_QUESTION_CHARS = 500
WITHHELD_ANSWER = "答案校验未通过（出现了工具结果之外的数字），已拦截。请查看下方的计算结果与引用。"


class InvalidQuestionError(ValueError):
    """Empty or oversized question: the message says what is accepted."""


class Planner(Protocol):
    name: str

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan: ...


class UnderstandingPlanner(Planner, Protocol):
    """A planner that also says how it understood the question (serving/planner/pipeline.py)."""

    def understand(self, question: str, history: Sequence[Turn] = ()) -> Understanding: ...


class AnswerDetails(BaseModel):
    """Everything an answer carries besides its text; the OpenAI-compatible API sends it as its
    extension field."""

    plan: Plan
    tool_results: list[ToolResult]
    citations: list[Citation]
    chart: dict[str, Any] | None = None
    table: dict[str, Any] | None = None
    as_of: date
    planner: str
    understanding: UnderstandingSummary | None = Field(
        None, description="how the question was understood: intent, route, parser, candidates, corrections"
    )
    timings_ms: dict[str, float] = Field(description="plan, execute, compose")


class AssistantResponse(AnswerDetails):
    question: str
    answer: str


@dataclass(frozen=True)
class Planned:
    """The plan is resolved; no tool has run yet."""

    plan: Plan


@dataclass(frozen=True)
class Executed:
    """The tools have run."""

    results: list[ToolResult]


@dataclass(frozen=True)
class Answered:
    """The answer is composed and number-checked (or withheld): it is safe to show."""

    response: AssistantResponse


StageEvent = Planned | Executed | Answered


def check_question(question: str) -> str:
    """The question stripped; raises InvalidQuestionError when it is empty or too long."""
    question = question.strip()
    if not question:
        raise InvalidQuestionError("问题为空：请输入一个问题，例如“医院本年药占比是多少？包括同比”")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(f"问题过长（{len(question)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内")
    return question


class Assistant:
    def __init__(self, planner: Planner, executor: Executor, as_of: date) -> None:
        self.planner = planner
        self.executor = executor
        self.as_of = as_of

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        scope: ChatScope | None = None,
        caller: Caller = EVERYONE,
    ) -> AssistantResponse:
        """Answer one question; ``history`` holds the conversation's earlier turns, oldest first, and
        ``scope`` the period and filters a user picked outside the question (the web UI's filter bar),
        ``caller`` who asks: their data scope bounds every figure, their role the documents cited.

        Raises:
            InvalidQuestionError: the question is empty or longer than ``MAX_QUESTION_CHARS``.
        """
        for event in self.stream(question, history, scope, caller):
            if isinstance(event, Answered):
                return event.response
        raise AssertionError("the stages always end with an answer")

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        scope: ChatScope | None = None,
        caller: Caller = EVERYONE,
    ) -> Iterator[StageEvent]:
        """The stages of ``ask`` as they finish: ``Planned``, ``Executed``, then ``Answered``.

        The question is checked here, before the first event, so a server can still refuse it with
        an ordinary error response instead of a broken stream.

        Raises:
            InvalidQuestionError: the question is empty or longer than ``MAX_QUESTION_CHARS``.
        """
        return self._stages(check_question(question), history, scope, caller)

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan:
        return self.planner.plan(question, history)

    def execute(self, plan: Plan, caller: Caller = EVERYONE) -> list[ToolResult]:
        return self.executor.run(plan.calls, caller=caller)

    def compose(self, plan: Plan, results: list[ToolResult], history: Sequence[Turn] = ()) -> Answer:
        try:
            kb = self.executor.kb
            shown = {chunk for turn in history for chunk in turn.cited}
            return compose(plan, results, kb.embedder if kb is not None else None, shown)
        except UnsupportedNumberError:  # a composer bug must not reach a user as a wrong figure
            log.exception("answer held a number that no tool gave; withheld")
            return Answer(text=WITHHELD_ANSWER)

    def _stages(
        self, question: str, history: Sequence[Turn], scope: ChatScope | None, caller: Caller
    ) -> Iterator[StageEvent]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        understanding = None
        if hasattr(self.planner, "understand"):
            ctx = self.planner.understand(question, history)
            plan, planned_by, understanding = ctx.plan, ctx.parser, ctx.summary()
        else:
            plan = self.plan(question, history)
            # read now, in the thread that planned: a streamed response may compose in another
            # thread, and an older planner's name (llm or llm→rules) is per thread
            planned_by = self.planner.name
        if scope is not None:
            plan = scope.apply(plan)
        timings["plan"] = _ms(started)
        yield Planned(plan)
        started = time.perf_counter()
        results = self.execute(plan, caller)
        timings["execute"] = _ms(started)
        yield Executed(results)
        started = time.perf_counter()
        answer = self.compose(plan, results, history)
        timings["compose"] = _ms(started)
        yield Answered(
            AssistantResponse(
                question=question,
                answer=answer.text,
                plan=plan,
                tool_results=results,
                citations=answer.citations,
                chart=answer.chart,
                table=answer.table,
                as_of=self.as_of,
                planner=planned_by,
                understanding=understanding,
                timings_ms=timings,
            )
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
