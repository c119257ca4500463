"""The Chroma collection that holds the chunks, their vectors and their citation metadata."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from retrieval.models import Chunk, Document, SearchFilters

_LIST_SEP = "\x1f"  # Chroma metadata values are scalars: lists travel joined by the unit separator
_PATH_SEP = " › "


def open_client(path: Path | None = None, url: str | None = None) -> Any:
    """A Chroma server by URL (``http://host:8000``) or a local PersistentClient; telemetry off either way."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError(f"Chroma URL must look like http://host:8000, got {url!r}")
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise ValueError("either a Chroma path or a Chroma URL is needed")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class ChunkStore:
    """One collection; vectors are computed by our embedder, never by Chroma (it would download one)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self.collection = client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    @property
    def embedder(self) -> str | None:
        return (self.collection.metadata or {}).get("embedder")

    def reset(self, embedder: str) -> None:
        """Drop everything: the vectors of another model are not comparable (or not even the same size)."""
        self.client.delete_collection(self.name)
        self.collection = self.client.create_collection(
            self.name, metadata={"hnsw:space": "cosine", "embedder": embedder}, embedding_function=None
        )

    def mark_embedder(self, embedder: str) -> None:
        if self.embedder != embedder:
            self._set_metadata(embedder=embedder)

    def mark_revision(self) -> str:
        """Stamp the collection after a change, so other processes serving it know to reload."""
        revision = uuid.uuid4().hex
        self._set_metadata(revision=revision)
        return revision

    def revision(self, *, refresh: bool = False) -> str | None:
        if refresh:  # the client caches collection metadata; another process may have changed it
            self.collection = self.client.get_collection(self.name, embedding_function=None)
        return (self.collection.metadata or {}).get("revision")

    def _set_metadata(self, **values: str) -> None:
        # hnsw:* keys must not be sent again: Chroma reads them as an attempt to change the distance
        kept = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
        self.collection.modify(metadata={**kept, **values})

    def count(self) -> int:
        return self.collection.count()

    def replace_documents(self, items: list[tuple[Document, list[Chunk], np.ndarray]]) -> None:
        """Swap the chunks of these documents for new ones, in one delete and one add."""
        if not items:
            return
        self.delete_documents([doc.meta.doc_id for doc, _, _ in items])
        rows = [(doc, c) for doc, chunks, _ in items for c in chunks]
        if not rows:
            return
        self.collection.add(
            ids=[c.chunk_id for _, c in rows],
            embeddings=np.concatenate([v for _, chunks, v in items if chunks]),
            documents=[c.text for _, c in rows],
            metadatas=[_chunk_metadata(doc, c) for doc, c in rows],
        )

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        ids = list(doc_ids)
        if ids:
            self.collection.delete(where={"doc_id": {"$in": ids}})

    def all_chunks(self) -> list[dict[str, Any]]:
        """Every chunk's text and metadata (for the lexical index and the document registry)."""
        got = self.collection.get(include=["documents", "metadatas"])
        rows = [
            {"chunk_id": i, "text": d or "", **_decode(m or {})}
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(rows, key=lambda r: (r["doc_id"], r["ordinal"]))

    def nearest(self, vector: np.ndarray, n: int, filters: SearchFilters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks that pass the filters.

        ``n`` must not exceed the number of chunks in the collection (the caller knows it)."""
        if n <= 0:
            return []
        got = self.collection.query(
            query_embeddings=[vector], n_results=n, where=chroma_where(filters), include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]


def chroma_where(filters: SearchFilters) -> dict[str, Any] | None:
    conditions: list[dict[str, Any]] = []
    if filters.issuers:
        conditions.append({"issuer": {"$in": filters.issuers}})
    if filters.year_from:
        conditions.append({"year": {"$gte": filters.year_from}})
    if filters.year_to:
        conditions.append({"year": {"$lte": filters.year_to}})
        conditions.append({"year": {"$gt": 0}})  # an undated document is not "before" anything
    if filters.status:
        conditions.append({"status": filters.status})
    if filters.scope:
        conditions.append({"scope": filters.scope})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def matches(filters: SearchFilters, meta: dict[str, Any]) -> bool:
    """The same filters as ``chroma_where``, for chunks held in memory (the lexical side)."""
    year = meta.get("year") or 0
    return (
        (not filters.issuers or meta.get("issuer") in filters.issuers)
        and (not filters.year_from or year >= filters.year_from)
        and (not filters.year_to or 0 < year <= filters.year_to)
        and (not filters.status or meta.get("status") == filters.status)
        and (not filters.scope or meta.get("scope") == filters.scope)
    )


def _chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, Any]:
    m = doc.meta
    return {
        "doc_id": m.doc_id,
        "ordinal": chunk.ordinal,
        "article": chunk.article,
        "heading_path": _LIST_SEP.join(chunk.heading_path),
        "sections": _LIST_SEP.join(chunk.sections),
        "title": m.title,
        "issuer": m.issuer,
        "doc_number": m.doc_number,
        "issue_date": m.issue_date,
        "year": m.year or 0,
        "status": m.status,
        "scope": m.scope,
        "source": m.source,
        "reliability": m.reliability,
        "tags": _LIST_SEP.join(m.tags),
        "path": doc.path,
        "content_hash": doc.content_hash,
    }


def _decode(meta: dict[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    for key in ("heading_path", "sections", "tags"):
        out[key] = [p for p in str(meta.get(key, "")).split(_LIST_SEP) if p]
    return out
