"""Read policy documents from Markdown, plain text, HTML, PDF and DOCX into one text form.

Every format becomes Markdown-like text: headings as ``#`` lines, tables as ``|`` rows, so one
chunker serves them all. Metadata come from a Markdown front matter block or from a sidecar
``NAME.meta.yaml``; what neither gives stays empty rather than guessed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError
from pypinyin import lazy_pinyin

from retrieval.models import Document, DocumentMeta

SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"}
SIDECAR = ".meta.yaml"
MAX_FILE_BYTES = 50 * 1024 * 1024  # a regulation PDF is a few MB; larger is almost surely not one


class UnreadableDocumentError(ValueError):
    """The file could not be turned into a document; the message says why."""


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under ``paths`` (files or directories) that a loader reads, in a stable order."""
    for root in paths:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and _readable_suffix(path) and not path.name.startswith("."):
                    yield path
        else:
            yield root


def _readable_suffix(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.endswith(SIDECAR)


def load_document(path: Path) -> Document:
    if not path.exists():
        raise UnreadableDocumentError("file not found")
    if not _readable_suffix(path):
        raise UnreadableDocumentError(
            f"unsupported type {path.suffix or '(none)'}; readable: {sorted(SUFFIXES)}"
        )
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableDocumentError(
            f"file is {len(raw) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit"
        )
    sidecar = path.with_suffix(SIDECAR)  # 规定.pdf → 规定.meta.yaml
    side_raw = sidecar.read_bytes() if sidecar.exists() else b""
    fields, text = _read_body(path, raw)
    if side_raw:
        fields = {**fields, **_parse_yaml(side_raw.decode("utf-8", errors="replace"), sidecar.name)}
    text = _normalise(text)
    if not text.strip():
        raise UnreadableDocumentError("no text found (empty file, or a scanned PDF without a text layer)")
    fields.setdefault("title", _first_line(text) or path.stem)
    fields["doc_id"] = str(fields.pop("id", None) or fields.get("doc_id") or slug(path.stem))
    fields.setdefault(
        "scope", "internal"
    )  # a file without metadata is the hospital's own until told otherwise
    try:
        meta = DocumentMeta(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UnreadableDocumentError(f"bad metadata: {problems}") from None
    digest = hashlib.sha256(raw + side_raw).hexdigest()
    return Document(meta=meta, text=text, path=str(path.resolve()), content_hash=digest)


def slug(stem: str) -> str:
    """An ASCII id for a file name, Chinese turned into pinyin: 药事管理办法 → yao-shi-guan-li-ban-fa."""
    words = lazy_pinyin(stem)
    text = re.sub(r"[^a-z0-9]+", "-", "-".join(words).lower()).strip("-")
    return (text or "document")[:100]


def _read_body(path: Path, raw: bytes) -> tuple[dict, str]:
    suffix = path.suffix.lower()
    try:
        if suffix in {".md", ".markdown", ".txt"}:
            text = _decode(raw)
            return _split_front_matter(text, path.name) if suffix != ".txt" else ({}, text)
        if suffix in {".html", ".htm"}:
            return {}, _html_text(_decode(raw))
        if suffix == ".pdf":
            return {}, _pdf_text(path)
        return {}, _docx_text(path)
    except UnreadableDocumentError:
        raise
    except Exception as exc:  # a broken PDF or DOCX raises whatever its parser raises
        raise UnreadableDocumentError(f"cannot parse {suffix} file: {type(exc).__name__}: {exc}") from None


def _decode(raw: bytes) -> str:
    # Chinese files on hospital shares are often GB18030 rather than UTF-8
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocumentError("text is neither UTF-8 nor GB18030")


def _split_front_matter(text: str, name: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    end = re.search(r"^---\s*$", text[3:], flags=re.M)
    if end is None:
        raise UnreadableDocumentError("front matter starts with --- but never ends")
    return _parse_yaml(text[3 : 3 + end.start()], name), text[3 + end.end() :]


def _parse_yaml(text: str, name: str) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UnreadableDocumentError(f"metadata in {name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UnreadableDocumentError(f"metadata in {name} must be a mapping of fields")
    return {k: ("" if v is None else v) for k, v in data.items()}


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer"]):
        tag.decompose()
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre"]):
        if el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            lines.append("| " + " | ".join(cells) + " |")
        elif el.name.startswith("h"):
            lines.append("#" * int(el.name[1]) + " " + el.get_text(" ", strip=True))
        elif not el.find_parent(["li", "tr"]) or el.name == "li":
            lines.append(el.get_text(" ", strip=True))
    text = "\n".join(line for line in lines if line.strip("| "))
    return text or soup.get_text("\n", strip=True)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        raise UnreadableDocumentError("the PDF is encrypted")
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _docx_text(path: Path) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            level = re.match(r"(?:Heading|标题)\s*(\d)", style)
            text = block.text.strip()
            if text:
                lines.append(("#" * int(level.group(1)) + " " if level else "") + text)
        elif isinstance(block, Table):
            for row in block.rows:
                lines.append("| " + " | ".join(cell.text.strip() for cell in row.cells) + " |")
    return "\n".join(lines)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line and not line.startswith(">"):
            return line[:300]
    return ""
