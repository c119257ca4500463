"""Turn tool results into the answer: Chinese text, a table, an ECharts chart and the citations.

Every number in the text comes from a tool result. ``check_numbers`` enforces it: the composer lists
the numbers it was given (values, comparisons, periods, targets, cited passages) and any other number
in the text is an error, so a template or model that invents a figure is caught before it is shown.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from indicators import IndicatorResult, QueryResult
from indicators.catalog_models import Target
from retrieval import Citation
from retrieval.embeddings import Embedder
from serving.assistant import policy_answer
from serving.assistant.executor import ToolResult
from serving.tools import Plan, SearchPolicyCall

_NUMBER = re.compile(r"(?<![A-Za-z])-?\d+(?:,\d{3})*(?:\.\d+)?")
_GROUP_LABELS = {
    "campus": "院区",
    "department": "科室",
    "doctor": "医生",
    "insurance": "医保类型",
    "visit_type": "就诊类型",
    "year": "年度",
    "quarter": "季度",
    "month": "月份",
    "day": "日期",
}


class Answer(BaseModel):
    text: str
    table: dict[str, Any] | None = Field(None, description="{columns, rows} for multi-row results")
    chart: dict[str, Any] | None = Field(None, description="an ECharts option")
    citations: list[Citation] = Field(default_factory=list)


class UnsupportedNumberError(ValueError):
    """The answer text holds a number that no tool result gave."""


def compose(plan: Plan, results: list[ToolResult], embedder: Embedder | None = None) -> Answer:
    """``embedder``: the knowledge base's model, to choose a policy answer's statements by meaning."""
    if plan.refusal:
        return Answer(text=plan.refusal.message)
    if plan.clarification:
        c = plan.clarification
        options = "、".join(c.options) if c.options else ""
        return Answer(text=c.question + (f"可选：{options}。" if options else ""))
    parts: list[str] = []
    table = chart = None
    citations = [h for r in results for h in r.citations]
    for r in results:
        if r.role == "context":
            continue  # context shows as the chart and the citations, not as more text
        if not r.ok:
            parts.append(f"未能完成查询：{(r.error or {}).get('message', '未知错误')}")
        elif r.query is not None:
            for ind in r.query.results:
                parts.append(_describe(ind, r.query))
                if len(ind.rows) > 1 or (ind.rows and ind.rows[0].keys):
                    table = table or _table(ind, r.query)
                    chart = chart or _chart(ind, r.query)
                parts += [_target_sentence(ind, r.query, t, citations) for t in ind.targets]
        elif r.tool == "explain_indicator":
            parts.append(_explain(r.data["indicator"]))
        elif r.tool == "list_indicators":
            items = r.data["indicators"]
            parts.append(f"共有 {len(items)} 个指标：" + "、".join(i["name"] for i in items) + "。")
        elif r.tool == "list_dimension_values":
            values = r.data["values"]
            parts.append(f"共 {len(values)} 个：" + "、".join(values) + "。")
    context = [r.query for r in results if r.role == "context" and r.query is not None]
    for variant in (q for q in context if not q.query.group_by):
        for ind in variant.results:
            parts.append(_policy_caliber(ind, variant, citations))
    trend = next((q for q in context if q.query.group_by == ["year"]), None)
    if chart is None and trend is not None and trend.results:
        chart = _chart(trend.results[0], trend)
        first, last = trend.query.start.year, trend.query.end.year
        parts.append(f"{trend.results[0].name} {first}—{last} 年逐年走势见图。")
    policy_only = bool(plan.calls) and all(isinstance(c, SearchPolicyCall) for c in plan.calls)
    if policy_only:
        parts.append(policy_answer.answer(plan.calls[0].arguments.query, citations, embedder).text)
    elif citations:
        parts.append(_policy_paragraph(citations))
    text = "\n\n".join(p for p in parts if p)
    answer = Answer(text=text, table=table, chart=chart, citations=citations)
    check_numbers(answer.text, results)
    return answer


def format_number(value: float | None, precision: int) -> str:
    """A figure as answers and reports show it: thousands separators, the indicator's precision."""
    return "—" if value is None else f"{value:,.{precision}f}"


def _period(start: date, end: date) -> str:
    return f"{start.isoformat()} 至 {end.isoformat()}"


