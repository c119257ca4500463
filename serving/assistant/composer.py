"""Turn tool results into the answer: Chinese text, a table, an ECharts chart and the citations.

The text puts the figure first — the question answered in plain words (headline.py) — then the
target check (targets_text.py), then how the figure was computed and the sources. Every number in
it comes from a tool result or from derived.py's arithmetic on one, which ``check_numbers`` enforces
before the answer is shown.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, Field

from indicators import IndicatorResult, QueryResult
from retrieval import Citation
from retrieval.embeddings import Embedder
from serving.assistant import policy_answer, targets_text, visuals
from serving.assistant.citing import policy_paragraph
from serving.assistant.executor import ToolResult
from serving.assistant.headline import headline
from serving.assistant.numbers import check_numbers
from serving.assistant.wording import dates, plain, row_label, value_text
from serving.tools import Plan, SearchPolicyCall


class Answer(BaseModel):
    text: str
    table: dict[str, Any] | None = Field(None, description="{columns, rows} for multi-row results")
    chart: dict[str, Any] | None = Field(None, description="an ECharts option")
    citations: list[Citation] = Field(default_factory=list)


def compose(
    plan: Plan,
    results: list[ToolResult],
    embedder: Embedder | None = None,
    shown: Collection[str] = (),
) -> Answer:
    """``embedder``: the knowledge base's model, to choose a policy answer's statements by meaning.
    ``shown``: chunk ids earlier answers of the conversation cited; beside a figure they are not
    listed again (a policy question's own answer always cites its sources)."""
    if plan.refusal:
        return Answer(text=plan.refusal.message)
    if plan.clarification:
        c = plan.clarification
        options = "、".join(c.options) if c.options else ""
        return Answer(text=c.question + (f"可选：{options}。" if options else ""))
    heads: list[str] = []  # the figures, first
    checks: list[str] = []  # the target checks, right after
    footnotes: list[str] = []  # how each figure was computed
    table = chart = None
    citations = [h for r in results for h in r.citations]
    applied: dict[str, list] = {}  # indicator code -> the cited targets its figure was held against
    for r in results:
        if r.role == "context":
            continue  # context shows as the chart and the citations, not as more text
        if not r.ok:
            heads.append(_failure(r.error or {}))
        elif r.query is not None:
            for ind in r.query.results:
                multi = len(ind.rows) > 1 or bool(ind.rows and ind.rows[0].keys)
                tabled = multi and table is None
                heads.append(headline(ind, r.query, tabled))
                applied[ind.code] = [
                    t for t in ind.targets if targets_text.applying_source(r.query, t, citations)
                ]
                checks += [targets_text.target_sentence(ind, r.query, t, citations) for t in ind.targets]
                if multi:
                    table = table or visuals.table(ind)
                    chart = chart or visuals.chart(ind, r.query, applied[ind.code])
                footnotes.append(_footnote(ind))
        elif r.tool == "explain_indicator":
            heads.append(_explain(r.data["indicator"]))
        elif r.tool == "list_indicators":
            items = r.data["indicators"]
            heads.append(f"共有 {len(items)} 个指标：" + "、".join(i["name"] for i in items) + "。")
        elif r.tool == "list_dimension_values":
            values = r.data["values"]
            heads.append(f"共 {len(values)} 个：" + "、".join(values) + "。")
    context = [r.query for r in results if r.role == "context" and r.query is not None]
    for variant in (q for q in context if not q.query.group_by):
        for ind in variant.results:
            checks.append(_policy_caliber(ind, variant, citations))
    trend = next((q for q in context if q.query.group_by == ["year"]), None)
    if chart is None and trend is not None and trend.results:
        ind = trend.results[0]
        chart = visuals.chart(ind, trend, applied.get(ind.code, []))
        checks.append(_trend_pointer(ind))
    policy_only = bool(plan.calls) and all(isinstance(c, SearchPolicyCall) for c in plan.calls)
    parts = heads + checks + footnotes
    listed = citations
    if policy_only:
        parts.append(policy_answer.answer(plan.calls[0].arguments.query, citations, embedder).text)
    elif citations:
        listed = [c for c in citations if c.chunk_id not in shown]
        parts.append(policy_paragraph(listed) if listed else "政策依据同上文，不再重复列出。")
    text = "\n\n".join(p for p in parts if p)
    answer = Answer(text=text, table=table, chart=chart, citations=listed)
    check_numbers(answer.text, results)
    return answer


def _footnote(ind: IndicatorResult) -> str:
    """口径 and source in words; the version number and reliability go to the 计算口径 panel."""
    text = f"口径：{plain(ind.definition)}数据来源：{ind.source_document}。"
    return text + "".join(f"注：{plain(n)}" for n in ind.notes)


def _trend_pointer(ind: IndicatorResult) -> str:
    """Beside one figure, its yearly trend is the chart; say so, and which year is incomplete."""
    rows = [r for r in ind.rows if r.value is not None]
    if len(rows) < 2:
        return ""
    first, last = row_label(rows[0]), row_label(rows[-1])
    text = f"图为{ind.name} {first}至{last}逐年走势"
    if rows[-1].partial:
        text += f"，{last}不是全年" + ("，累计量不宜与全年直接比较" if ind.accumulates else "")
    return text + "。"


def _policy_caliber(ind: IndicatorResult, q: QueryResult, citations: list[Citation]) -> str:
    if len(ind.rows) != 1 or ind.rows[0].value is None:
        return ""
    lines = [
        f"政策目标按“{ind.name}”口径设定：同期该口径为 {value_text(ind.rows[0].value, ind)}"
        f"（{plain(ind.definition).rstrip('。')}，{dates(q.query.start, q.query.end)}）。"
    ]
    lines += [targets_text.target_sentence(ind, q, t, citations) for t in ind.targets]
    return "".join(lines)


def _explain(ind: dict[str, Any]) -> str:
    text = (
        f"**{ind['name']}**：{plain(ind['definition'])} 公式：{ind['formula']}。"
        f"单位：{ind['unit']}；导向：{ind['direction']}。"
    )
    if ind.get("caliber_note"):
        text += f"口径说明：{plain(ind['caliber_note'])}"
    if ind["status"] == "not_available":
        text += f"\n\n该指标目前无法从数据仓库计算：{ind['unavailable_reason']}"
    versions = ind.get("versions") or []
    if versions:
        text += "\n\n口径沿革：" + "；".join(
            f"{v['version']} 版自 {v['effective_from']} 起{('，' + v['note']) if v['note'] else ''}"
            for v in versions
        )
    return text


def _failure(error: dict) -> str:
    """A refused query in words; outside the caller's scope, politely, with what they may see."""
    message = error.get("message", "未知错误")
    if error.get("type") != "out_of_scope":
        return f"未能完成查询：{message}"
    visible = "、".join(error.get("valid") or [])
    offer = f"您可以查看：{visible}。" if visible else "可以换成您数据范围内的科室或指标再问。"
    return f"抱歉，这个问题超出了您的数据权限：{message}{offer}"
