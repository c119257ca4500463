"""What a report holds, independent of its format: the conversation's turns read into sections.

Every renderer draws from ``build_report`` only, so the PDF, the workbook and the Markdown file
always show the same figures. Everything comes from the stored responses: nothing is looked up again.
Responses are read as plain dicts, defensively: rows saved by older versions may lack fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from indicators.query.dimensions import GROUP_LABELS
from serving.assistant.citing import passage_prose, shorten
from serving.assistant.numbers import format_number
from serving.conversations import Conversation, Message

REPORT_TITLE = "opsbrain 运营分析报告"
MAX_TURNS = 50  # a report of a very long conversation stays a readable size; later turns export one by one
MAX_FIGURE_ROWS = 20  # grouped results list their rows in the result table; the figures keep the first ones
EXCERPT_CHARS = 300
EMPTY_NOTE = "（会话中还没有问答）"
MISSING_RESPONSE_NOTE = "这一问没有保存完整的回答记录，下面只列出回答文字。"
SOURCE_NOTE = (
    "报告中的数字由医院数据仓库经指标接口计算得出，照录提问时保存的结果，导出时不重新查询。"
    "各指标“口径说明”中的可靠性标记：[V] 已核实，[S] 单一来源，[M] 未核实。"
)
CHART_TYPES = ("line", "bar")
_NO_UNIT = ("无量纲", "比值", "")
_BEIJING = timezone(timedelta(hours=8))


class TurnNotFoundError(LookupError):
    """The requested turn is not one of the conversation's answered questions: the API answers 404."""


@dataclass(frozen=True)
class Figure:
    indicator: str
    group: str  # the row's keys (a department, a month), empty for a whole-hospital figure
    period: str
    value: float | None
    precision: int
    unit: str
    value_text: str
    comparisons: list[str]

    @property
    def cells(self) -> list[str]:
        return [self.indicator, self.group or "—", self.period, self.value_text, "；".join(self.comparisons)]


FIGURE_COLUMNS = ["指标", "分组", "统计期", "数值", "对比"]


@dataclass(frozen=True)
class ResultTable:
    columns: list[str]
    rows: list[list[str | float | None]]
    precision: int  # of the indicator the table lists: all its numeric columns share it


@dataclass(frozen=True)
class ChartSeries:
    name: str
    kind: str  # line | bar
    values: list[float | None]
    precision: int


@dataclass(frozen=True)
class ChartData:
    title: str
    categories: list[str]
    y_name: str
    series: list[ChartSeries]
    notes: list[str]  # series that cannot be drawn, said so instead of dropped silently

    @property
    def drawable(self) -> bool:
        return bool(self.categories and self.series)

    @property
    def kinds(self) -> list[str]:
        """The series types present, in a fixed order: each format draws one chart per type."""
        return [k for k in CHART_TYPES if any(s.kind == k for s in self.series)]


@dataclass(frozen=True)
class Caliber:
    indicator: str
    source: str  # 本问查询 (the plan's) or 补充查询 (context the assistant added)
    version: str
    definition: str
    formula: str
    comparison_rule: str
    caliber_note: str
    period: str
    filters: str
    grouping: str
    sql: list[str]

    @property
    def items(self) -> list[tuple[str, str]]:
        """Label/value pairs in CALIBER_LABELS order; the SQL is laid out by each format on its own."""
        values = [
            self.version,
            self.definition,
            self.formula,
            self.caliber_note,
            self.comparison_rule,
            self.period,
            self.filters,
            self.grouping,
        ]
        return list(zip(CALIBER_LABELS, values, strict=True))


CALIBER_LABELS = ["口径版本", "定义", "公式", "口径说明", "对比规则", "统计期", "筛选条件", "分组与排名"]


@dataclass(frozen=True)
class CitationItem:
    title: str
    doc_number: str
    article: str
    issuer: str
    issue_date: str
    status: str
    reliability: str
    text: str
    excerpt: str

    @property
    def heading(self) -> str:
        number = f"（{self.doc_number}）" if self.doc_number else ""
        return f"《{self.title}》{number}{self.article}"

    @property
    def source_line(self) -> str:
        parts = [self.issuer, self.issue_date, self.status]
        return "，".join(p for p in parts if p)


