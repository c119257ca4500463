"""Correctors: small ordered fixes that every parser's plan passes through.

Each takes one indicator query and the understood question and returns the query, changed or not.
They apply the conventions (docs/question-conventions.md) that follow from the whole question
rather than from one word of it: a drill-down drops the breakdown it narrows (本部 after 各院区), a
ranking needs something to rank, 去年同期 after a question means that question's dates a year
earlier. Whichever parser wrote the plan, the same rules finish it, and the pipeline records which
correctors changed something.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from indicators import IndicatorQuery
from serving.planner import patterns as P
from serving.planner.context import Candidate, Understanding
from serving.planner.intent import Reading, trusted_names
from serving.planner.parsers.rules import ENTITIES, TIME_GRAINS, read_rank, signal_words, visit_type
from serving.planner.timeexpr import Period, resolve_period

_RANKED = ("department", "doctor", "campus", "insurance")
_MONTHS = {"year": 12, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class Words:
    """What the whole question says, read once for all correctors."""

    ctx: Understanding
    reading: Reading
    rest: str  # the signal words: the question without its period and indicator names
    period: Period | None  # the period the question's own words give
    mentions: list[Candidate]
    as_of: date
    data_start: date

    def asks_group(self, key: str) -> bool:
        return any(k == key and re.search(pattern, self.rest) for k, pattern in P.GROUPS)

    def named(self, kind: str) -> bool:
        return any(m.kind == kind for m in self.mentions)


Corrector = Callable[[IndicatorQuery, Words], IndicatorQuery]


def read_words(ctx: Understanding, reading: Reading, as_of: date, data_start: date) -> Words:
    mentions = trusted_names(ctx)
    period = resolve_period(P.english_periods(ctx.text), as_of, data_start)
    return Words(ctx, reading, signal_words(ctx.text, mentions, period), period, mentions, as_of, data_start)


def whole_hospital(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """全院 means no campus, department or doctor filter."""
    if not P.WHOLE_HOSPITAL.search(w.ctx.text):
        return q
    filters = q.filters.model_copy(update={"campus": [], "department": [], "doctor": []})
    return q.model_copy(update={"filters": filters})


def department_replaces_doctor(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """A department named now replaces the doctor an earlier turn was about."""
    if w.named("department") and not w.named("doctor") and q.filters.doctor:
        return q.model_copy(update={"filters": q.filters.model_copy(update={"doctor": []})})
    return q


def period_sets_time_breakdown(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """近三年 brings its own grain (by year): other time breakdowns the words do not ask for go."""
    if not (w.period and w.period.grain):
        return q
    group_by = [g for g in q.group_by if g not in TIME_GRAINS or g == w.period.grain or w.asks_group(g)]
    if not any(g in group_by for g in TIME_GRAINS):
        group_by.append(w.period.grain)
    return q.model_copy(update={"group_by": group_by})


def drill_down_drops_breakdown(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """本部 after 各院区, 罗医生 after 各科室: one of them now, so no breakdown by it."""
    narrowed = {m.kind for m in w.mentions if m.kind in ("campus", "department", "doctor", "insurance")}
    if visit_type(w.rest, w.reading.names):
        narrowed.add("visit_type")
    if "doctor" in narrowed:
        narrowed.add("department")
    group_by = [
        g
        for g in q.group_by
        if not (g in narrowed and len(getattr(q.filters, g)) <= 1 and not w.asks_group(g))
    ]
    return q.model_copy(update={"group_by": group_by})


def short_period_drops_coarse_breakdown(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """A one-year period has nothing to break down by year (nor a month by month)."""
    if not w.period or w.period.grain:
        return q
    span = (q.end.year - q.start.year) * 12 + q.end.month - q.start.month + 1
    group_by = [g for g in q.group_by if not (g in _MONTHS and span <= _MONTHS[g] and not w.asks_group(g))]
    return q.model_copy(update={"group_by": group_by})


def several_values_one_row_each(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """心内科和呼吸科对比: one row each, unless the question asks for their total (合计)."""
    group_by = list(q.group_by)
    for key, values in q.filters.active().items():
        if len(values) > 1 and key not in group_by and not P.COMBINED.search(w.ctx.text):
            group_by.insert(0, key)
    return q.model_copy(update={"group_by": group_by[:3]})


def ranking_needs_breakdown(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """A ranking ranks departments (or doctors, campuses): the question's own ranking gets the
    breakdown it implies; an inherited one that lost its breakdown (a drill-down) is dropped."""
    if q.rank is None or any(g in q.group_by for g in _RANKED):
        return q
    if read_rank(w.rest) is None and not any(g in q.group_by for g in ENTITIES):
        return q.model_copy(update={"rank": None})
    key = "doctor" if re.search(r"医生|doctor", w.rest) else "campus" if "院区" in w.rest else "department"
    return q.model_copy(update={"group_by": [key, *q.group_by][:3]})


def breakdown_replaces_inherited_filter(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """药占比排名前五的科室 after 心内科…: a breakdown by departments is over all of them, so the one
    department an earlier turn was about goes (unless this question names it)."""
    filters = {
        key: []
        for key in q.group_by
        if key in _RANKED and len(getattr(q.filters, key, [])) == 1 and not w.named(key)
    }
    if not filters:
        return q
    return q.model_copy(update={"filters": q.filters.model_copy(update=filters)})


def comparisons_in_order(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    return q.model_copy(update={"compare": [c for c in ("yoy", "mom") if c in q.compare]})


def same_period_last_year(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """那去年同期呢: the previous question's dates, a year earlier."""
    previous = w.ctx.previous
    if not (w.period and previous and w.reading.follows and not w.reading.names):
        return q
    if not re.search(r"(?:去年|上年)同期", w.period.text):
        return q
    return q.model_copy(
        update={
            "start": previous.start - relativedelta(years=1),
            "end": previous.end - relativedelta(years=1),
        }
    )


