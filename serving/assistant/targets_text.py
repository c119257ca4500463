"""A figure held against a target, in one sentence a 院长 reads without notation.

A target is compared only when a cited passage comes from the document that states it, the period
lies in the years the target is set for, and the figure is the hospital's or a campus's (a hospital
target says nothing about one department)."""

from __future__ import annotations

from indicators import IndicatorResult, QueryResult, Target
from retrieval import Citation
from serving.assistant.wording import plain, target_value_text, value_text

_MET = {
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "=": lambda v, t: v == t,
}


def stating_citation(target: Target, citations: list[Citation]) -> Citation | None:
    """The cited passage from the document a target is taken from, if any."""
    for c in citations:
        if target.kind == "internal":
            if c.scope == "internal" and c.title and c.title in target.document:
                return c
        elif c.doc_number and c.doc_number in target.document:
            return c
    return None


def applying_source(q: QueryResult, target: Target, citations: list[Citation]) -> Citation | None:
    """The cited passage stating ``target`` when the target applies to the query's figure, else None."""
    if q.query.filters.get("department") or q.query.filters.get("doctor"):
        return None
    if (target.applies_from and q.query.start < target.applies_from) or (
        target.applies_to and q.query.end > target.applies_to
    ):
        return None
    return stating_citation(target, citations)


def target_sentence(ind: IndicatorResult, q: QueryResult, target: Target, citations: list[Citation]) -> str:
    """本院目标：药占比（不含中药饮片）35%以内，本期 35.39%，未达到。 — or "" where it does not apply."""
    if len(ind.rows) != 1 or ind.rows[0].keys or ind.rows[0].value is None:
        return ""
    source = applying_source(q, target, citations)
    if source is None:
        return ""
    value = ind.rows[0].value
    verdict = "符合" if _MET[target.comparator](value, target.value) else "未达到"
    note = plain(target.note).strip()
    if target.kind == "internal":
        text = (
            f"本院目标（本院自设）：{ind.name}{target_value_text(target.value, target.comparator, ind)}，"
            f"本期 {value_text(value, ind)}，{verdict}。"
        )
    else:
        document = source.doc_number or source.title
        scope = plain(target.scope)
        # the scope usually states the figure in the document's own words (30%左右): then no second,
        # stricter-sounding paraphrase of it
        figure = (
            ""
            if f"{target.value:g}" in scope
            else f"（{target_value_text(target.value, target.comparator, ind)}）"
        )
        text = (
            f"国家政策目标（{document}）：{scope}{figure}；本期 {value_text(value, ind)}，{verdict}该水平。"
        )
    return text + (f"{note}" if note else "")


def target_label(ind: IndicatorResult, target: Target) -> str:
    """The name of a target line on a chart: 本院目标 35%以内."""
    who = "本院目标" if target.kind == "internal" else "国家政策目标"
    return f"{who} {target_value_text(target.value, target.comparator, ind)}"
