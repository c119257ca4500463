"""The report as an Excel workbook: a summary, one sheet per turn with a native chart, 口径与SQL, 引用."""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from serving.reports.content import (
    CALIBER_LABELS,
    ChartData,
    Figure,
    Report,
    ResultTable,
    Section,
    plain,
)

_CELL_LIMIT = 32_000  # Excel refuses cells over 32,767 characters
_TRUNCATED = "\n……（内容过长，已截断）"
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_FIGURE_HEADER = ["指标", "分组", "统计期", "数值", "单位", "对比"]
_SUMMARY_WIDTHS = [14, 40, 24, 14, 8, 50]
_CALIBER_HEADER = ["问", "指标", "来源", *CALIBER_LABELS, "SQL"]
_CALIBER_WIDTHS = [6, 18, 10, 16, 30, 30, 40, 30, 24, 16, 20, 90]
_CITATION_HEADER = [
    "问",
    "序号",
    "文件",
    "文号",
    "条目",
    "发布机构",
    "发布日期",
    "状态",
    "可靠性说明",
    "原文",
]
_CITATION_WIDTHS = [6, 6, 30, 18, 30, 16, 10, 8, 50, 80]
_CHART_WIDTH_CM, _CHART_HEIGHT_CM = 18.0, 9.0
_NO_TABLE = "这一问没有数据表，回答见“概要”工作表，引用见“引用”工作表。"