_AGAINST = re.compile(r"(?:比|较|相比于?|跟|和|与|同)$")


def compared_with_the_period_before(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """上个月比7月份多了还是少了, 2022年较2021年是升是降, 跟7月比呢 (after 上个月): a period said only to
    be compared with is the one before the asked period, so the plan asks for the asked period with
    环比 (the month or quarter before) or 同比 (a year before), never for the compared one."""
    text = w.ctx.text
    against = [
        t for t in w.ctx.times if (at := text.find(t.text)) > 0 and _AGAINST.search(text[max(0, at - 3) : at])
    ]
    if len(against) != 1:
        return q
    other = [t for t in w.ctx.times if t is not against[0]]
    base = (other[0].start, other[0].end) if other else None
    if base is None and w.ctx.previous is not None and len(w.ctx.times) == 1:
        base = (w.ctx.previous.start, w.ctx.previous.end)
    if base is None:
        return q
    compared = (against[0].start, against[0].end)
    for months, kind in ((1, "mom"), (3, "mom"), (12, "yoy")):
        shift = relativedelta(months=months)
        if (base[0] - shift, base[1] - shift) == compared or (
            base[0] - shift == compared[0] and base[1] - shift >= compared[1] - relativedelta(days=3)
        ):
            compare = [*q.compare, kind] if kind not in q.compare else q.compare
            return q.model_copy(update={"start": base[0], "end": base[1], "compare": compare})
    return q


def each_year_keeps_previous_range(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """每年分别多少 after 2020年到2022年: those years, by year (not every year of the data)."""
    previous = w.ctx.previous
    if not (w.period and previous and w.reading.follows):
        return q
    if (
        w.period.grain == "year"
        and w.period.start == w.data_start
        and previous.end.year > previous.start.year
    ):
        return q.model_copy(update={"start": previous.start, "end": previous.end})
    return q


def within_the_data(q: IndicatorQuery, w: Words) -> IndicatorQuery:
    """A period never starts before the data or ends after the as-of date."""
    start, end = max(q.start, w.data_start), min(q.end, w.as_of)
    if (start, end) == (q.start, q.end) or start > end:
        return q
    return q.model_copy(update={"start": start, "end": end})


CORRECTORS: tuple[Corrector, ...] = (
    whole_hospital,
    department_replaces_doctor,
    period_sets_time_breakdown,
    drill_down_drops_breakdown,
    short_period_drops_coarse_breakdown,
    several_values_one_row_each,
    ranking_needs_breakdown,
    breakdown_replaces_inherited_filter,
    compared_with_the_period_before,
    comparisons_in_order,
    same_period_last_year,
    each_year_keeps_previous_range,
    within_the_data,
)
