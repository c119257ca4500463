"""The compact plan form a language model writes: choices among the mapped candidates, no dates.

A model never computes a date or spells a name freely. For each question the JSON schema is
generated from the tool schema's vocabulary and the question's own candidates: indicator names,
dimension values and time references (t1, t2 … the resolver's periods; ytd; prev, the previous
question's period) are fixed choices, and every field is required (a field with a default lets a
grammar skip the discriminator). ``decode`` turns a compact object back into a Plan; ``encode`` turns
a gold plan into the compact object (the training target), or None when it cannot be said with
the question's candidates.

    {"intent": "figure", "indicators": ["住院次均费用"], "time": "t1", "filters": ["department:心血管内科"],
     "group_by": [], "compare": ["yoy"], "rank": "none"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from indicators import Catalog, Filters, IndicatorQuery, Ranking
from serving.planner import patterns as P
from serving.planner.context import Understanding
from serving.planner.intent import IntentStage, Reading
from serving.planner.parsers.rules import SYSTEMS, explain_calls, policy_call
from serving.tools import (
    Clarification,
    ListDimensionValuesArgs,
    ListDimensionValuesCall,
    ListIndicatorsArgs,
    ListIndicatorsCall,
    Plan,
    QueryIndicatorCall,
    Refusal,
    ToolCall,
)

FIGURE_INTENTS = ("figure", "figure_explain", "target_check")
GROUP_KEYS = ("campus", "department", "doctor", "insurance", "visit_type", "year", "quarter", "month")
DIMENSIONS = ("campus", "department", "doctor", "insurance", "visit_type")
LISTS = (
    "indicators",
    *(f"indicators:{s}" for s in ("国考", "二级国考", "三级医院评审", "基础运营")),
    *DIMENSIONS,
)
CLARIFY_SLOTS = ("indicator", "department", "doctor")
REFUSALS = ("patient_data", "clinical_advice", "injection", "out_of_scope")
_RANK_LIMITS = (1, 2, 3, 5, 10, 15, 20, 30, 50, 100)
MAX_INDICATORS = 8
MAX_FILTERS = 10


@dataclass
class Choices:
    """What a model may choose from for one question."""

    indicators: list[str]  # computable names: candidates first, then the previous question's
    unavailable: list[str]  # not-computable names among the candidates
    filters: list[str]  # "department:心血管内科"
    times: dict[str, tuple[date, date]]  # ref → period
    time_words: dict[str, str] = field(default_factory=dict)  # ref → the words that said it
    ranks: list[str] = field(default_factory=list)


def choices(ctx: Understanding, catalog: Catalog, as_of: date) -> Choices:
    indicators: list[str] = []
    unavailable: list[str] = []
    ranked = sorted(ctx.of_kind("indicator"), key=lambda c: (-c.score, c.start))
    for name in [c.value for c in ranked] + list(ctx.previous.indicators if ctx.previous else []):
        target = unavailable if catalog.get(name).status == "not_available" else indicators
        if name not in target:
            target.append(name)
    filters = [f"{c.kind}:{c.value}" for c in ctx.candidates if c.kind in DIMENSIONS]
    # 急诊 inside 门急诊 (门急诊人次) is part of a name, not a visit type
    filters += [f"visit_type:{v}" for v in ("门诊", "急诊", "住院") if v in ctx.text.replace("门急诊", "")]
    if ctx.previous:
        filters += [f"{dim}:{v}" for dim, values in ctx.previous.filters.active().items() for v in values]
    times: dict[str, tuple[date, date]] = {}
    words: dict[str, str] = {}
    for n, t in enumerate(ctx.times, start=1):
        times[f"t{n}"], words[f"t{n}"] = (t.start, t.end), t.text
    times["ytd"], words["ytd"] = (date(as_of.year, 1, 1), as_of), "今年以来"
    if ctx.previous:
        times["prev"], words["prev"] = (ctx.previous.start, ctx.previous.end), "上一轮的统计期"
    limits = sorted({*_RANK_LIMITS, *(int(n) for n in re.findall(r"\d+", ctx.text) if 0 < int(n) <= 100)})
    ranks = ["none", *(f"{order}{n}" for order in ("desc", "asc") for n in limits)]
    return Choices(
        indicators=indicators[:MAX_INDICATORS],
        unavailable=unavailable[:MAX_INDICATORS],
        filters=list(dict.fromkeys(filters))[:MAX_FILTERS],
        times=times,
        time_words=words,
        ranks=ranks,
    )


# ---------------------------------------------------------------------------- the schema
def schema(c: Choices) -> dict[str, Any]:
    """The JSON schema of one question's compact plan: an ``anyOf`` of one shape per intent, each
    opened by its required ``intent`` constant."""
    shapes: list[dict[str, Any]] = []
    if c.indicators:
        items = [*c.indicators, *(f"{n}@{ref}" for n in c.indicators for ref in c.times)]
        shapes.append(
            _object(
                intent={"enum": list(FIGURE_INTENTS)},
                indicators=_array(items, 1, 4),
                time={"enum": list(c.times)},
                filters=_array(c.filters, 0, 4) if c.filters else _array(["-"], 0, 0),
                group_by=_array(list(GROUP_KEYS), 0, 3),
                compare=_array(["yoy", "mom"], 0, 2),
                rank={"enum": c.ranks},
            )
        )
    named = c.indicators + c.unavailable
    if named:
        shapes.append(_object(intent={"const": "definition"}, indicators=_array(named, 1, 3)))
    if c.unavailable:
        shapes.append(_object(intent={"const": "not_available"}, indicators=_array(c.unavailable, 1, 3)))
    shapes += [
        _object(intent={"const": "policy"}),
        _object(intent={"const": "catalog"}, list={"enum": list(LISTS)}),
        _object(intent={"const": "clarify"}, slot={"enum": list(CLARIFY_SLOTS)}),
        _object(intent={"const": "refuse"}, category={"enum": list(REFUSALS)}),
    ]
    return {"anyOf": shapes}


def _object(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _array(items: list[str], least: int, most: int) -> dict[str, Any]:
    return {"type": "array", "items": {"enum": items}, "minItems": least, "maxItems": most}


# ---------------------------------------------------------------------------- decode
class CompactPlanError(ValueError):
    """The compact object does not describe a plan for this question; the message says why."""


def decode(
    obj: dict[str, Any], ctx: Understanding, reading: Reading, intents: IntentStage, c: Choices
) -> Plan:
    """The Plan a compact object stands for, with the question's own periods and names.

    Raises:
        CompactPlanError: a reference or a name that is not one of this question's choices.
    """
    intent = obj.get("intent")
    if intent in FIGURE_INTENTS:
        return _figure(obj, ctx, c, intent)
    if intent in ("definition", "not_available"):
        names = _names(obj, c.indicators + c.unavailable)
        return Plan(calls=explain_calls(names))
    if intent == "policy":
        subjects = list(ctx.previous.indicators) if ctx.previous and not reading.names else []
        return Plan(calls=[policy_call(" ".join([*subjects, ctx.question]))])
    if intent == "catalog":
        return Plan(calls=[_listing(str(obj.get("list")), ctx.text)])
    if intent == "clarify":
        return Plan(clarification=_clarification(str(obj.get("slot")), reading, intents))
    if intent == "refuse" and obj.get("category") in REFUSALS:
        return Plan(refusal=Refusal(category=obj["category"], message=_REFUSAL_MESSAGES[obj["category"]]))
    raise CompactPlanError(f"unknown intent {intent!r}")


def _figure(obj: dict[str, Any], ctx: Understanding, c: Choices, intent: str) -> Plan:
    default = str(obj.get("time"))
    if default not in c.times:
        raise CompactPlanError(f"time {default!r} is not one of {list(c.times)}")
    by_time: dict[str, list[str]] = {}
    for item in obj.get("indicators") or []:
        name, _, ref = str(item).partition("@")
        ref = ref or default
        if name not in c.indicators or ref not in c.times:
            raise CompactPlanError(f"indicator {item!r} is not one of this question's choices")
        by_time.setdefault(ref, [])
        if name not in by_time[ref]:
            by_time[ref].append(name)
    if not by_time:
        raise CompactPlanError("a figure needs at least one indicator")
    filters = Filters()
    for item in obj.get("filters") or []:
        dim, _, value = str(item).partition(":")
        if item not in c.filters or dim not in DIMENSIONS:
            raise CompactPlanError(f"filter {item!r} is not one of this question's choices")
        getattr(filters, dim).append(value)
    group_by = [g for g in dict.fromkeys(obj.get("group_by") or []) if g in GROUP_KEYS]
    compare = [x for x in ("yoy", "mom") if x in (obj.get("compare") or [])]
    rank = _rank(str(obj.get("rank", "none")))
    calls: list[ToolCall] = []
    for ref, names in by_time.items():
        start, end = c.times[ref]
        calls.append(
            QueryIndicatorCall(
                arguments=IndicatorQuery(
                    indicators=names,
                    start=start,
                    end=end,
                    filters=filters.model_copy(deep=True),
                    group_by=group_by,
                    compare=compare,
                    rank=rank,
                )
            )
        )
    named = [n for names in by_time.values() for n in names]
    if intent == "figure_explain":
        calls += explain_calls(list(dict.fromkeys(named)))
    if intent == "target_check":
        calls.append(policy_call(" ".join(dict.fromkeys(named)) + " 政策要求 目标"))
    return Plan(calls=calls)


def _names(obj: dict[str, Any], allowed: list[str]) -> list[str]:
    names = list(dict.fromkeys(str(n) for n in obj.get("indicators") or []))
    if not names or any(n not in allowed for n in names):
        raise CompactPlanError(f"indicators {names!r} are not among {allowed!r}")
    return names


def _rank(value: str) -> Ranking | None:
    m = re.fullmatch(r"(desc|asc)(\d+)", value)
    if value == "none" or m is None:
        return None
    return Ranking(order=m[1], limit=max(1, min(100, int(m[2]))))


def _listing(value: str, text: str) -> ToolCall:
    if value.startswith("indicators"):
        system = value.partition(":")[2] or next((s for phrase, s in SYSTEMS if phrase in text), None)
        topic = P.INDICATOR_TOPIC.search(text)
        query = topic.group(1) if topic and not any(p in topic.group(1) for p, _ in SYSTEMS) else ""
        return ListIndicatorsCall(arguments=ListIndicatorsArgs(query=query, system=system or None))
    if value not in DIMENSIONS:
        raise CompactPlanError(f"unknown list {value!r}")
    surname = re.search(r"姓([\u4e00-\u9fff])", text)
    return ListDimensionValuesCall(
        arguments=ListDimensionValuesArgs(dimension=value, query=surname.group(1) if surname else "")
    )


def _clarification(slot: str, reading: Reading, intents: IntentStage) -> Clarification:
    if reading.ambiguous and reading.ambiguous.clarification.slot == slot:
        return reading.ambiguous.clarification
    if slot == "indicator" and reading.offered:
        return intents.clarification(Reading([], "", False, False, False, False, offered=reading.offered))
    raise CompactPlanError(f"nothing in the question to ask about for slot {slot!r}")


_REFUSAL_MESSAGES = {category: message for category, _, message in P.REFUSALS} | {
    "out_of_scope": P.OUT_OF_SCOPE
}


# ---------------------------------------------------------------------------- encode
def encode(plan: Plan, ctx: Understanding, catalog: Catalog, c: Choices) -> dict[str, Any] | None:
    """The compact object of a gold plan (a training target), or None when the question's
    choices cannot express it (a name the mappers did not find, a period no reference gives)."""
    if plan.refusal:
        return {"intent": "refuse", "category": plan.refusal.category}
    if plan.clarification:
        if plan.clarification.slot not in CLARIFY_SLOTS:
            return None
        return {"intent": "clarify", "slot": plan.clarification.slot}
    tools = {call.tool for call in plan.calls}
    queries = [call.arguments for call in plan.indicator_calls]
    if queries:
        return _encode_figure(plan, queries, tools, c)
    if tools <= {"list_indicators", "list_dimension_values"} and len(plan.calls) == 1:
        args = plan.calls[0].arguments
        if isinstance(args, ListIndicatorsArgs):
            return {"intent": "catalog", "list": f"indicators:{args.system}" if args.system else "indicators"}
        return {"intent": "catalog", "list": args.dimension}
    if tools == {"explain_indicator"}:
        names = [call.arguments.indicator for call in plan.calls]
        unavailable = all(catalog.get(n).status == "not_available" for n in names)
        allowed = c.unavailable if unavailable else c.indicators + c.unavailable
        if any(n not in allowed for n in names) or len(names) > 3:
            return None
        return {"intent": "not_available" if unavailable else "definition", "indicators": names}
    if tools == {"search_policy"}:
        return {"intent": "policy"}
    return None


def _encode_figure(
    plan: Plan, queries: list[IndicatorQuery], tools: set[str], c: Choices
) -> dict[str, Any] | None:
    first = queries[0]
    shared = ("filters", "group_by", "compare", "rank")
    if any(q.model_dump(include=set(shared)) != first.model_dump(include=set(shared)) for q in queries):
        return None
    refs = [_time_ref(q, c) for q in queries]
    if None in refs:
        return None
    default = refs[0]
    items = []
    for q, ref in zip(queries, refs, strict=True):
        for name in q.indicators:
            if name not in c.indicators:
                return None
            items.append(name if ref == default else f"{name}@{ref}")
    filters = [f"{dim}:{v}" for dim, values in first.filters.active().items() for v in values]
    rank = f"{first.rank.order}{first.rank.limit}" if first.rank else "none"
    if any(f not in c.filters for f in filters) or rank not in c.ranks or len(items) > 4:
        return None
    intent = (
        "target_check"
        if "search_policy" in tools
        else "figure_explain"
        if "explain_indicator" in tools
        else "figure"
    )
    return {
        "intent": intent,
        "indicators": items,
        "time": default,
        "filters": filters,
        "group_by": list(first.group_by),
        "compare": list(first.compare),
        "rank": rank,
    }


def _time_ref(q: IndicatorQuery, c: Choices) -> str | None:
    return next((ref for ref, period in c.times.items() if period == (q.start, q.end)), None)
