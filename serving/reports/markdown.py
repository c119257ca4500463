"""The report as Markdown: headings, tables, 口径 as a list, SQL in code blocks, citations numbered."""

from __future__ import annotations

import re

from serving.assistant.numbers import format_number
from serving.reports.content import FIGURE_COLUMNS, Report, Section, cell_text

CHART_NOTE = "（Markdown 无法显示图表，下表列出图表中的数据。）"


def render_markdown(report: Report) -> bytes:
    lines = [f"# {report.title}", ""]
    lines += [f"- **{label}**：{_inline(value)}" for label, value in report.meta]
    lines += ["", f"> {report.source_note}", ""]
    lines += [f"> {note}\n" for note in report.notes]
    for section in report.sections:
        lines += _section(section)
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


def _section(s: Section) -> list[str]:
    lines = [f"## 第 {s.number} 问：{_inline(s.question)}", "", f"提问时间：{s.asked_at}", ""]
    lines += [f"> {_inline(note)}\n" for note in s.notes]
    # single newlines would run together in Markdown: end each line with a hard break
    lines += ["### 回答", "", re.sub(r"(?<!\n)\n(?!\n)", "  \n", _no_html(s.answer.strip())), ""]
    if s.clarification:
        lines += ["### 需要澄清", "", _inline(s.clarification), ""]
        lines += [f"- {_inline(option)}" for option in s.options] + [""]
    if s.refusal:
        lines += ["### 无法回答", "", _inline(s.refusal), ""]
    if s.figures:
        lines += ["### 关键数字", "", *_table(FIGURE_COLUMNS, [f.cells for f in s.figures]), ""]
    if s.chart:
        lines += [f"### 图表：{_inline(s.chart.title or '未命名')}", ""]
        lines += [f"> {_inline(note)}\n" for note in s.chart.notes]
        if s.chart.drawable:
            header = ["类别"] + [
                f"{x.name}（{s.chart.y_name}）" if s.chart.y_name else x.name for x in s.chart.series
            ]
            rows = [
                [category] + [format_number(x.values[i], x.precision) for x in s.chart.series]
                for i, category in enumerate(s.chart.categories)
            ]
            lines += [CHART_NOTE, "", *_table(header, rows), ""]
    if s.table:
        rows = [[cell_text(v, s.table.precision) for v in row] for row in s.table.rows]
        lines += ["### 结果表", "", *_table(s.table.columns, rows), ""]
    if s.calibers:
        lines += ["### 计算口径", ""]
        for c in s.calibers:
            lines.append(f"- **{_inline(c.indicator)}**（{c.source}）")
            lines += [f"  - {label}：{_inline(value)}" for label, value in c.items if value]
            if c.sql:
                lines.append(f"  - 执行的 SQL（{len(c.sql)} 条）：")
            for sql in c.sql:
                lines += ["", "  ```sql", *[f"  {line}" for line in sql.splitlines()], "  ```"]
            lines.append("")
    if s.citations:
        lines += ["### 引用", ""]
        for n, c in enumerate(s.citations, start=1):
            lines.append(
                f"{n}. {_inline(c.heading)}" + (f"（{_inline(c.source_line)}）" if c.source_line else "")
            )
            if c.reliability:
                lines.append(f"   - 可靠性：{_inline(c.reliability)}")
            if c.excerpt:
                lines.append(f"   - 原文摘录：{_inline(c.excerpt)}")
        lines.append("")
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    """One line of text: a stray newline would end a list item or a table row."""
    return _no_html(" ".join(str(text).split()))


def _no_html(text: str) -> str:
    # a question such as "<img src=x onerror=...>" must stay text in viewers that render inline HTML;
    # only "<" that could open a tag is escaped, so "<= 30%" reads as before
    return re.sub(r"<(?=[A-Za-z/!?])", r"\<", text)
