"""The few figures an answer computes itself from a result's rows, in one place: the headline states
them and the number check accepts them, so both always agree on what was computed."""

from __future__ import annotations

from indicators import IndicatorResult, QueryResult, Row


def is_trend(ind: IndicatorResult) -> bool:
    """Rows over one time grain and nothing else (a 近五年 series)."""
    return len(ind.rows) > 1 and ind.row_order == "time"


def is_breakdown(ind: IndicatorResult) -> bool:
    """Rows by dimensions alone, ordered by value (按科室看)."""
    return ind.row_order == "value_desc" and len(valued(ind)) > 1


def valued(ind: IndicatorResult) -> list[Row]:
    return [r for r in ind.rows if r.value is not None]


def spread(ind: IndicatorResult) -> float | None:
    """Highest minus lowest value of a breakdown."""
    if not is_breakdown(ind):
        return None
    values = [r.value for r in ind.rows if r.value is not None]
    return max(values) - min(values)


def ties(ind: IndicatorResult) -> tuple[list[Row], list[Row]]:
    """The rows sharing a breakdown's highest value and those sharing its lowest: 最高/最低 is true of
    each of them, so each is named (or counted: 等 22 个)."""
    if not is_breakdown(ind):
        return [], []
    rows = valued(ind)
    return [r for r in rows if r.value == rows[0].value], [r for r in rows if r.value == rows[-1].value]


def trend_ends(ind: IndicatorResult) -> tuple[Row, Row] | None:
    """The first and last rows a trend is read between: a count or amount of a partial last bucket
    (2023 to 09-08) is not set against full years, so its last full bucket is used instead."""
    if not is_trend(ind):
        return None
    rows = valued(ind)
    if ind.accumulates:
        rows = [r for r in rows if not r.partial]
    return (rows[0], rows[-1]) if len(rows) > 1 else None


def trend_change(ind: IndicatorResult) -> float | None:
    """The change between a trend's ends: percentage points for a % indicator, percent otherwise."""
    ends = trend_ends(ind)
    if ends is None:
        return None
    first, last = ends[0].value or 0.0, ends[1].value or 0.0
    if ind.unit == "%":
        return last - first
    return (last - first) / abs(first) * 100 if first else None


def figures(ind: IndicatorResult) -> list[float]:
    top, bottom = ties(ind)
    return [v for v in (spread(ind), trend_change(ind)) if v is not None] + [len(top), len(bottom)]


def scope_counts(q: QueryResult) -> list[int]:
    """How many members each filter holds (a group's total: 心血管内科、呼吸内科…等 11 个合计)."""
    return [len(names) for names in q.query.filters.values() if names]