@dataclass
class Section:
    number: int
    question: str
    answer: str  # as stored, with **bold** markers: Markdown keeps them, the other formats strip them
    asked_at: str
    figures: list[Figure] = field(default_factory=list)
    table: ResultTable | None = None
    chart: ChartData | None = None
    calibers: list[Caliber] = field(default_factory=list)
    citations: list[CitationItem] = field(default_factory=list)
    clarification: str = ""
    options: list[str] = field(default_factory=list)
    refusal: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def plain_answer(self) -> str:
        return plain(self.answer)


@dataclass
class Report:
    title: str
    conversation_title: str
    exported_at: str
    as_of: str
    scope: str
    source_note: str
    sections: list[Section]
    notes: list[str]

    @property
    def meta(self) -> list[tuple[str, str]]:
        """The header's label/value lines, in the order every format prints them."""
        return [
            ("会话", self.conversation_title),
            ("导出时间", self.exported_at),
            ("数据截至", self.as_of or "未记录"),
            ("范围", self.scope),
        ]


def plain(text: str) -> str:
    return text.replace("**", "")


def with_unit(text: str, unit: str) -> str:
    return text if unit in _NO_UNIT or text == "—" else f"{text}{unit}"


def answered_turns(conversation: Conversation) -> list[tuple[str, Message]]:
    """Question/answer pairs, oldest first; a question still waiting for its answer is not a turn."""
    pairs: list[tuple[str, Message]] = []
    question: str | None = None
    for message in conversation.messages:
        if message.role == "user":
            question = message.content
        elif message.role == "assistant" and question is not None:
            pairs.append((question, message))
            question = None
    return pairs


def build_report(conversation: Conversation, turn: int | None, exported_at: datetime) -> Report:
    pairs = answered_turns(conversation)
    notes: list[str] = []
    if turn is not None:
        if not 1 <= turn <= len(pairs):
            raise TurnNotFoundError(_turn_range_message(len(pairs)))
        chosen = [(turn, *pairs[turn - 1])]
        scope = f"第 {turn} 问（会话共 {len(pairs)} 问）"
    else:
        chosen = [(n, q, m) for n, (q, m) in enumerate(pairs[:MAX_TURNS], start=1)]
        scope = f"全部 {len(pairs)} 个问答" if pairs else "全部问答"
        if len(pairs) > MAX_TURNS:
            notes.append(
                f"会话共有 {len(pairs)} 个问答，本报告只包含前 {MAX_TURNS} 个；其余问答请按序号逐个导出。"
            )
    sections = [_section(n, q, m) for n, q, m in chosen]
    if not pairs:
        notes.append(EMPTY_NOTE)
    cutoffs = sorted(
        {str(m.response["as_of"]) for _, _, m in chosen if m.response and m.response.get("as_of")}
    )
    return Report(
        title=REPORT_TITLE,
        conversation_title=conversation.title,
        exported_at=_timestamp(exported_at),
        as_of="、".join(cutoffs),
        scope=scope,
        source_note=SOURCE_NOTE,
        sections=sections,
        notes=notes,
    )


def _turn_range_message(count: int) -> str:
    if count == 0:
        return "会话中还没有问答，不能按 turn 导出"
    return f"会话只有 {count} 个问答，turn 应为 1 至 {count}"