def _describe(ind: IndicatorResult, q: QueryResult) -> str:
    unit = "" if ind.unit in ("无量纲", "比值") else ind.unit
    head = f"**{ind.name}**（{_period(q.query.start, q.query.end)}）"
    filters = "，".join("、".join(v) for v in q.query.filters.values())
    if filters:
        head += f"，{filters}"
    lines = []
    if len(ind.rows) == 1 and not ind.rows[0].keys:
        row = ind.rows[0]
        lines.append(f"{head}为 {format_number(row.value, ind.precision)}{unit}。")
        for comp in row.comparisons.values():
            if comp.value is None:
                lines.append(f"{comp.label}（{_period(comp.start, comp.end)}）无可比数据。")
                continue
            trend = "持平" if not comp.change else ("上升" if comp.change > 0 else "下降")
            change = "" if not comp.change else f" {format_number(abs(comp.change), 2)}{comp.change_unit}"
            lines.append(
                f"{comp.label}（{_period(comp.start, comp.end)}）为 {format_number(comp.value, ind.precision)}{unit}，{trend}{change}。"
            )
    else:
        lines.append(f"{head}共 {len(ind.rows)} 行，见下表。")
        ranked = [r for r in ind.rows if r.value is not None]
        if ranked and (
            q.query.rank or any(k in q.query.group_by for k in ("department", "campus", "doctor"))
        ):
            top = ranked[0]
            label = " ".join(top.keys.values())
            lines.append(f"第一位：{label}，{format_number(top.value, ind.precision)}{unit}。")
    lines.append(f"口径：{ind.definition}（口径版本 {ind.version}）。数据来源：{ind.source_document}。")
    return "".join(lines)


def _target_sentence(ind: IndicatorResult, q: QueryResult, target: Target, citations: list[Citation]) -> str:
    """Compare with a target only when a cited passage comes from the document that states it, the
    period lies in the years the target is set for, and the figure is the hospital's or a campus's
    (a hospital target says nothing about one department)."""
    if len(ind.rows) != 1 or ind.rows[0].keys or ind.rows[0].value is None:
        return ""
    if q.query.filters.get("department") or q.query.filters.get("doctor"):
        return ""
    if (target.applies_from and q.query.start < target.applies_from) or (
        target.applies_to and q.query.end > target.applies_to
    ):
        return ""
    source = next((c for c in citations if _states(c, target)), None)
    if source is None:
        return ""
    value = ind.rows[0].value
    met = {
        "<": value < target.value,
        "<=": value <= target.value,
        ">": value > target.value,
        ">=": value >= target.value,
        "=": value == target.value,
    }[target.comparator]
    whose = "本院内部目标（医院自行设定，不是国家规定）" if target.kind == "internal" else "国家政策目标"
    verdict = "符合" if met else "未达到"
    caveat = f"说明：{target.note}" if target.note else ""
    return (
        f"对照{whose}（{source.label}：{target.scope}，{target.comparator} {format_number(target.value, 2)}{ind.unit}），"
        f"本期 {format_number(value, ind.precision)}{ind.unit}，{verdict}该目标。{caveat}"
    )


def _policy_caliber(ind: IndicatorResult, q: QueryResult, citations: list[Citation]) -> str:
    if len(ind.rows) != 1 or ind.rows[0].value is None:
        return ""
    unit = "" if ind.unit in ("无量纲", "比值") else ind.unit
    lines = [
        f"政策目标按“{ind.name}”口径设定：同期该口径为 {format_number(ind.rows[0].value, ind.precision)}{unit}"
        f"（{ind.definition.rstrip('。')}）。"
    ]
    lines += [_target_sentence(ind, q, t, citations) for t in ind.targets]
    return "".join(lines)


def _states(citation: Citation, target: Target) -> bool:
    """Whether a cited passage comes from the document a target is taken from."""
    if target.kind == "internal":
        return citation.scope == "internal" and bool(citation.title) and citation.title in target.document
    return bool(citation.doc_number) and citation.doc_number in target.document


def _explain(ind: dict[str, Any]) -> str:
    text = f"**{ind['name']}**：{ind['definition']} 公式：{ind['formula']}。单位：{ind['unit']}；导向：{ind['direction']}。"
    if ind.get("caliber_note"):
        text += f"口径说明：{ind['caliber_note']}"
    if ind["status"] == "not_available":
        text += f"\n\n该指标目前无法从数据仓库计算：{ind['unavailable_reason']}"
    versions = ind.get("versions") or []
    if versions:
        text += "\n\n口径版本：" + "；".join(
            f"{v['version']}（{v['effective_from']} 起）{v['note']}" for v in versions
        )
    return text


