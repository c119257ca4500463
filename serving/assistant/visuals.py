"""A result's table and ECharts chart, as the reporting tools hospital staff know draw them: rows in
the result's order (a breakdown highest first), partial periods labelled with their end, 去年同期 and
同比增减 columns, a target line where a cited target applies, horizontal bars for many categories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from indicators import IndicatorResult, QueryResult, Row, Target
from indicators.catalog_models import TIME_GRAINS
from indicators.query.dimensions import GROUP_LABELS
from serving.assistant.targets_text import target_label
from serving.assistant.wording import bucket_text, dates, row_label

HORIZONTAL_AFTER = 12  # more categories than this and vertical bars' labels crowd; bars turn sideways


def table(ind: IndicatorResult) -> dict[str, Any]:
    keys = list(ind.rows[0].keys) if ind.rows else []
    comps = list(ind.rows[0].comparisons.values()) if ind.rows else []
    columns = [GROUP_LABELS.get(k, k) for k in keys] + [f"{ind.name}（{ind.unit}）"]
    for c in comps:
        columns += [c.label, f"{c.change_label}（{'百分点' if ind.unit == '%' else '%'}）"]
    rows = []
    for row in ind.rows:
        cells: list[Any] = [_key_cell(row, k) for k in keys] + [row.value]
        for c in comps:
            comp = row.comparisons[c.kind]
            cells += [comp.value, comp.change]
        rows.append(cells)
    return {"columns": columns, "rows": rows}


def _key_cell(row: Row, key: str) -> str:
    return bucket_text(row.keys[key], row, key) if key in TIME_GRAINS else row.keys[key]


def chart(ind: IndicatorResult, q: QueryResult, targets: Sequence[Target] = ()) -> dict[str, Any] | None:
    """``targets``: the cited targets that apply to this indicator's figure, drawn as lines."""
    if not ind.rows or not ind.rows[0].keys:
        return None
    time_axis = any(k in TIME_GRAINS for k in q.query.group_by)
    labels = [row_label(r) for r in ind.rows]
    values = [r.value for r in ind.rows]
    horizontal = not time_axis and len(labels) > HORIZONTAL_AFTER
    # triggerEvent: a click on a category's label drills down too, not only one on its bar
    categories: dict[str, Any] = {"type": "category", "data": labels, "triggerEvent": True}
    numbers: dict[str, Any] = {"type": "value", "name": ind.unit}
    if horizontal:
        categories["inverse"] = True  # the first row (the highest) on top, as in the table
    series: dict[str, Any] = {"type": "line" if time_axis else "bar", "name": ind.name, "data": values}
    if targets:
        axis = "xAxis" if horizontal else "yAxis"
        series["markLine"] = {
            "symbol": "none",
            "label": {"formatter": "{b}", "position": "insideEndTop"},
            "lineStyle": {"type": "dashed"},
            "data": [{"name": target_label(ind, t), axis: t.value} for t in targets],
        }
    partial = [r for r in ind.rows if r.partial]
    subtext = f"统计期 {dates(q.query.start, q.query.end)}"
    if partial:
        subtext += "；" + "、".join(row_label(r) for r in partial) + " 为不完整期间"
    return {
        "title": {"text": f"{ind.name}（{ind.unit}）", "subtext": subtext},
        "tooltip": {"trigger": "axis"},
        "grid": {"containLabel": True, "top": 64},
        "xAxis": numbers if horizontal else categories,
        "yAxis": categories if horizontal else numbers,
        "series": [series],
    }