def _timestamp(moment: datetime) -> str:
    # China keeps one time zone, so an aware time is shown in Beijing time; a naive one is shown as given
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def _section(number: int, question: str, message: Message) -> Section:
    # the store writes UTC; SQLite hands it back without its zone
    asked = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=UTC)
    section = Section(number=number, question=question, answer=message.content, asked_at=_timestamp(asked))
    response = message.response
    if not isinstance(response, dict):
        section.notes.append(MISSING_RESPONSE_NOTE)
        return section
    plan = response.get("plan") or {}
    clarification = plan.get("clarification") or {}
    section.clarification = str(clarification.get("question") or "")
    section.options = [str(o) for o in clarification.get("options") or []]
    section.refusal = str((plan.get("refusal") or {}).get("message") or "")
    results = [r for r in response.get("tool_results") or [] if isinstance(r, dict)]
    for result in results:
        query = result.get("query") or {}
        plan_role = result.get("role") == "plan"
        if plan_role and not result.get("ok", True):
            message_text = (result.get("error") or {}).get("message") or "未知错误"
            section.notes.append(f"有一项查询未能完成：{message_text}")
        for indicator in query.get("results") or []:
            if plan_role:
                section.figures += _figures(indicator, section.notes, int(query.get("min_cell") or 5))
            section.calibers.append(_caliber(indicator, query.get("query") or {}, plan_role))
    precisions = _precisions(results)
    section.table = _table(response.get("table"), results, precisions)
    section.chart = _chart(response.get("chart"), precisions)
    section.citations = [_citation(c) for c in response.get("citations") or [] if isinstance(c, dict)]
    return section


def _figures(indicator: dict[str, Any], notes: list[str], min_cell: int) -> list[Figure]:
    name = str(indicator.get("name", ""))
    unit = str(indicator.get("unit") or "")
    precision = _precision(indicator)
    rows = [r for r in indicator.get("rows") or [] if isinstance(r, dict)]
    if len(rows) > MAX_FIGURE_ROWS:
        notes.append(f"{name}共 {len(rows)} 行，关键数字只列出前 {MAX_FIGURE_ROWS} 行。")
    figures = []
    for row in rows[:MAX_FIGURE_ROWS]:
        value = _number(row.get("value"))
        figures.append(
            Figure(
                indicator=name,
                group=" ".join(str(v) for v in (row.get("keys") or {}).values()),
                period=_period(row.get("start"), row.get("end")),
                value=value,
                precision=precision,
                unit=unit,
                # a withheld cell (too few cases to show) reads as such in every report format
                value_text=f"<{min_cell}"
                if row.get("suppressed")
                else with_unit(format_number(value, precision), unit),
                comparisons=[
                    f"{c.get('label') or '对比'} <{min_cell}（{_period(c.get('start'), c.get('end'))}）"
                    if c.get("suppressed")
                    else _comparison(c, precision, unit)
                    for c in (row.get("comparisons") or {}).values()
                ],
            )
        )
    return figures


def _comparison(comp: dict[str, Any], precision: int, unit: str) -> str:
    label = str(comp.get("label") or comp.get("kind") or "对比")
    period = _period(comp.get("start"), comp.get("end"))
    value = _number(comp.get("value"))
    if value is None:
        return f"{label} 无可比数据（{period}）"
    change = _number(comp.get("change"))
    if not change:
        trend = "持平"
    else:
        change_unit = str(comp.get("change_unit") or "")
        gap = "" if change_unit in ("%", "‰", "") else " "
        trend = f"{'上升' if change > 0 else '下降'} {format_number(abs(change), 2)}{gap}{change_unit}"
    return f"{label} {with_unit(format_number(value, precision), unit)}（{trend}，{period}）"


def _caliber(indicator: dict[str, Any], query: dict[str, Any], plan_role: bool) -> Caliber:
    version = str(indicator.get("version") or "")
    note = str(indicator.get("version_note") or "")
    return Caliber(
        indicator=str(indicator.get("name", "")),
        source="本问查询" if plan_role else "补充查询",
        version=f"{version}（{note}）" if note else version,
        definition=str(indicator.get("definition") or ""),
        formula=str(indicator.get("formula") or ""),
        caliber_note=str(indicator.get("caliber_note") or ""),
        comparison_rule=str(indicator.get("comparison_rule") or ""),
        period=_period(query.get("start"), query.get("end")),
        filters=_filters(query.get("filters") or {}),
        grouping=_grouping(query.get("group_by") or [], query.get("rank")),
        sql=[str(s) for s in indicator.get("sql") or []],
    )


