"""The first line of a figure's answer: the question answered in plain words, whatever the result's
shape — one value with its comparisons, a trend with its ends, a breakdown with its highest and
lowest and the spread, a ranking with its members. Every ordinal is read off the rows it names."""

from __future__ import annotations

from indicators import IndicatorResult, QueryResult, Row
from indicators.query.dimensions import GROUP_LABELS
from serving.assistant import derived
from serving.assistant.numbers import format_number
from serving.assistant.wording import (
    bucket_text,
    change_text,
    period_name,
    row_label,
    scope_text,
    unit_of,
    value_text,
)


def headline(ind: IndicatorResult, q: QueryResult, tabled: bool) -> str:
    """``tabled``: the answer shows this result's rows in its table (so the text may point to it)."""
    period = period_name(q.query.start, q.query.end, q.as_of)
    scope = scope_text(q.query.filters, q.query.group_by)
    if scope == "全院" and q.scope != "全院":  # the caller sees only part of the hospital: say which
        scope = f"{q.scope}（您的数据范围）"
    if not ind.rows:
        return f"{period}{scope}{ind.name}：统计期内没有数据。"
    if len(ind.rows) == 1 and not ind.rows[0].keys:
        return _single(ind, q, period, scope)
    if ind.row_order == "rank":
        return _ranking(ind, q, period, scope)
    if derived.is_trend(ind):
        return _trend(ind, q, scope)
    if derived.is_breakdown(ind):
        return _breakdown(ind, q, period, scope)
    by = "、".join(GROUP_LABELS.get(g, g) for g in q.query.group_by)
    text = f"{period}{scope}{ind.name}按{by}分组，共 {len(ind.rows)} 行"
    return text + ("，见下表。" if tabled else "。")


def _single(ind: IndicatorResult, q: QueryResult, period: str, scope: str) -> str:
    row = ind.rows[0]
    if row.suppressed:
        return f"{period}{scope}{ind.name}基于少于 {q.min_cell} 例（人次），为保护患者隐私不显示数值。"
    if row.value is None:
        return f"{period}{scope}{ind.name}没有数据。"
    parts = [f"{period}{scope}{ind.name} {value_text(row.value, ind)}"]
    parts += [change_text(c, ind) for c in row.comparisons.values()]
    return "，".join(parts) + "。"


def _trend(ind: IndicatorResult, q: QueryResult, scope: str) -> str:
    grain = q.query.group_by[0]
    rows = derived.valued(ind)
    if not rows:
        return f"{scope}{ind.name}：统计期内没有数据。"
    ends = derived.trend_ends(ind)
    last = rows[-1]
    if ends is None:
        text = f"{scope}{ind.name}：{_point(last, ind, grain)}"
    else:
        first, end = ends
        change = derived.trend_change(ind)
        if change is None or abs(change) < 0.005:
            move = "基本持平"
        else:
            word = "上升" if change > 0 else "下降"
            unit = " 个百分点" if ind.unit == "%" else "%"
            move = f"{word} {format_number(abs(change), 2)}{unit}"
        text = (
            f"{_label(first, grain)}至{_label(end, grain)}，{scope}{ind.name}从 {value_text(first.value, ind)}"
            f"变为 {value_text(end.value, ind)}，{move}"
        )
        if last is not end:
            text += f"；{_point(last, ind, grain)}，不是完整的{_grain_word(grain)}，未与完整{_grain_word(grain)}比较"
    return text + "。"


def _breakdown(ind: IndicatorResult, q: QueryResult, period: str, scope: str) -> str:
    rows = derived.valued(ind)
    top, bottom = (_named(tied) for tied in derived.ties(ind))
    spread = derived.spread(ind) or 0.0
    unit = " 个百分点" if ind.unit == "%" else f" {unit_of(ind)}" if unit_of(ind) else ""
    by = "、".join(GROUP_LABELS.get(g, g) for g in q.query.group_by)
    withheld = sum(r.suppressed for r in ind.rows)
    missing = len(ind.rows) - len(rows) - withheld
    return (
        f"{period}{scope}{ind.name}按{by}：最高为{top} {value_text(rows[0].value, ind)}，"
        f"最低为{bottom} {value_text(rows[-1].value, ind)}，相差 {format_number(spread, ind.precision)}{unit}"
        f"（共 {len(rows)} 个{by}，按数值从高到低排列"
        + (f"；另有 {withheld} 个少于 {q.min_cell} 例，为保护隐私未显示" if withheld else "")
        + (f"；另有 {missing} 个无数据" if missing else "")
        + "）。"
    )


def _named(rows: list[Row], shown: int = 3) -> str:
    """Tied rows by name (最低为血液科、全科医学科), the first three and a count beyond them."""
    names = [row_label(r) for r in rows]
    return "、".join(names[:shown]) + (f"等 {len(names)} 个" if len(names) > shown else "")


def _ranking(ind: IndicatorResult, q: QueryResult, period: str, scope: str) -> str:
    rank = q.query.rank
    by = "、".join(GROUP_LABELS.get(g, g) for g in q.query.group_by if g in GROUP_LABELS)
    end = "最高" if rank is None or rank.order == "desc" else "最低"
    members = "；".join(f"{r.rank}. {row_label(r)} {value_text(r.value, ind)}" for r in ind.rows)
    return f"{period}{scope}{ind.name}{end}的 {len(ind.rows)} 个{by}：{members}。"


def _label(row: Row, grain: str) -> str:
    label = row.keys[grain]
    if row.partial:
        return bucket_text(label, row, grain)
    return f"{label}年" if grain == "year" else label


def _point(row: Row, ind: IndicatorResult, grain: str) -> str:
    return f"{_label(row, grain)}为 {value_text(row.value, ind)}"


def _grain_word(grain: str) -> str:
    return {"year": "年度", "quarter": "季度", "month": "月份", "day": "日"}[grain]
