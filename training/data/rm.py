"""Preference pairs: the gold compact plan (or answer) against one realistic mistake, tagged by kind.

Plan mistakes are made in the compact form the model writes, among the question's own candidates,
the way a parser errs in practice: another indicator of the candidates, another time reference, a
comparison dropped or added, a breakdown or a filter dropped, another intent (a figure read as a
definition, a policy question answered with a figure, a refusal missed). A pair is kept only when
the rejected object still decodes into a plan for the question (``compact.decode``) and that plan's
slots differ from the gold's, so the reward model never learns to separate equal things. For
answers: a figure changed by a few per cent (an invented number: ``check_numbers`` must reject it)
and the citation paragraph left out.
"""

from __future__ import annotations

import random
import re
from typing import Any

from evals.planner import slots
from serving.assistant.executor import ToolResult
from serving.assistant.numbers import NUMBER, UnsupportedNumberError, check_numbers
from serving.planner.llm import compact
from serving.planner.llm.prompt import to_text
from serving.tools import Plan
from training.data.conversations import Encoded, ParserView

PLAN_CORRUPTIONS = (
    "wrong_indicator",
    "wrong_time",
    "missing_comparison",
    "added_comparison",
    "missing_breakdown",
    "wrong_filter",
    "wrong_rank",
    "wrong_intent",
)
ANSWER_CORRUPTIONS = ("invented_number", "missing_citation")
POLICY_HEADING = "相关政策与文件："


class CompactCorrupter:
    """One mistake of a kind in a compact plan, chosen among the question's candidates."""

    def __init__(self, view: ParserView, rng: random.Random) -> None:
        self.view = view
        self.rng = rng

    def applicable(self, target: dict[str, Any], c: compact.Choices) -> list[str]:
        intent = target["intent"]
        if intent not in compact.FIGURE_INTENTS:
            return ["wrong_intent"]
        kinds = ["wrong_intent", "added_comparison" if not target["compare"] else "missing_comparison"]
        if len(c.indicators) > 1:
            kinds.append("wrong_indicator")
        if len(set(c.times.values())) > 1:
            kinds.append("wrong_time")
        if target["group_by"]:
            kinds.append("missing_breakdown")
        if target["filters"] or c.filters:
            kinds.append("wrong_filter")
        if target["rank"] != "none":
            kinds.append("wrong_rank")
        return kinds

    def order(self, target: dict[str, Any], c: compact.Choices) -> list[str]:
        """The applicable kinds in the order to try them: random, a wrong intent (always possible,
        so it would crowd out the rest) mostly last."""
        kinds = self.applicable(target, c)
        self.rng.shuffle(kinds)
        if len(kinds) > 1 and self.rng.random() < 0.75:
            kinds.remove("wrong_intent")
            kinds.append("wrong_intent")
        return kinds

    def corrupt(self, encoded: Encoded, gold: Plan, kind: str) -> dict[str, Any] | None:
        """The target with one mistake, or None when it would not decode or not change the plan."""
        wrong = getattr(self, f"_{kind}")(dict(encoded.target), encoded.choices)
        if wrong is None or wrong == encoded.target:
            return None
        try:
            plan = compact.decode(
                wrong, encoded.ctx, encoded.reading, self.view.pipeline.intents, encoded.choices
            )
        except compact.CompactPlanError:
            return None
        return wrong if slots(plan) != slots(gold) else None

    # ------------------------------------------------------------------ kinds
    def _wrong_indicator(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any] | None:
        names = [str(i).partition("@") for i in t["indicators"]]
        others = [n for n in c.indicators if n not in {name for name, _, _ in names}]
        if not others:
            return None
        at = self.rng.randrange(len(names))
        _, sep, ref = names[at]
        names[at] = (self.rng.choice(others[:4]), sep, ref)
        return {**t, "indicators": ["".join(n) for n in names]}

    def _wrong_time(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any] | None:
        others = [ref for ref, period in c.times.items() if period != c.times[t["time"]]]
        return {**t, "time": self.rng.choice(others)} if others else None

    def _missing_comparison(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any]:
        return {**t, "compare": []}

    def _added_comparison(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any]:
        return {**t, "compare": [self.rng.choice(["yoy", "mom"])]}

    def _missing_breakdown(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any]:
        return {**t, "group_by": t["group_by"][:-1]}

    def _wrong_filter(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any] | None:
        if t["filters"] and self.rng.random() < 0.6:
            return {**t, "filters": t["filters"][:-1]}
        others = [f for f in c.filters if f not in t["filters"]]
        return {**t, "filters": [*t["filters"][:3], self.rng.choice(others)]} if others else None

    def _wrong_rank(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any]:
        order, limit = re.fullmatch(r"(desc|asc)(\d+)", t["rank"]).groups()
        flipped = f"{'asc' if order == 'desc' else 'desc'}{limit}"
        return {**t, "rank": self.rng.choice([flipped, "none"])}

    def _wrong_intent(self, t: dict[str, Any], c: compact.Choices) -> dict[str, Any] | None:
        intent = t["intent"]
        names = [str(i).partition("@")[0] for i in t.get("indicators", [])]
        first = c.indicators[:1]
        options: list[dict[str, Any]] = []
        if intent in compact.FIGURE_INTENTS:
            options.append({"intent": "definition", "indicators": list(dict.fromkeys(names))[:3]})
            options += [{**t, "intent": i} for i in compact.FIGURE_INTENTS if i != intent]
            options.append({"intent": "policy"})
        elif first:  # a question that is no figure, answered with one
            options.append(_figure(first[0], c))
        if intent != "refuse":
            options.append({"intent": "refuse", "category": "out_of_scope"})
        if intent == "refuse":
            options.append({"intent": "policy"})
        if intent in ("definition", "not_available", "clarify", "catalog", "refuse"):
            options.append({"intent": "policy"})
        if intent == "policy" and c.indicators + c.unavailable:
            options.append({"intent": "definition", "indicators": (c.indicators + c.unavailable)[:1]})
        return self.rng.choice(options) if options else None


