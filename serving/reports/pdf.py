"""The report as an A4 PDF (reportlab platypus): text, tables, charts drawn as vector graphics, SQL appendix."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from serving.assistant.citing import shorten
from serving.reports.content import (
    FIGURE_COLUMNS,
    Caliber,
    ChartData,
    ChartSeries,
    Report,
    Section,
    cell_text,
    plain,
)
from serving.reports.fonts import report_font

MARGIN = 18 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN
CHART_HEIGHT = 230
MAX_UPRIGHT_LABELS = 12  # more category labels than this are turned 45° so they do not overlap
MAX_SHOWN_LABELS = 24  # beyond this only every k-th label is written
CITATION_CHARS = 120  # a citation's remark and excerpt in the PDF; the web UI and Excel show them whole
MAX_TABLE_ROWS = 20  # a question keeps to two pages; the Excel export holds every row
SQL_LINE_CHARS = 100  # Preformatted does not wrap by itself; longer lines are split
PALETTE = [colors.HexColor(c) for c in ("#2f6db5", "#d9822b", "#3a9a5b", "#c23b3b", "#7b5ea7", "#5f6b73")]
_GRID = colors.HexColor("#b8c2cc")
_HEADER_BG = colors.HexColor("#e3ecf7")
_MUTED = colors.HexColor("#555555")


class _Styles:
    def __init__(self, font: str) -> None:
        def style(name: str, size: float, **kw: object) -> ParagraphStyle:
            # wordWrap="CJK" lets a line break between any two Chinese characters (there are no spaces)
            return ParagraphStyle(
                name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **kw
            )

        self.font = font
        self.title = style("title", 18, spaceAfter=8)
        # headings keep with what follows, so none is left alone at the foot of a page
        self.h2 = style(
            "h2", 13.5, spaceBefore=12, spaceAfter=6, keepWithNext=1, textColor=colors.HexColor("#1f3b63")
        )
        self.h3 = style("h3", 11, spaceBefore=8, spaceAfter=4, keepWithNext=1)
        self.body = style("body", 9.5, spaceAfter=4)
        self.small = style("small", 8.5, textColor=_MUTED, spaceAfter=3)
        self.note = style("note", 9, textColor=colors.HexColor("#8a5300"), spaceAfter=4)
        self.cell = style("cell", 8.5)
        self.number = style("number", 8.5, alignment=TA_RIGHT)
        self.code = ParagraphStyle(
            "code", fontName=font, fontSize=7.5, leading=9.5, backColor=colors.whitesmoke
        )


def render_pdf(report: Report) -> bytes:
    font = report_font()
    st = _Styles(font.name)
    story: list[Flowable] = [Paragraph(_esc(report.title), st.title)]
    story += [Paragraph(f"{_esc(label)}：{_esc(value)}", st.body) for label, value in report.meta]
    story.append(Paragraph(_esc(report.source_note), st.small))
    story += [Paragraph(_esc(note), st.note) for note in report.notes]
    for i, section in enumerate(report.sections):
        if i:
            story.append(PageBreak())  # each question starts a page: its figures and chart lead it
        story += _section(section, st)
    story += _sql_appendix(report, st)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=report.title,
        subject=report.conversation_title,
        author="opsbrain",
    )

    def footer(canvas: Canvas, _doc: object) -> None:
        canvas.saveState()
        canvas.setFont(font.name, 8)
        canvas.setFillColor(_MUTED)
        canvas.drawCentredString(A4[0] / 2, MARGIN / 2, f"{report.title} · 第 {canvas.getPageNumber()} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _section(s: Section, st: _Styles) -> list[Flowable]:
    """One question: its answer's first line, key figures and chart on the first page, then the rest
    of the answer, the table (at most MAX_TABLE_ROWS rows), 口径 and citations."""
    out: list[Flowable] = [
        Paragraph(f"第 {s.number} 问：{_esc(s.question)}", st.h2),
        Paragraph(f"提问时间：{_esc(s.asked_at)}", st.small),
    ]
    out += [Paragraph(_esc(note), st.note) for note in s.notes]
    # the policy excerpts beside a figure are the citations below: not printed twice
    paragraphs = [p for p in s.plain_answer.split("\n\n") if p.strip() and not p.startswith("相关政策与文件")]
    lead, rest = paragraphs[:1], paragraphs[1:]
    out += [Paragraph(_esc(p).replace("\n", "<br/>"), st.body) for p in lead]
    if s.clarification:
        options = f"<br/>可选：{_esc('、'.join(s.options))}" if s.options else ""
        out.append(Paragraph(f"需要澄清：{_esc(s.clarification)}{options}", st.note))
    if s.refusal:
        out.append(Paragraph(f"无法回答：{_esc(s.refusal)}", st.note))
    first_page: list[Flowable] = []
    if s.figures:
        first_page.append(Paragraph("关键数字", st.h3))
        first_page.append(
            _table(FIGURE_COLUMNS, [f.cells for f in s.figures], st, widths=[0.16, 0.12, 0.2, 0.12, 0.4])
        )
    if s.chart:
        first_page += _chart(s.chart, st)
    if first_page:
        out.append(KeepTogether(first_page))
    if rest:
        out.append(Paragraph("回答", st.h3))
        out += [Paragraph(_esc(p).replace("\n", "<br/>"), st.body) for p in rest]
    if s.table:
        shown = s.table.rows[:MAX_TABLE_ROWS]
        rows = [[cell_text(v, s.table.precision) for v in row] for row in shown]
        numeric = [
            any(isinstance(row[c], float) for row in s.table.rows if c < len(row))
            for c in range(len(s.table.columns))
        ]
        out.append(Paragraph("结果表", st.h3))
        out.append(_table(s.table.columns, rows, st, numeric=numeric))
        if len(s.table.rows) > len(shown):
            more = len(s.table.rows) - len(shown)
            out.append(Paragraph(f"表中列出前 {len(shown)} 行，其余 {more} 行见 Excel 导出。", st.small))
    if s.calibers:
        out.append(Paragraph("计算口径", st.h3))
        for i, c in enumerate(s.calibers, start=1):
            out.append(_caliber(c, _sql_anchor(s.number, i), st))
    if s.citations:
        out.append(Paragraph("引用", st.h3))
        for n, c in enumerate(s.citations, start=1):
            source = f"（{_esc(c.source_line)}）" if c.source_line else ""
            lines = [f"[{n}] {_esc(c.heading)}{source}"]
            if c.reliability:
                reliability = _esc(shorten(c.reliability, CITATION_CHARS))
                lines.append(f"<font size=8 color='#555555'>可靠性：{reliability}</font>")
            if c.excerpt:
                excerpt = _esc(shorten(c.excerpt, CITATION_CHARS))
                lines.append(f"<font size=8 color='#555555'>原文摘录：{excerpt}</font>")
            out.append(Paragraph("<br/>".join(lines), st.body))
    return out


def _caliber(c: Caliber, anchor: str, st: _Styles) -> Flowable:
    """The question's own query in full; a context query the assistant added (补充查询) in one line
    with its period, so that a question keeps to two pages (the Excel export has every field)."""
    lines = [f"<b>{_esc(c.indicator)}</b>（{_esc(c.source)}）"]
    if c.source == "本问查询":
        lines += [f"{_esc(label)}：{_esc(value)}" for label, value in c.items if value]
    else:
        lines[0] += f"：{_esc(c.version)}，{_esc(c.period)}，{_esc(c.grouping)}"
    if c.sql:
        lines.append(
            f'执行的 SQL：共 {len(c.sql)} 条，见附录 <link href="#{anchor}" color="blue">{anchor}</link>'
        )
    return Paragraph(
        "<br/>".join(lines), ParagraphStyle("caliber", parent=st.body, leftIndent=8, spaceAfter=6)
    )


def _sql_appendix(report: Report, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = []
    for s in report.sections:
        for i, c in enumerate(s.calibers, start=1):
            anchor = _sql_anchor(s.number, i)
            for k, sql in enumerate(c.sql, start=1):
                label = f'<a name="{anchor}"/>{anchor}' if k == 1 else anchor
                head = Paragraph(
                    f"{label}：第 {s.number} 问 · {_esc(c.indicator)}（{_esc(c.source)}）第 {k} 条", st.small
                )
                out.append(
                    KeepTogether(
                        [head, Preformatted(sql, st.code, maxLineLength=SQL_LINE_CHARS, newLineChars="  ")]
                    )
                )
                out.append(Spacer(1, 6))
    return [Paragraph("附录：执行的 SQL", st.h2), *out] if out else []


def _sql_anchor(turn: int, index: int) -> str:
    return f"SQL-{turn}-{index}"


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    st: _Styles,
    widths: Sequence[float] | None = None,
    numeric: Sequence[bool] | None = None,
) -> Table:
    """A table of wrapped cells that repeats its header on every page it runs over."""
    count = len(header)
    shares = widths or [1 / count] * count
    right = numeric or [False] * count
    data = [[Paragraph(_esc(h), st.cell) for h in header]]
    # a malformed stored row must not break the layout: every row gets exactly one cell per column
    cells = [(list(row) + [""] * count)[:count] for row in rows]
    data += [
        [Paragraph(_esc(v), st.number if right[c] else st.cell) for c, v in enumerate(row)] for row in cells
    ]
    table = Table(data, colWidths=[FRAME_WIDTH * w for w in shares], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _chart(chart: ChartData, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("图表", st.h3)]
    out += [Paragraph(_esc(note), st.note) for note in chart.notes]
    if chart.drawable:
        out += [chart_drawing(chart, kind, st.font) for kind in chart.kinds]
    return out


def chart_drawing(chart: ChartData, kind: str, font: str) -> Drawing:
    """One chart of the series of ``kind`` (line or bar), titled, labels in the CJK font."""
    series = [x for x in chart.series if x.kind == kind]
    labels, angle = _category_labels(chart.categories)
    bottom = 70 if angle else 36
    drawing = Drawing(FRAME_WIDTH, CHART_HEIGHT)
    plot = HorizontalLineChart() if kind == "line" else VerticalBarChart()
    plot.x, plot.y = 56, bottom
    plot.width, plot.height = FRAME_WIDTH - 76, CHART_HEIGHT - bottom - 44
    plot.data = [tuple(x.values) for x in series]
    plot.categoryAxis.categoryNames = labels
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7
    if angle:
        plot.categoryAxis.labels.angle = angle
        plot.categoryAxis.labels.boxAnchor = "ne"
        plot.categoryAxis.labels.dx, plot.categoryAxis.labels.dy = 2, -2
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.labelTextFormat = _axis_format(series)
    values = [v for x in series for v in x.values if v is not None]
    if kind == "bar" and values and min(values) >= 0:
        plot.valueAxis.valueMin = 0  # bars are read by their length, so they start at zero
    for i in range(len(series)):
        color = PALETTE[i % len(PALETTE)]
        if kind == "line":
            plot.lines[i].strokeColor = color
            plot.lines[i].strokeWidth = 1.6
            if len(chart.categories) <= 40:
                plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=color, strokeColor=color)
        else:
            plot.bars[i].fillColor = color
            plot.bars[i].strokeColor = None
    drawing.add(plot)
    drawing.add(
        String(
            FRAME_WIDTH / 2, CHART_HEIGHT - 16, chart.title, fontName=font, fontSize=10.5, textAnchor="middle"
        )
    )
    if chart.y_name:
        drawing.add(
            String(plot.x - 4, plot.y + plot.height + 8, f"单位：{chart.y_name}", fontName=font, fontSize=7)
        )
    if len(series) > 1:
        legend = Legend()
        legend.fontName, legend.fontSize = font, 7
        legend.x, legend.y = FRAME_WIDTH - 10, CHART_HEIGHT - 22
        legend.alignment, legend.boxAnchor = "right", "ne"
        legend.columnMaximum = 1
        legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], x.name) for i, x in enumerate(series)]
        drawing.add(legend)
    return drawing


def _category_labels(categories: list[str]) -> tuple[list[str], int]:
    """Labels to print and their angle: long lists are turned, very long ones thinned to every k-th."""
    if len(categories) <= MAX_UPRIGHT_LABELS:
        return categories, 0
    step = math.ceil(len(categories) / MAX_SHOWN_LABELS)
    return [c if i % step == 0 else "" for i, c in enumerate(categories)], 45


def _axis_format(series: list[ChartSeries]) -> Callable[[float], str]:
    decimals = min(max(x.precision for x in series), 2)
    return lambda value: f"{value:,.{decimals}f}"


def _esc(text: str) -> str:
    """Plain text for Paragraph markup, which reads &, < and > as XML."""
    return escape(plain(str(text)))
