"""Export an answer, or a whole conversation, as a PDF, an Excel workbook or a Markdown file.

``render_report`` is what the export route calls; every format is drawn from the same
:func:`serving.reports.content.build_report`, so the three never disagree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from serving.conversations import Conversation
from serving.reports.content import TurnNotFoundError, build_report

ReportFormat = Literal["pdf", "xlsx", "md"]
MEDIA_TYPES: dict[ReportFormat, str] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}
_TITLE_CHARS = 30
_UNKNOWN_FORMAT = "不支持的导出格式：{}，应为 pdf、xlsx 或 md"
# path separators, characters Windows forbids in file names, control characters, and dots (no "..")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f.]+')

__all__ = ["MEDIA_TYPES", "ReportFormat", "TurnNotFoundError", "render_report", "report_filename"]


def render_report(
    conversation: Conversation,
    fmt: ReportFormat,
    turn: int | None = None,
    *,
    exported_at: datetime | None = None,
) -> bytes:
    """The report's bytes; ``turn`` (1-based) picks one question and its answer, None takes them all.

    Raises TurnNotFoundError when ``turn`` is not one of the answered questions, ValueError for an
    unknown format.
    """
    report = build_report(conversation, turn, exported_at or datetime.now(UTC))
    # each renderer is imported on first use: the route process need not load reportlab for a workbook
    if fmt == "md":
        from serving.reports.markdown import render_markdown

        return render_markdown(report)
    if fmt == "xlsx":
        from serving.reports.excel import render_excel

        return render_excel(report)
    if fmt == "pdf":
        from serving.reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(_UNKNOWN_FORMAT.format(fmt))


def report_filename(conversation: Conversation, fmt: ReportFormat, turn: int | None = None) -> str:
    """A download name such as ``opsbrain-报告-药占比-第2问.pdf``, safe on every common file system."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(_UNKNOWN_FORMAT.format(fmt))
    title = re.sub(r"\s+", " ", _UNSAFE.sub("", conversation.title)).strip()[:_TITLE_CHARS].strip()
    parts = ["opsbrain", "报告", title or "会话"]
    if turn is not None:
        parts.append(f"第{turn}问")
    return "-".join(parts) + f".{fmt}"
