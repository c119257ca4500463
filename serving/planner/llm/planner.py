"""The ``llm`` planner: a language model writes the plan; the rules planner catches its failures.

One question: prompt → backend → parse, schema-validate and check names and dates → a plan. If the
answer is not a valid plan, the model gets ONE repair round (its answer and the error). If that
fails too, or the backend gives no answer at all, the rules planner plans the question; the
fallback is logged and counted, and ``name`` says ``llm→rules`` for that answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from indicators import Catalog
from indicators.query.dimensions import DimensionIndex
from serving.planner.llm.backends import Backend, BackendError
from serving.planner.llm.prompt import (
    PlanParseError,
    PromptBuilder,
    PromptStyle,
    parse_plan,
    repair_messages,
)
from serving.planner.llm.validate import PlanSemanticError, check_plan
from serving.planner.rules import RulesPlanner
from serving.tools import Plan, Turn

log = logging.getLogger("opsbrain.planner.llm")

LLM = "llm"
FALLBACK = "llm→rules"


@dataclass
class PlannerStats:
    """Counters since start; ``fallbacks`` by reason: backend_error, invalid_output."""

    questions: int = 0
    valid_first_time: int = 0
    repaired: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": self.questions,
            "valid_first_time": self.valid_first_time,
            "repaired": self.repaired,
            "fallbacks": sum(self.fallbacks.values()),
            "fallback_reasons": dict(self.fallbacks),
        }


class LLMPlanner:
    """Plans with a language model behind ``backend``; falls back to ``RulesPlanner``.

    ``name`` is ``"llm"``, or ``"llm→rules"`` right after a question that fell back, as seen from
    the thread that asked it: the assistant reads ``planner.name`` after ``plan()`` in the same
    thread to fill ``AssistantResponse.planner``, and concurrent requests do not see each other's
    outcome. ``kind`` is always ``"llm"`` (report names, settings).
    """

    kind = LLM

    def __init__(
        self,
        backend: Backend,
        catalog: Catalog,
        dimensions: DimensionIndex,
        as_of: date,
        data_start: date,
        fallback: RulesPlanner | None = None,
        prompt_style: PromptStyle = "full",
    ) -> None:
        self.backend = backend
        self.catalog = catalog
        self.dimensions = dimensions
        self.as_of = as_of
        self.data_start = data_start
        self.prompts = PromptBuilder(
            catalog,
            as_of,
            data_start,
            {
                dim: [m.name for m in members]
                for dim, members in dimensions.members.items()
                if dim != "doctor"
            },
            style=prompt_style,
        )
        self.fallback = fallback or RulesPlanner(catalog, dimensions, as_of, data_start)
        self.stats = PlannerStats()
        self._stats_lock = threading.Lock()
        self._local = threading.local()

    @property
    def name(self) -> str:
        return getattr(self._local, "source", LLM)

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan:
        plan, self._local.source = self.plan_with_source(question, history)
        return plan

    def plan_with_source(self, question: str, history: Sequence[Turn] = ()) -> tuple[Plan, str]:
        """The plan and who made it (``llm`` or ``llm→rules``), without relying on thread state.

        For callers that may read the outcome in another thread than the one that planned (a
        streamed response iterated by a thread pool): ``name`` is only right in the same thread.
        """
        started = time.perf_counter()
        messages = self.prompts.messages(question, history)
        outcome, reason = "fallback", "invalid_output"
        plan: Plan | None = None
        try:
            first = self.backend.generate(messages)
            try:
                plan, outcome = self._checked(first), "first"
            except (PlanParseError, PlanSemanticError) as exc:
                log.info("llm plan invalid (%s); one repair round", exc)
                second = self.backend.generate(repair_messages(messages, first, str(exc)))
                try:
                    plan, outcome = self._checked(second), "repaired"
                except (PlanParseError, PlanSemanticError) as exc2:
                    log.warning("llm plan invalid after repair (%s): %r", exc2, second[:300])
        except BackendError as exc:
            reason = "backend_error"
            log.warning("llm backend failed: %s", exc)
        self._count(outcome, reason)
        log.info("planned (%s) in %.1f s: %s", outcome, time.perf_counter() - started, question)
        if plan is None:
            log.warning("question planned by the rules fallback (%s): %s", reason, question)
            return self.fallback.plan(question, history), FALLBACK
        return plan, LLM

    def _checked(self, text: str) -> Plan:
        plan = parse_plan(text)
        return check_plan(plan, self.catalog, self.as_of, self.data_start, self.dimensions)

    def _count(self, outcome: str, reason: str) -> None:
        with self._stats_lock:
            self.stats.questions += 1
            if outcome == "first":
                self.stats.valid_first_time += 1
            elif outcome == "repaired":
                self.stats.repaired += 1
            else:
                self.stats.fallbacks[reason] += 1
