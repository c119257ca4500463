"""Cut a document into citable chunks along the structure of Chinese regulations.

Split points are Markdown headings and the structural markers of official texts: 第X编/章/节,
第X条 (an article starts a paragraph), and 一、 at the start of a line. Within a section, （一）
items and 1. items stay together (they are the clauses of one article) unless the section is too
long, when it is cut at paragraph boundaries. Every chunk keeps its heading path and its article
label; tables are never cut and stay with the text above them. Tiny sections are merged forward,
so a chunk is never just a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.models import Chunk, Document

_NUM = "[一二三四五六七八九十百千零〇两0-9]+"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# rank orders the markers: a marker nests under every marker of lower rank above it
_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    (10, re.compile(rf"^(第{_NUM}编)\s*(.*)$")),
    (11, re.compile(rf"^(第{_NUM}章)\s*(.*)$")),
    (12, re.compile(rf"^(第{_NUM}节)\s*(.*)$")),
    (13, re.compile(rf"^(第{_NUM}条)\s*(.*)$")),
    (14, re.compile(r"^([一二三四五六七八九十]{1,3}、)\s*(.*)$")),
]
_TITLE_ONLY_RANKS = {10, 11, 12}  # 第一章 总则: the rest of the line is the chapter's title
_SEPARATOR = " › "


@dataclass
class _Block:
    rank: int
    label: str
    path: list[str]
    lines: list[str] = field(default_factory=list)
    carried: list[_Block] = field(default_factory=list)  # short sections folded into this one

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


def chunk_document(doc: Document, *, max_chars: int = 500, min_chars: int = 60) -> list[Chunk]:
    """Chunks of ``doc``: one per section, small sections merged, long ones split (tables whole)."""
    pieces: list[tuple[_Block, str]] = []
    for block in _merge_small(_blocks(doc.text, doc.meta.title), min_chars):
        for part in _split_long(block.text, max_chars):
            pieces.append((block, part))
    chunks = []
    for ordinal, (block, text) in enumerate(pieces):
        chunks.append(
            Chunk(
                chunk_id=f"{doc.meta.doc_id}#{ordinal:03d}",
                doc_id=doc.meta.doc_id,
                ordinal=ordinal,
                text=text,
                heading_path=block.path,
                article=block.label or doc.meta.title,
                sections=_sections_in(block),
            )
        )
    return chunks


def embedding_text(chunk: Chunk, title: str) -> str:
    """What the retrievers see: the title and heading path give a short clause its context."""
    return f"{title}\n{_SEPARATOR.join(chunk.heading_path)}\n{chunk.text}"


def _marker(line: str) -> tuple[int, str, str] | None:
    """(rank, label, rest of line) when the line starts a section."""
    heading = _HEADING.match(line)
    if heading:
        return len(heading.group(1)), heading.group(2).strip(), ""
    for rank, pattern in _MARKERS:
        m = pattern.match(line)
        if m:
            if rank in _TITLE_ONLY_RANKS and len(m.group(2)) <= 20:
                return rank, f"{m.group(1)} {m.group(2)}".strip(), ""
            label = m.group(1)
            if rank == 14:  # 一、标题 or 一、 a sentence: a short rest is the section's title
                rest = m.group(2)
                short = len(rest) <= 24 and not re.search(r"[。；;]", rest)
                return rank, (label + rest) if short else label, "" if short else line
            return rank, label, line
    return None


def _blocks(text: str, title: str) -> list[_Block]:
    stack: list[tuple[int, str]] = []
    blocks = [_Block(rank=0, label="", path=[])]
    in_table = False
    for raw in text.splitlines():
        line = raw.strip()
        in_table = line.startswith("|")
        found = None if in_table else _marker(line)
        if found and found[0] == 1 and not stack and found[1].strip("《》 ") in (title, ""):
            continue  # the document's own title heading adds nothing to a citation
        if found is None:
            blocks[-1].lines.append(raw.rstrip())
            continue
        rank, label, body = found
        while stack and stack[-1][0] >= rank:
            stack.pop()
        stack.append((rank, label))
        block = _Block(rank=rank, label=label, path=[s[1] for s in stack])
        block.lines.append(body if body else ("#" * min(rank, 6) + " " + label if rank <= 6 else label))
        blocks.append(block)
    return blocks


def _body_chars(block: _Block) -> int:
    """Characters beyond the heading line: what a chunk would say beyond its title."""
    return len("".join(block.lines[1:] if block.rank and block.lines and block.rank <= 12 else block.lines))


def _merge_small(blocks: list[_Block], min_chars: int) -> list[_Block]:
    """Fold headings and short intros into the next section, and a short tail into the one before."""
    merged: list[_Block] = []
    carry: list[_Block] = []
    for block in blocks:
        if not block.text:
            continue
        if _body_chars(block) < min_chars:
            carry.append(block)
            continue
        if carry:
            lines = [line for c in carry for line in c.lines] + block.lines
            block = _Block(block.rank, block.label, block.path, lines, carried=carry)
            carry = []
        merged.append(block)
    if carry:
        if merged:
            merged[-1].lines += [line for c in carry for line in c.lines]
            merged[-1].carried += carry
        else:  # the whole document is short: one chunk
            first = carry[-1]
            merged.append(
                _Block(first.rank, first.label, first.path, [ln for c in carry for ln in c.lines], carry)
            )
    return merged


def _sections_in(block: _Block) -> list[str]:
    labels = [b.label for b in block.carried] + [block.label]
    labels += block.path
    return list(dict.fromkeys(label for label in labels if label))


def _split_long(text: str, max_chars: int) -> list[str]:
    """Cut at paragraph or item boundaries, then sentences; a table, with the line above it, is never cut."""
    if len(text) <= max_chars:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n|\n(?=\s*(?:（[一二三四五六七八九十]+）|\d+[.．、]))", text):
        para = para.strip("\n")
        if not para.strip():
            continue
        if para.lstrip().startswith("|") and units:
            units[-1] += "\n" + para  # a table belongs to the heading or sentence that introduces it
        elif len(para) > max_chars and "|" not in para:
            units += [s for s in re.split(r"(?<=[。；])", para) if s.strip()]
        else:
            units.append(para)
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(unit) > max_chars:
            parts.append(current.strip())
            current = ""
        current += unit + "\n"
    if current.strip():
        parts.append(current.strip())
    return parts
