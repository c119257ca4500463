"""Cited passages beside a figure: each by its first whole statements, never cut inside one."""

from __future__ import annotations

import re

from retrieval import Citation
from serving.assistant import policy_answer
from serving.assistant.wording import plain


def policy_paragraph(citations: list[Citation]) -> str:
    lines = ["相关政策与文件："]
    for n, c in enumerate(citations, start=1):
        origin = "医院内部文件" if c.scope == "internal" else c.issuer
        statements = [s.text for s in policy_answer.statements_of(c, n - 1)]
        snippet = ""
        for statement in statements:
            if snippet and len(snippet) + len(statement) > 160:
                break
            snippet += statement
        lines.append(f"[{n}] {c.label}（{origin}）：{plain(snippet or shorten(passage_prose(c.text), 160))}")
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
