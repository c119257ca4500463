"""The LLM parser: a language model chooses the plan among the question's mapped candidates.

One question: choices (serving/planner/llm/compact.py) → prompt → backend under the choices'
JSON schema → decode into a Plan. The grammar makes every output a valid compact plan, so there is
no repair round; a backend that gives no answer, or an answer that does not decode, returns None
and the pipeline plans the question with the rules parser (counted, and named ``llm→rules``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from indicators import Catalog
from serving.planner.context import Understanding
from serving.planner.intent import IntentStage, Reading
from serving.planner.llm.backends import Backend, BackendError
from serving.planner.llm.compact import Choices, CompactPlanError, choices, decode, encode, schema
from serving.planner.llm.prompt import Message, PromptBuilder
from serving.tools import Plan

log = logging.getLogger("opsbrain.planner.llm")


@dataclass
class PlannerStats:
    """Counters since start, over the questions routed to the model; ``fallbacks`` by reason:
    backend_error (no answer), invalid_output (an answer that is not a plan for the question),
    parser_error (a failure in this module, logged with its traceback)."""

    questions: int = 0
    planned: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": self.questions,
            "planned_by_model": self.planned,
            "fallbacks": sum(self.fallbacks.values()),
            "fallback_reasons": dict(self.fallbacks),
            "model_seconds": round(self.seconds, 1),
        }


class LLMParser:
    name = "llm"

    def __init__(self, backend: Backend, catalog: Catalog, intents: IntentStage, as_of: date) -> None:
        self.backend = backend
        self.catalog = catalog
        self.intents = intents
        self.as_of = as_of
        self.prompts = PromptBuilder(catalog)
        self.stats = PlannerStats()
        self._lock = threading.Lock()

    def request(
        self, ctx: Understanding, reading: Reading | None = None
    ) -> tuple[list[Message], dict[str, Any], Choices]:
        """The messages and the schema the model gets for this question (also the training input).

        With ``reading``, the schema offers only the clarification slots the question gives
        something to ask about (the others would be valid JSON that does not decode)."""
        c = choices(ctx, self.catalog, self.as_of)
        question_schema = schema(c)
        if reading is not None:
            question_schema = self._answerable(question_schema, ctx, reading, c)
        return self.prompts.messages(ctx, c, previous_compact(ctx, self.catalog)), question_schema, c

    def parse(self, ctx: Understanding, reading: Reading) -> Plan | None:
        """The model's plan for the question, or None (counted by reason, logged) when the backend
        gives no answer or its answer is not a plan for this question: the pipeline then plans it
        with the rules parser."""
        started = time.perf_counter()
        reason, plan = "", None
        try:
            messages, question_schema, c = self.request(ctx, reading)
            text = self.backend.generate(messages, question_schema)
            plan = decode(compact_object(text), ctx, reading, self.intents, c)
        except BackendError as exc:
            reason = "backend_error"
            log.warning("llm backend failed: %s", exc)
        except (ValueError, CompactPlanError) as exc:  # JSONDecodeError and ValidationError are ValueErrors
            reason = "invalid_output"
            log.warning("llm output is not a plan for this question (%s)", exc)
        except Exception:  # a bug here must not cost the user the answer: the rules parser plans it
            reason = "parser_error"
            log.exception("llm parser failed")
        self._count(reason, time.perf_counter() - started)
        return plan

    def _answerable(
        self, question_schema: dict[str, Any], ctx: Understanding, reading: Reading, c: Choices
    ) -> dict[str, Any]:
        """The schema without the clarification slots ``decode`` refuses for this question (it
        decides: each slot is tried), and without the clarify shape when none is left."""
        shapes = []
        for shape in question_schema["anyOf"]:
            slot = shape["properties"].get("slot")
            if shape["properties"]["intent"].get("const") == "clarify" and slot is not None:
                slots = [
                    s
                    for s in slot["enum"]
                    if self._decodes({"intent": "clarify", "slot": s}, ctx, reading, c)
                ]
                if not slots:
                    continue
                shape = {**shape, "properties": {**shape["properties"], "slot": {"enum": slots}}}
            shapes.append(shape)
        return {**question_schema, "anyOf": shapes}

    def _decodes(self, obj: dict[str, Any], ctx: Understanding, reading: Reading, c: Choices) -> bool:
        try:
            decode(obj, ctx, reading, self.intents, c)
        except CompactPlanError:
            return False
        return True

    def _count(self, reason: str, seconds: float) -> None:
        with self._lock:
            self.stats.questions += 1
            self.stats.seconds += seconds
            if reason:
                self.stats.fallbacks[reason] += 1
            else:
                self.stats.planned += 1


def compact_object(text: str) -> dict[str, Any]:
    """The JSON object in a backend's answer. A grammar-constrained answer is exactly one; an
    endpoint that ignores ``response_format`` may wrap it in a fence or a sentence.

    Raises:
        ValueError: no JSON object in the text.
    """
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError(f"no JSON object in {text[:80]!r}")
    obj = json.loads(text[start : end + 1])
    if not isinstance(obj, dict):
        raise ValueError(f"not a JSON object: {text[:80]!r}")
    return obj


def previous_compact(ctx: Understanding, catalog: Catalog) -> dict[str, Any] | None:
    """The last turn's plan in compact form, its period written ``prev``: what a follow-up keeps."""
    if not ctx.history:
        return None
    plan = ctx.history[-1].plan
    names = [n for call in plan.indicator_calls for n in call.arguments.indicators]
    names += [c.arguments.indicator for c in plan.calls if c.tool == "explain_indicator"]
    available = [n for n in dict.fromkeys(names) if _status(catalog, n) == "active"]
    unavailable = [n for n in dict.fromkeys(names) if _status(catalog, n) == "not_available"]
    filters = [
        f"{dim}:{v}"
        for call in plan.indicator_calls
        for dim, vs in call.arguments.filters.active().items()
        for v in vs
    ]
    times = {"prev": (ctx.previous.start, ctx.previous.end)} if ctx.previous else {}
    for n, call in enumerate(plan.indicator_calls[1:], start=2):  # a second period of the last turn
        times.setdefault(f"prev{n}", (call.arguments.start, call.arguments.end))
    ranks = ["none", *(f"{o}{n}" for o in ("desc", "asc") for n in range(1, 101))]
    c = Choices(indicators=available, unavailable=unavailable, filters=filters, times=times, ranks=ranks)
    return encode(plan, ctx, catalog, c)


def _status(catalog: Catalog, name: str) -> str:
    try:
        return catalog.get(name).status
    except Exception:  # a name an older planner wrote: not shown to the model
        return "unknown"
