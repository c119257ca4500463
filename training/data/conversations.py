"""A generated item as the LLM parser sees it: the serving pipeline's own prompt, the compact target.

Every conversation is made by the code that serves: the understanding pipeline maps the question
(``Pipeline.prepare``, with the guard off, as in the model-only evaluation, so refusals reach the
model too), ``LLMParser.request`` writes the messages, ``compact.encode`` turns the gold plan into
the compact object the model is to write and ``prompt.to_text`` into its text. A target is kept only
when ``compact.decode`` gives the gold plan back (same slots as the planner eval counts), so the
model is never taught an answer that would be scored wrong. An item the question's candidates cannot
express (the mappers did not offer the gold indicator, value or period) is not a training example:
it is counted with the reason, which points at a mapper to fix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from evals.planner import slots
from indicators import Catalog, Warehouse
from retrieval.embeddings import Embedder
from serving.planner.context import Understanding
from serving.planner.intent import Reading
from serving.planner.llm import compact
from serving.planner.llm.parser import LLMParser
from serving.planner.llm.prompt import Message, to_text
from serving.planner.pipeline import Pipeline
from serving.tools import Plan, Turn


@dataclass
class Encoded:
    """One turn in the model's form: its messages, target text and the context they came from."""

    messages: list[Message]
    target: dict[str, Any]
    text: str
    ctx: Understanding
    reading: Reading | None
    choices: compact.Choices


@dataclass
class Missed:
    """A turn that cannot be trained on, and why (``reason``: what the candidates lacked)."""

    reason: str
    detail: str = ""


@dataclass
class EncodeStats:
    """Per category: turns tried, turns encoded, and the reasons of the others."""

    tried: Counter[str] = field(default_factory=Counter)
    encoded: Counter[str] = field(default_factory=Counter)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)  # (category, reason)
    examples: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # detail counts

    def add(self, category: str, result: Encoded | Missed) -> None:
        self.tried[category] += 1
        if isinstance(result, Encoded):
            self.encoded[category] += 1
            return
        key = (category, result.reason)
        self.reasons[key] += 1
        self.examples.setdefault(key, Counter())[result.detail] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_category": {
                c: {"tried": n, "encoded": self.encoded[c], "share": round(self.encoded[c] / n, 3)}
                for c, n in sorted(self.tried.items())
            },
            "encoded_share": round(sum(self.encoded.values()) / max(sum(self.tried.values()), 1), 4),
            "not_encoded": [
                {
                    "category": c,
                    "reason": r,
                    "count": n,
                    "top": [f"{d} ({k})" for d, k in self.examples[(c, r)].most_common(5)],
                }
                for (c, r), n in self.reasons.most_common()
            ],
        }


class ParserView:
    """The serving pipeline and LLM parser, set up to build (and check) training conversations."""

    def __init__(self, catalog: Catalog, warehouse: Warehouse, embedder: Embedder | None = None) -> None:
        self.catalog = catalog
        self.pipeline = Pipeline(
            catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start, embedder=embedder
        )
        self.parser = LLMParser(
            backend=None, catalog=catalog, intents=self.pipeline.intents, as_of=warehouse.as_of
        )
        # as the model-only evaluation: the guard's refusals go to the model as well
        self.pipeline.llm = self.parser
        self.pipeline.model_only = True
        self.system_prompt = self.parser.prompts.system_prompt

    def encode(self, question: str, history: tuple[Turn, ...] | list[Turn], gold: Plan) -> Encoded | Missed:
        """The turn in the model's form, or why it cannot be (the gold not sayable, or not decoded back)."""
        ctx, reading = self.pipeline.prepare(question, list(history))
        messages, _, choices = self.parser.request(ctx)
        target = compact.encode(gold, ctx, self.catalog, choices)
        if target is None:
            return self.why_not(gold, choices)
        target = _prefer_prev(target, ctx, choices)
        if reading is None:  # the guard never refuses here (model-only), but stay safe
            return Missed("no_reading")
        try:
            back = compact.decode(target, ctx, reading, self.pipeline.intents, choices)
        except compact.CompactPlanError as exc:
            return Missed("does_not_decode", str(exc)[:60])
        if slots(back) != slots(gold):
            diff = sorted(map(str, slots(gold) ^ slots(back)))[:2]
            return Missed("decodes_to_other_plan", "; ".join(diff))
        return Encoded(messages, target, to_text(target), ctx, reading, choices)

    def why_not(self, gold: Plan, c: compact.Choices) -> Missed:
        """What the question's candidates lacked for ``gold``, named by the missing value."""
        if gold.clarification:
            return Missed("clarify_slot", gold.clarification.slot)
        queries = [call.arguments for call in gold.indicator_calls]
        for q in queries:
            for name in q.indicators:
                if name not in c.indicators:
                    return Missed("indicator_not_offered", name)
            for dim, values in q.filters.active().items():
                for v in values:
                    if f"{dim}:{v}" not in c.filters:
                        return Missed("filter_not_offered", f"{dim}:{v}")
            if not any(period == (q.start, q.end) for period in c.times.values()):
                return Missed("period_not_offered", f"{q.start}~{q.end}")
        if queries:
            shared = ("filters", "group_by", "compare", "rank")
            first = queries[0].model_dump(include=set(shared))
            if any(q.model_dump(include=set(shared)) != first for q in queries):
                return Missed("calls_differ_beyond_period")
            return Missed("other", "rank or more than 4 indicators")
        names = [call.arguments.indicator for call in gold.calls if call.tool == "explain_indicator"]
        for name in names:
            if name not in c.indicators + c.unavailable:
                return Missed("indicator_not_offered", name)
        return Missed("other", ",".join(sorted({call.tool for call in gold.calls})))


def _prefer_prev(target: dict[str, Any], ctx: Understanding, c: compact.Choices) -> dict[str, Any]:
    """A follow-up that says no period keeps the previous one: ``prev``, even where the previous
    period is this year's and ``ytd`` would give the same dates (one spelling for one meaning)."""
    if target.get("time") != "ytd" or ctx.times or "prev" not in c.times or c.times["prev"] != c.times["ytd"]:
        return target
    items = [i.replace("@ytd", "@prev") for i in target["indicators"]]
    return {**target, "time": "prev", "indicators": items}


def previous_turns(history: tuple[Turn, ...]) -> list[tuple[str, tuple[Turn, ...], Plan]]:
    """Each earlier turn of a dialogue as its own question: (question, its history, its gold)."""
    return [(turn.question, history[:n], turn.plan) for n, turn in enumerate(history)]