def _filters(filters: dict[str, Any]) -> str:
    parts = [f"{GROUP_LABELS.get(k, k)}：{'、'.join(map(str, v))}" for k, v in filters.items() if v]
    return "；".join(parts) or "无（全院）"


def _grouping(group_by: list[str], rank: dict[str, Any] | None) -> str:
    text = "按" + "、".join(GROUP_LABELS.get(g, g) for g in group_by) + "分组" if group_by else "不分组"
    if isinstance(rank, dict):
        order = "从高到低" if rank.get("order", "desc") == "desc" else "从低到高"
        text += f"，{order}排名" + (f"取前 {rank['limit']} 位" if rank.get("limit") else "")
    return text


def _precisions(results: list[dict[str, Any]]) -> dict[str, int]:
    """Each indicator's precision by name, the plan's first: tables and charts carry only names."""
    found: dict[str, int] = {}
    for result in sorted(results, key=lambda r: r.get("role") != "plan"):
        for indicator in (result.get("query") or {}).get("results") or []:
            found.setdefault(str(indicator.get("name", "")), _precision(indicator))
    return found


def _table(table: Any, results: list[dict[str, Any]], precisions: dict[str, int]) -> ResultTable | None:
    if not isinstance(table, dict) or not table.get("columns"):
        return None
    columns = [str(c) for c in table["columns"]]
    # the composer names the value column "指标（单位）", so the longest matching name is the indicator
    names = sorted((n for n in precisions if n and any(c.startswith(n) for c in columns)), key=len)
    precision = precisions[names[-1]] if names else 2
    rows = [[_cell(v) for v in row] for row in table.get("rows") or [] if isinstance(row, list)]
    return ResultTable(columns=columns, rows=rows, precision=precision)


def _chart(chart: Any, precisions: dict[str, int]) -> ChartData | None:
    if not isinstance(chart, dict):
        return None
    x_axis = chart.get("xAxis") or {}
    y_axis = chart.get("yAxis") or {}
    categories = [str(c) for c in (x_axis.get("data") or [])]
    series, notes = [], []
    for item in chart.get("series") or []:
        kind = str(item.get("type") or "")
        name = str(item.get("name") or "")
        if kind not in CHART_TYPES:
            notes.append(f"图表中的数据系列“{name}”类型为“{kind or '未注明'}”，报告无法绘制，已略过。")
            continue
        values = [_number(v) for v in item.get("data") or []]
        if categories:  # one value per category, so every format can lay them out side by side
            values = (values + [None] * len(categories))[: len(categories)]
        series.append(ChartSeries(name=name, kind=kind, values=values, precision=precisions.get(name, 2)))
    return ChartData(
        title=str((chart.get("title") or {}).get("text") or ""),
        categories=categories,
        y_name=str(y_axis.get("name") or ""),
        series=series,
        notes=notes,
    )


def _citation(c: dict[str, Any]) -> CitationItem:
    text = passage_prose(str(c.get("text") or ""))
    return CitationItem(
        title=str(c.get("title") or ""),
        doc_number=str(c.get("doc_number") or ""),
        article=str(c.get("article") or ""),
        issuer="医院内部文件"
        if c.get("scope") == "internal" and not c.get("issuer")
        else str(c.get("issuer") or ""),
        issue_date=str(c.get("issue_date") or ""),
        status=str(c.get("status") or ""),
        reliability=str(c.get("reliability") or ""),
        text=text,
        excerpt=shorten(text, EXCERPT_CHARS),
    )


def _precision(indicator: dict[str, Any]) -> int:
    value = indicator.get("precision")
    return value if isinstance(value, int) and 0 <= value <= 10 else 2


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _cell(value: Any) -> str | float | None:
    if isinstance(value, str):
        return value
    return _number(value) if value is None or isinstance(value, int | float) else str(value)


def cell_text(value: str | float | None, precision: int) -> str:
    """A table cell as text, numbers with the indicator's precision."""
    return value if isinstance(value, str) else format_number(value, precision)


def _period(start: Any, end: Any) -> str:
    if not start and not end:
        return ""
    return f"{start} 至 {end}" if start != end else str(start)
