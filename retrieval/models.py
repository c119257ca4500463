"""The knowledge base's public types: documents, chunks, filters, search hits and reports."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Status = Literal["现行", "废止"]
Scope = Literal["external", "internal"]
SearchMode = Literal["hybrid", "bm25", "dense"]

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class DocumentMeta(BaseModel):
    """What a citation shows about a document. Unknown fields stay empty; nothing is guessed."""

    doc_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,120}$")
    title: str = Field(min_length=1, max_length=300)
    issuer: str = ""
    doc_number: str = ""
    issue_date: str = Field("", description="YYYY, YYYY-MM or YYYY-MM-DD: only as precise as known")
    status: Status = "现行"
    scope: Scope = "internal"
    source: str = ""
    reliability: str = ""
    tags: list[str] = Field(default_factory=list)

    @field_validator("issue_date", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> str:
        text = "" if value is None else str(value).strip()
        if text and not _DATE.match(text):
            raise ValueError(f"issue_date must look like 2019, 2019-01 or 2019-01-30, got {text!r}")
        return text

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_text(cls, value: object) -> list[str]:
        # YAML reads a tag such as 2.0 or 409 as a number; a tag is always text
        if value in (None, ""):
            return []
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items]

    @property
    def year(self) -> int | None:
        return int(self.issue_date[:4]) if self.issue_date else None


class Document(BaseModel):
    meta: DocumentMeta
    text: str = Field(description="the body as Markdown-like text, front matter removed")
    path: str
    content_hash: str = Field(description="sha256 of the file bytes (and its sidecar metadata)")


class Chunk(BaseModel):
    """One citable piece of a document: an article or section, within size bounds."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    heading_path: list[str] = Field(description="the headings above the chunk, outermost first")
    article: str = Field(description="the label a citation shows, e.g. 第三十八条 or 二、药占比目标")
    sections: list[str] = Field(
        default_factory=list, description="every section heading whose text the chunk holds"
    )


class SearchFilters(BaseModel):
    """Metadata filters; every field is optional and they combine with AND."""

    issuers: list[str] = Field(default_factory=list, description="发文机关，任一匹配")
    year_from: int | None = Field(None, ge=1949, le=2100)
    year_to: int | None = Field(None, ge=1949, le=2100)
    status: Status | None = None
    scope: Scope | None = Field(None, description="external 外部法规政策 | internal 医院内部文件")

    @property
    def empty(self) -> bool:
        return not (self.issuers or self.year_from or self.year_to or self.status or self.scope)


class Citation(BaseModel):
    """A search hit with everything needed to cite it."""

    doc_id: str
    title: str
    doc_number: str
    article: str
    heading_path: list[str]
    issuer: str
    issue_date: str
    status: str
    scope: str
    reliability: str
    text: str
    score: float = Field(description="fused score (RRF) in hybrid mode, else the retriever's own score")
    bm25_rank: int | None = None
    dense_rank: int | None = None
    chunk_id: str

    @property
    def label(self) -> str:
        """How an answer cites it: 《title》（number）article."""
        number = f"（{self.doc_number}）" if self.doc_number else ""
        return f"《{self.title}》{number}{self.article}"


class SearchResponse(BaseModel):
    query: str
    mode: SearchMode
    filters: SearchFilters
    hits: list[Citation]
    embedder: str
    took_ms: float


class FileProblem(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[FileProblem] = Field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0


class KBStats(BaseModel):
    documents: int
    chunks: int
    by_scope: dict[str, int]
    by_status: dict[str, int]
    issuers: dict[str, int]
    embedder: str
    collection: str
    location: str