def _figure(name: str, c: compact.Choices) -> dict[str, Any]:
    return {
        "intent": "figure",
        "indicators": [name],
        "time": "ytd",
        "filters": [],
        "group_by": [],
        "compare": [],
        "rank": "none",
    }


def plan_pair(encoded: Encoded, wrong: dict[str, Any], kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt": encoded.messages,
        "chosen": [{"role": "assistant", "content": encoded.text}],
        "rejected": [{"role": "assistant", "content": to_text(wrong)}],
        "kind": "plan",
        "corruption": kind,
        **record,
    }


def corrupt_answer(text: str, results: list[ToolResult], kind: str, rng: random.Random) -> str | None:
    """The answer with one figure changed, or without its citation paragraph; None if not possible."""
    if kind == "missing_citation":
        if POLICY_HEADING not in text:
            return None
        return "\n\n".join(p for p in text.split("\n\n") if not p.startswith(POLICY_HEADING)).strip() or None
    # invented_number: a figure of the answer's first paragraph (not a date, not a version) nudged
    head = text.split("\n\n")[0]
    spans = [m for m in NUMBER.finditer(head) if _is_figure(head, m)]
    if not spans:
        return None
    m = rng.choice(spans)
    value = float(m.group().replace(",", ""))
    decimals = len(m.group().split(".")[1]) if "." in m.group() else 0
    factor = rng.choice([0.87, 0.93, 1.06, 1.12, 1.25])
    new = f"{value * factor:,.{decimals}f}" if "," in m.group() else f"{value * factor:.{decimals}f}"
    wrong = text.replace(head, head[: m.start()] + new + head[m.end() :], 1)
    try:
        check_numbers(wrong, results)
    except UnsupportedNumberError:
        return wrong  # the invented figure is one no tool gave: a real hallucination
    return None


def _is_figure(text: str, m: re.Match[str]) -> bool:
    """A figure of the answer (36.45, 382), not part of a date or period (2023-01-01, 2022年, 09-08)."""
    before, after = text[max(0, m.start() - 1) : m.start()], text[m.end() : m.end() + 1]
    if m.group().startswith("-") or before == "-" or after in ("-", "年", "月", "日", "季"):
        return False
    return "." in m.group() or float(m.group().replace(",", "")) >= 10


def answer_pair(prompt: list[dict[str, str]], chosen: str, wrong: str, kind: str) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": wrong}],
        "kind": "answer",
        "corruption": kind,
    }