def _policy_paragraph(citations: list[Citation]) -> str:
    """Beside a figure: each cited passage by its first whole statements (never cut inside one)."""
    lines = ["相关政策与文件："]
    for n, c in enumerate(citations, start=1):
        origin = "医院内部文件" if c.scope == "internal" else c.issuer
        statements = [s.text for s in policy_answer.statements_of(c, n - 1)]
        snippet = ""
        for statement in statements:
            if snippet and len(snippet) + len(statement) > 160:
                break
            snippet += statement
        lines.append(f"[{n}] {c.label}（{origin}）：{snippet or shorten(passage_prose(c.text), 160)}")
    return "\n".join(lines)


def passage_prose(text: str) -> str:
    """A cited passage as one line of prose: its heading lines (shown with the citation) dropped."""
    return re.sub(r"\s+", " ", re.sub(r"^#+ .*$", "", text, flags=re.M)).strip()


def shorten(text: str, limit: int) -> str:
    """Cut at ``limit`` characters, but never inside a number: 79.8 cut to 7 would be a new figure."""
    if len(text) <= limit:
        return text
    cut = limit
    while cut > 0 and re.match(r"[\d.,]", text[cut]) and re.match(r"[\d.,]", text[cut - 1]):
        cut -= 1
    return text[:cut].rstrip(".,") + "…"


def _table(ind: IndicatorResult, q: QueryResult) -> dict[str, Any]:
    keys = list(ind.rows[0].keys) if ind.rows else []
    comps = list(ind.rows[0].comparisons) if ind.rows else []
    columns = [_GROUP_LABELS.get(k, k) for k in keys] + [f"{ind.name}（{ind.unit}）"]
    columns += [ind.rows[0].comparisons[c].label for c in comps] if comps else []
    rows = []
    for row in ind.rows:
        cells: list[Any] = [*row.keys.values(), row.value]
        cells += [row.comparisons[c].value for c in comps]
        rows.append(cells)
    return {"columns": columns, "rows": rows}


def _chart(ind: IndicatorResult, q: QueryResult) -> dict[str, Any] | None:
    if not ind.rows or not ind.rows[0].keys:
        return None
    time_axis = any(k in ("year", "quarter", "month", "day") for k in q.query.group_by)
    labels = [" ".join(r.keys.values()) for r in ind.rows]
    values = [r.value for r in ind.rows]
    return {
        "title": {"text": f"{ind.name}（{ind.unit}）"},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": ind.unit},
        "series": [{"type": "line" if time_axis else "bar", "name": ind.name, "data": values}],
    }


def allowed_numbers(results: list[ToolResult]) -> set[str]:
    """Every number a tool result states, in the forms the composer may print it."""
    found: set[str] = set()

    def add(value: float | int | None, precision: int = 2) -> None:
        if value is None:
            return
        for p in {precision, 0, 1, 2}:
            found.add(_canon(f"{value:.{p}f}"))
            found.add(_canon(f"{abs(value):.{p}f}"))

    for r in results:
        # dates, codes, document numbers, passage text, explain/list data; read from the strings
        # themselves, since JSON would escape a line break before a number (\n3 reads as n3)
        for text in _strings(r.model_dump(mode="json")):
            found.update(_canon(n) for n in _NUMBER.findall(text))
        if r.query:
            for ind in r.query.results:
                for row in ind.rows:
                    add(row.value, ind.precision)
                    for comp in row.comparisons.values():
                        add(comp.value, ind.precision)
                        add(comp.change)
                for target in ind.targets:
                    add(target.value)
                found.add(str(len(ind.rows)))
        found.update({str(len(r.data.get("indicators", []))), str(len(r.data.get("values", [])))})
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def check_numbers(text: str, results: list[ToolResult]) -> None:
    allowed = allowed_numbers(results)
    # list markers [1] [2] of the citations are numbering, not figures
    stray = [n for n in _NUMBER.findall(re.sub(r"\[\d+\]", "", text)) if _canon(n) not in allowed]
    if stray:
        raise UnsupportedNumberError(f"数字不是来自工具结果：{', '.join(stray)}")


def _canon(number: str) -> str:
    text = number.replace(",", "").lstrip("-")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
