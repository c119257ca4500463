"""How answers say periods, values and changes, in the words of the reporting tools hospital staff
use (去年同期, 同比增减, 2023（截至09-08）), with no programmer notation (<=, [S], 口径版本 1.0)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from indicators import IndicatorResult, Row
from indicators.catalog_models import TIME_GRAINS
from indicators.query.models import Comparison
from indicators.query.periods import bucket_period, month_end
from serving.assistant.numbers import format_number

_RELIABILITY_TAG = re.compile(r"\s*[\[［][VSM](?:/[VSM])*[\]］]")
_QUARTERS = "一二三四"
_COMPARATOR = {"<=": "{v}以内", "<": "低于{v}", ">=": "不低于{v}", ">": "高于{v}", "=": "{v}"}
_SCOPE_ORDER = ("campus", "department", "doctor", "insurance", "visit_type")


def plain(text: str) -> str:
    """A catalog or corpus text without its reliability tags (they belong to the source line)."""
    return _RELIABILITY_TAG.sub("", text)


def unit_of(ind: IndicatorResult) -> str:
    return "" if ind.unit in ("无量纲", "比值") else ind.unit


def value_text(value: float | None, ind: IndicatorResult) -> str:
    unit = unit_of(ind)
    number = format_number(value, ind.precision)
    return number if value is None or not unit else f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def target_value_text(value: float, comparator: str, ind: IndicatorResult) -> str:
    """35% 以内, 不低于 88%: the target's figure with its comparator in words."""
    number = format_number(value, 0 if float(value).is_integer() else 2)
    unit = unit_of(ind)
    shown = f"{number}{unit}" if unit == "%" or not unit else f"{number} {unit}"
    return _COMPARATOR[comparator].format(v=shown)


def dates(start: date, end: date) -> str:
    """2023-01-01至09-08 within one year, 2022-07-01至2023-06-30 across years."""
    if start == end:
        return start.isoformat()
    tail = end.strftime("%m-%d") if start.year == end.year else end.isoformat()
    return f"{start.isoformat()}至{tail}"


def period_name(start: date, end: date, as_of: date) -> str:
    """The period as a person says it: 2022年, 2023年8月, 2023年第二季度, 2023年上半年,
    本年（2023-01-01至09-08）; any other span as its dates (followed by a comma, as a phrase)."""
    y = start.year
    if start == date(y, 1, 1) and end == date(y, 12, 31):
        return f"{y}年"
    if start.day == 1 and end == month_end(start):
        return f"{y}年{start.month}月"
    if start.day == 1 and start.month in (1, 7) and end == month_end(date(y, start.month + 5, 1)):
        return f"{y}年{'上' if start.month == 1 else '下'}半年"
    if start.day == 1 and start.month % 3 == 1 and end == month_end(date(y, start.month + 2, 1)):
        return f"{y}年第{_QUARTERS[start.month // 3]}季度"
    if end == as_of and start == date(as_of.year, 1, 1):
        return f"本年（{dates(start, end)}）"
    if end == as_of and start == as_of.replace(day=1):
        return f"本月（{dates(start, end)}）"
    return f"{dates(start, end)}，"


def bucket_text(label: str, row: Row, grain: str) -> str:
    """A time bucket's label, with how far a partial one reaches: 2023（截至09-08）."""
    if not row.partial:
        return label
    whole = bucket_period(grain, label)
    marks = []
    if row.start > whole.start:
        marks.append(f"自{row.start.strftime('%m-%d')}起")
    if row.end < whole.end:
        marks.append(f"截至{row.end.strftime('%m-%d')}")
    return f"{label}（{'，'.join(marks)}）"


def row_label(row: Row) -> str:
    """A row's keys as one label, a partial time bucket marked (心血管内科 2023（截至09-08））."""
    return " ".join(bucket_text(v, row, k) if k in TIME_GRAINS else v for k, v in row.keys.items())


def scope_text(filters: dict[str, list[str]], group_by: Sequence[str] = ()) -> str:
    """Who the figure is of: 全院, or the filters' members (东院区 心血管内科); a filter the rows are
    grouped by is named by the rows themselves."""
    if not any(filters.values()):
        return "全院"
    return " ".join(_members(filters[k]) for k in _SCOPE_ORDER if filters.get(k) and k not in group_by)


def _members(names: list[str], shown: int = 3) -> str:
    """心血管内科、呼吸内科 — or, for a group's total, 心血管内科、呼吸内科、消化内科等 11 个合计."""
    if len(names) <= shown:
        return "、".join(names)
    return "、".join(names[:shown]) + f"等 {len(names)} 个合计"


def change_text(comp: Comparison, ind: IndicatorResult) -> str:
    """比去年同期（36.67%）下降 0.22 个百分点 — the comparison value, then its change in words."""
    if comp.value is None:
        return f"{comp.label}（{dates(comp.start, comp.end)}）无可比数据"
    base = f"{comp.label}（{value_text(comp.value, ind)}）"
    if comp.change is None:
        return f"{comp.label}为 {value_text(comp.value, ind)}"
    if abs(comp.change) < 0.005:
        return f"与{base}持平"
    word = "上升" if comp.change > 0 else "下降"
    amount = (
        f"{format_number(abs(comp.change), 2)} 个百分点"
        if comp.change_unit == "百分点"
        else f"{format_number(abs(comp.change), 2)}%"
    )
    return f"比{base}{word} {amount}"