def render_excel(report: Report) -> bytes:
    wb = Workbook()
    summary = wb.active
    summary.title = "概要"
    _summary_sheet(summary, report)
    for section in report.sections:
        _turn_sheet(wb.create_sheet(sheet_name(f"第{section.number}问")), section)
    _caliber_sheet(wb.create_sheet("口径与SQL"), report)
    _citation_sheet(wb.create_sheet("引用"), report)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\ and no leading or trailing apostrophe."""
    return re.sub(r"[\[\]:*?/\\]", "", name).strip("'")[:31] or "Sheet"


def number_format(precision: int) -> str:
    return "#,##0" if precision <= 0 else "#,##0." + "0" * precision


def _summary_sheet(ws: Worksheet, report: Report) -> None:
    _append(ws, [report.title])
    ws["A1"].font = _TITLE
    for label, value in report.meta:
        _text_row(ws, label, value)
    _text_row(ws, "说明", report.source_note)
    for note in report.notes:
        _text_row(ws, "注意", note)
    for s in report.sections:
        _append(ws, [])
        _append(ws, [f"第 {s.number} 问"])
        ws.cell(ws.max_row, 1).font = _BOLD
        _text_row(ws, "问题", s.question)
        _text_row(ws, "提问时间", s.asked_at)
        for note in s.notes:
            _text_row(ws, "注意", note)
        _text_row(ws, "回答", s.plain_answer)
        if s.clarification:
            _text_row(
                ws, "需要澄清", s.clarification + ("\n可选：" + "、".join(s.options) if s.options else "")
            )
        if s.refusal:
            _text_row(ws, "无法回答", s.refusal)
        if s.figures:
            _write_figures(ws, s.figures)
    _set_widths(ws, _SUMMARY_WIDTHS)


def _text_row(ws: Worksheet, label: str, text: str) -> None:
    """A label and a long text spread over the other columns, tall enough to show it whole."""
    _append(ws, [label, _clip(text)])
    row = ws.max_row
    ws.cell(row, 1).font = _BOLD
    ws.cell(row, 1).alignment = _WRAP
    ws.cell(row, 2).alignment = _WRAP
    last = len(_SUMMARY_WIDTHS)
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=last)
    # merged cells never grow by themselves in Excel, so the row height is estimated here
    ws.row_dimensions[row].height = min(15 * _line_count(text, sum(_SUMMARY_WIDTHS[1:])), 409)


def _write_figures(ws: Worksheet, figures: Sequence[Figure]) -> tuple[int, int]:
    """The figures as a table with numeric values; returns its header row and last row."""
    header_row = _header(ws, _FIGURE_HEADER)
    for f in figures:
        _append(ws, _figure_row(f))
        cell = ws.cell(ws.max_row, 4)
        cell.number_format = number_format(f.precision)
        ws.cell(ws.max_row, 6).alignment = _WRAP
    return header_row, ws.max_row


def _figure_row(f: Figure) -> list[object]:
    value = f.value_text if f.value_text.startswith("<") else f.value  # a withheld cell: "<5", not a blank
    return [f.indicator, f.group or "—", f.period, value, f.unit, "；".join(f.comparisons)]


def _turn_sheet(ws: Worksheet, s: Section) -> None:
    _append(ws, [f"第 {s.number} 问：{s.question}"])
    ws["A1"].font = _TITLE
    for note in s.notes:
        _append(ws, [note])
    if s.clarification or s.refusal:
        _append(ws, [s.refusal or s.clarification])
    if s.options:
        _append(ws, ["可选：" + "、".join(s.options)])
    _append(ws, [])
    widths: list[int] = []
    if s.table:
        header_row, last_row = _write_table(ws, s.table)
        widths = _fit_widths([s.table.columns, *s.table.rows])
    elif s.figures:
        header_row, last_row = _write_figures(ws, s.figures)
        widths = _fit_widths([_FIGURE_HEADER, *(_figure_row(f) for f in s.figures)])
    else:
        header_row = last_row = 0
        if not s.chart:
            _append(ws, [_NO_TABLE])
    if s.chart:
        for note in s.chart.notes:
            _append(ws, [note])
        if s.chart.drawable:
            _add_chart(ws, s.chart, s.table, header_row, last_row)
    _set_widths(ws, [max(w, 10) for w in widths])


def _write_table(ws: Worksheet, table: ResultTable) -> tuple[int, int]:
    header_row = _header(ws, table.columns)
    fmt = number_format(table.precision)
    for row in table.rows:
        _append(ws, row)
        for col, value in enumerate(row, start=1):
            if isinstance(value, float | int):
                ws.cell(ws.max_row, col).number_format = fmt
    return header_row, ws.max_row


def _add_chart(
    ws: Worksheet, chart: ChartData, table: ResultTable | None, header_row: int, last_row: int
) -> None:
    """A native chart over the result table's cells when they hold the chart's data, else over a
    small data block written under the table (the chart may come from a context query)."""
    columns = _chart_columns(chart, table)
    top = header_row
    if columns is None:
        _append(ws, [])
        _append(ws, ["图表数据"])
        ws.cell(ws.max_row, 1).font = _BOLD
        header_row = _header(ws, ["类别", *(x.name for x in chart.series)])
        for i, category in enumerate(chart.categories):
            _append(ws, [category, *(x.values[i] for x in chart.series)])
            for col, x in enumerate(chart.series, start=2):
                ws.cell(ws.max_row, col).number_format = number_format(x.precision)
        last_row = ws.max_row
        columns = list(range(2, len(chart.series) + 2))
    categories = Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row)
    charts: list[ChartBase] = []
    for kind in chart.kinds:
        native = LineChart() if kind == "line" else BarChart()
        for x, col in zip(chart.series, columns, strict=True):
            if x.kind == kind:
                native.add_data(
                    Reference(ws, min_col=col, min_row=header_row, max_row=last_row), titles_from_data=True
                )
        native.set_categories(categories)
        charts.append(native)
    main = charts[0]
    for extra in charts[1:]:
        main += extra
    main.title = chart.title or None
    main.y_axis.title = chart.y_name or None
    if len(chart.series) == 1:
        main.legend = None  # the title already names the only series
    # openpyxl 3.1 marks axes deleted unless told otherwise; Excel then draws no axis labels
    main.x_axis.delete = False
    main.y_axis.delete = False
    main.width, main.height = _CHART_WIDTH_CM, _CHART_HEIGHT_CM
    ws.add_chart(main, f"{get_column_letter(ws.max_column + 2)}{top or header_row}")


def _chart_columns(chart: ChartData, table: ResultTable | None) -> list[int] | None:
    """The table's column (1-based) holding each series, if its first column is the chart's categories."""
    if table is None or [row[0] if row else None for row in table.rows] != chart.categories:
        return None
    columns = []
    for x in chart.series:
        found = [c for c in range(1, len(table.columns)) if [row[c] for row in table.rows] == x.values]
        if not found:
            return None
        columns.append(found[0] + 1)
    return columns


def _caliber_sheet(ws: Worksheet, report: Report) -> None:
    _header(ws, _CALIBER_HEADER)
    for s in report.sections:
        for c in s.calibers:
            sql = "\n\n".join(f"-- 第 {n} 条\n{text}" for n, text in enumerate(c.sql, start=1))
            _append(ws, [s.number, c.indicator, c.source, *(v for _, v in c.items), _clip(sql)], wrap=True)
    _finish_list_sheet(ws, _CALIBER_WIDTHS)


def _citation_sheet(ws: Worksheet, report: Report) -> None:
    _header(ws, _CITATION_HEADER)
    for s in report.sections:
        for n, c in enumerate(s.citations, start=1):
            row = [s.number, n, c.title, c.doc_number, c.article, c.issuer, c.issue_date, c.status]
            _append(ws, [*row, c.reliability, _clip(c.text)], wrap=True)
    _finish_list_sheet(ws, _CITATION_WIDTHS)


def _finish_list_sheet(ws: Worksheet, widths: list[int]) -> None:
    ws.freeze_panes = "A2"
    _set_widths(ws, widths)
    if ws.max_row == 1:
        _append(ws, ["（无）"])


def _append(ws: Worksheet, values: Sequence[object], wrap: bool = False) -> None:
    """Append a row of stored text safely: no control characters, and no text read as a formula."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    if not values:
        return
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"  # a question like "=HYPERLINK(...)" stays text
        if wrap:
            cell.alignment = _WRAP


def _header(ws: Worksheet, labels: Sequence[str]) -> int:
    _append(ws, list(labels))
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
    return ws.max_row


def _set_widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _fit_widths(rows: Sequence[Sequence[object]]) -> list[int]:
    """Column widths from the widest cell, a Chinese character counting as two, capped at 50."""
    count = max((len(r) for r in rows), default=0)
    return [
        min(max((_display_width(r[c]) for r in rows if c < len(r)), default=8) + 2, 50) for c in range(count)
    ]


def _display_width(value: object) -> int:
    if value is None:
        return 0
    text = plain(
        value if isinstance(value, str) else f"{value:,.2f}" if isinstance(value, float) else str(value)
    )
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line_count(text: str, width: int) -> int:
    return max(1, sum(math.ceil(max(_display_width(line), 1) / width) for line in text.splitlines() or [""]))


def _clip(text: str) -> str:
    return text if len(text) <= _CELL_LIMIT else text[:_CELL_LIMIT] + _TRUNCATED
