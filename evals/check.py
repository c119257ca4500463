"""Check an evaluation split before it is used: every line parses, every name is canonical, every
period lies in the data, every tag is known. Written for the authors of new splits, who must not
read the planners: they run ``opsbrain eval check-split FILE`` and fix what it lists.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from indicators import Catalog
from indicators.errors import UnknownIndicatorError
from indicators.query.dimensions import DimensionIndex

# the classes of issue #13; an item may carry several
CLASSES = (
    "class:standard",  # worded much as the catalog and the conventions word it
    "class:paraphrase",  # an indicator described by its numerator and denominator
    "class:plain",  # everyday words for an indicator
    "class:short_dept",  # a department by a short form
    "class:compare_words",  # a comparison said in words
    "class:followup_switch",  # a follow-up that switches one thing
    "class:policy_fact",  # a policy or fact question with no indicator
    "class:refuse",
    "class:not_available",
    "class:clarify",
)


class PolicyQuestion(BaseModel):
    """One question of a policy/fact split: the facts its first sentences must state."""

    id: str
    question: str = Field(min_length=2, max_length=500)
    answerable: bool = Field(description="false: the documents do not hold the answer; the reply must say so")
    facts: list[list[str]] = Field(
        default_factory=list,
        description="each required fact as its acceptable spellings; one spelling of each must appear",
    )
    topic: str = Field("", description="where the fact comes from, e.g. facts.md §4.1")
    tags: list[str] = Field(default_factory=list)


def check_planner_split(
    path: Path, catalog: Catalog, dimensions: DimensionIndex, as_of: date, data_start: date
) -> list[str]:
    """Problems in a planner split, one line each with its line number; empty when it is sound."""
    from evals.planner import Item  # the split's own schema

    problems: list[str] = []
    members = {kind: {m.name for m in found} for kind, found in dimensions.members.items()}
    seen: set[str] = set()
    for n, line in _lines(path):
        try:
            item = Item.model_validate_json(line)
        except ValidationError as exc:
            problems.append(f"line {n}: not a valid item: {_first_error(exc)}")
            continue
        if item.id in seen:
            problems.append(f"line {n}: id {item.id} repeats")
        seen.add(item.id)
        unknown_tags = [t for t in item.tags if t.startswith("class:") and t not in CLASSES]
        if unknown_tags:
            problems.append(f"line {n}: unknown class tags {unknown_tags}; known: {', '.join(CLASSES)}")
        for t, turn in enumerate(item.turns):
            where = f"line {n} ({item.id}) turn {t}"
            plan = turn.gold
            if sum(bool(x) for x in (plan.calls, plan.clarification, plan.refusal)) != 1:
                problems.append(f"{where}: a plan has calls, or a clarification, or a refusal (exactly one)")
            for call in plan.indicator_calls:
                q = call.arguments
                problems += [f"{where}: {p}" for p in _names(q.indicators, catalog)]
                if not (data_start <= q.start <= q.end <= as_of):
                    problems.append(
                        f"{where}: period {q.start}–{q.end} must lie within {data_start}–{as_of}, start ≤ end"
                    )
                for kind, values in q.filters.active().items():
                    wrong = [v for v in values if v not in members.get(kind, set())]
                    if wrong:
                        problems.append(f"{where}: {kind} {wrong} are not standard names")
            for call in plan.calls:
                if call.tool == "explain_indicator":
                    problems += [f"{where}: {p}" for p in _names([call.arguments.indicator], catalog, True)]
            if plan.clarification:
                for option in plan.clarification.options:
                    if not _is_name(option, catalog, members):
                        problems.append(f"{where}: option {option!r} is not a standard name")
    return problems


def check_policy_split(path: Path) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in _lines(path):
        try:
            item = PolicyQuestion.model_validate_json(line)
        except ValidationError as exc:
            problems.append(f"line {n}: not a valid question: {_first_error(exc)}")
            continue
        if item.id in seen:
            problems.append(f"line {n}: id {item.id} repeats")
        seen.add(item.id)
        if item.answerable and not item.facts:
            problems.append(f"line {n}: an answerable question needs at least one required fact")
        if not item.answerable and item.facts:
            problems.append(f"line {n}: an unanswerable question lists no facts")
        if any(not spellings or not all(s.strip() for s in spellings) for spellings in item.facts):
            problems.append(f"line {n}: every fact needs at least one non-empty spelling")
    return problems


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _names(names: list[str], catalog: Catalog, any_status: bool = False) -> list[str]:
    problems = []
    for name in names:
        try:
            indicator = catalog.get(name)
        except UnknownIndicatorError:
            problems.append(f"indicator {name!r} is not in the catalog")
            continue
        if indicator.name != name:
            problems.append(f"indicator {name!r}: write the catalog name {indicator.name!r}")
        elif indicator.status == "not_available" and not any_status:
            problems.append(f"indicator {name!r} is not computable: use explain_indicator")
    return problems


def _is_name(option: str, catalog: Catalog, members: dict[str, set[str]]) -> bool:
    if any(option in names for names in members.values()):
        return True
    try:
        return catalog.get(option).name == option
    except UnknownIndicatorError:
        return False


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )


def summary(path: Path) -> dict[str, int]:
    """Items, turns, dialogues and class counts: what a split's author reports."""
    counts: dict[str, int] = {"items": 0, "turns": 0, "dialogues": 0}
    for _, line in _lines(path):
        data = json.loads(line)
        counts["items"] += 1
        turns = len(data.get("turns", [data]))
        counts["turns"] += turns
        counts["dialogues"] += turns > 1
        for tag in data.get("tags", []):
            if tag.startswith("class:"):
                counts[tag] = counts.get(tag, 0) + turns
    return counts
