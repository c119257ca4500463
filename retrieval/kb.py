"""The knowledge base: ingest documents, search them (BM25, dense, hybrid) and cite what was found."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from retrieval.chunking import chunk_document, embedding_text
from retrieval.embeddings import Embedder
from retrieval.loaders import UnreadableDocumentError, discover, load_document
from retrieval.models import (
    Chunk,
    Citation,
    Document,
    FileProblem,
    IngestReport,
    KBStats,
    SearchFilters,
    SearchMode,
    SearchResponse,
)
from retrieval.ranking import Reranker, reciprocal_rank_fusion
from retrieval.store import ChunkStore, matches, open_client
from retrieval.text import ChineseTokenizer

log = logging.getLogger("opsbrain.retrieval")

MAX_QUERY_CHARS = 500
WRITE_BATCH = 512  # chunks per Chroma write: each write costs a flush to disk, whatever its size
Progress = Callable[[int, int, str], None]  # (done, total, current file)


class EmptyQueryError(ValueError):
    """The query is empty or blank: the message gives an example of a query."""


@dataclass
class KBConfig:
    chroma_path: Path | None = Path("data/chroma")
    chroma_url: str | None = None
    collection: str = "opsbrain_policies"
    max_chars: int = 500
    min_chars: int = 60
    candidates: int = 50  # per retriever, before fusion
    reload_check_seconds: float = 5.0  # how often a search checks whether another process changed the index
    extra_terms: list[str] = field(default_factory=list)  # e.g. indicator names and aliases


class KnowledgeBase:
    def __init__(self, embedder: Embedder, config: KBConfig | None = None, reranker: Reranker | None = None):
        self.config = config or KBConfig()
        self.embedder = embedder
        self.reranker = reranker
        self.tokenizer = ChineseTokenizer(self.config.extra_terms)
        client = open_client(self.config.chroma_path, self.config.chroma_url)
        self.store = ChunkStore(client, self.config.collection)
        self._lock = threading.Lock()  # ingest swaps the lexical index; searches read it
        self._load()

    # ---------------------------------------------------------------- ingest
    def ingest(
        self, paths: Iterable[Path], *, rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Index new and changed documents, drop removed ones, skip unchanged ones (by content hash)."""
        started = time.perf_counter()
        roots = [Path(p).resolve() for p in paths]
        report = IngestReport()
        if rebuild or (self.store.count() and self.store.embedder != self.embedder.name):
            log.info(
                "re-embedding everything: index model %s, current %s", self.store.embedder, self.embedder.name
            )
            self.store.reset(self.embedder.name)
        self.store.mark_embedder(self.embedder.name)
        indexed = self._registry()
        files = list(discover(roots))
        seen: dict[str, str] = {}
        pending: list[tuple[Document, list[Chunk], np.ndarray]] = []
        for n, path in enumerate(files, start=1):
            if progress:
                progress(n - 1, len(files), path.name)
            try:
                doc = load_document(path)
            except UnreadableDocumentError as exc:
                report.skipped.append(FileProblem(path=str(path), reason=str(exc)))
                continue
            doc_id = doc.meta.doc_id
            owner = seen.get(doc_id) or _other_owner(indexed.get(doc_id), doc.path)
            if owner:
                report.skipped.append(
                    FileProblem(path=str(path), reason=f"id {doc_id!r} is already used by {owner}")
                )
                continue
            seen[doc_id] = doc.path
            previous = indexed.get(doc_id)
            if previous and previous["content_hash"] == doc.content_hash:
                report.unchanged.append(doc_id)
                continue
            pending.append(self._prepare(doc))
            report.chunks_written += len(pending[-1][1])
            (report.updated if previous else report.added).append(doc_id)
            if sum(len(p[1]) for p in pending) >= WRITE_BATCH:
                self.store.replace_documents(pending)
                pending = []
        self.store.replace_documents(pending)
        found = {str(p.resolve()) for p in files}
        gone = [
            doc_id
            for doc_id, info in indexed.items()
            if doc_id not in seen and info["path"] not in found and _under(Path(info["path"]), roots)
        ]
        self.store.delete_documents(gone)
        report.removed = sorted(gone)
        if report.added or report.updated or report.removed:
            self.store.mark_revision()
        if progress:
            progress(len(files), len(files), "")
        self._load()
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(self, doc: Document) -> tuple[Document, list[Chunk], np.ndarray]:
        chunks = chunk_document(doc, max_chars=self.config.max_chars, min_chars=self.config.min_chars)
        vectors = self.embedder.embed_passages([embedding_text(c, doc.meta.title) for c in chunks])
        return doc, chunks, vectors

    def _registry(self) -> dict[str, dict[str, Any]]:
        return {c["doc_id"]: c for c in self.store.all_chunks()}

    def _load(self) -> None:
        """Rebuild the in-memory lexical index from the store (milliseconds for thousands of chunks)."""
        revision = self.store.revision(refresh=True)
        chunks = self.store.all_chunks()
        lexical = None
        if chunks:
            lexical = bm25s.BM25()
            corpus = [self.tokenizer.tokens(_lexical_text(c)) for c in chunks]
            lexical.index(corpus, show_progress=False)
        with self._lock:
            self._chunks = chunks
            self._by_id = {c["chunk_id"]: i for i, c in enumerate(chunks)}
            self._lexical = lexical
            self._revision = revision
            self._checked_at = time.monotonic()

    def _reload_if_changed(self) -> None:
        """Pick up an ingest done by another process (e.g. `opsbrain kb ingest` beside a running server)."""
        if time.monotonic() - self._checked_at < self.config.reload_check_seconds:
            return
        self._checked_at = time.monotonic()
        if self.store.revision(refresh=True) != self._revision:
            log.info("the index changed on disk or on the server: reloading the lexical index")
            self._load()

    # ---------------------------------------------------------------- search
    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = "hybrid",
        filters: SearchFilters | None = None,
    ) -> SearchResponse:
        started = time.perf_counter()
        query = query.strip()
        if not query:
            raise EmptyQueryError("query is empty: ask a question, e.g. 药占比有什么政策要求")
        if len(query) > MAX_QUERY_CHARS:
            raise EmptyQueryError(f"query is {len(query)} characters; at most {MAX_QUERY_CHARS} are searched")
        filters = filters or SearchFilters()
        self._reload_if_changed()
        with self._lock:  # one consistent snapshot; the store is not asked for its size on every search
            chunks, by_id, lexical = self._chunks, self._by_id, self._lexical
        if chunks and self.store.embedder not in (None, self.embedder.name):
            raise RuntimeError(
                f"the index was built with {self.store.embedder}, not {self.embedder.name}: "
                "run `opsbrain kb ingest --rebuild`"
            )
        n = max(self.config.candidates, k)
        lexical_ids = self._lexical_ranking(query, n, filters, chunks, lexical) if mode != "dense" else []
        dense_scores = (
            dict(self._dense_ranking(query, min(n, len(chunks)), filters)) if mode != "bm25" else {}
        )
        dense_ids = list(dense_scores)
        if mode == "hybrid":
            fused = reciprocal_rank_fusion([lexical_ids, dense_ids])
            order = sorted(fused, key=lambda i: -fused[i])
            scores = fused
        elif mode == "bm25":
            order, scores = lexical_ids, {i: 1.0 / r for r, i in enumerate(lexical_ids, start=1)}
        else:
            order, scores = dense_ids, dense_scores
        lex_rank = {i: r for r, i in enumerate(lexical_ids, start=1)}
        dense_rank = {i: r for r, i in enumerate(dense_ids, start=1)}
        keep = order[: max(k, 20)] if self.reranker else order[:k]
        hits = [
            _citation(chunks[by_id[i]], scores[i], lex_rank.get(i), dense_rank.get(i))
            for i in keep
            if i in by_id
        ]
        if self.reranker:
            hits = self.reranker.rerank(query, hits)[:k]
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(
            query=query, mode=mode, filters=filters, hits=hits, embedder=self.embedder.name, took_ms=took
        )

    def _lexical_ranking(
        self, query: str, n: int, filters: SearchFilters, chunks: list[dict[str, Any]], lexical: Any
    ) -> list[str]:
        tokens = self.tokenizer.tokens(query)
        if lexical is None or not tokens:
            return []
        scores = lexical.get_scores(tokens)
        if not filters.empty:
            scores = scores * np.array([matches(filters, c) for c in chunks], dtype=np.float32)
        top = np.argsort(-scores)[:n]
        return [chunks[i]["chunk_id"] for i in top if scores[i] > 0]

    def _dense_ranking(self, query: str, n: int, filters: SearchFilters) -> list[tuple[str, float]]:
        vector = self.embedder.embed_queries([query])[0]
        return self.store.nearest(vector, n, filters)

    # ---------------------------------------------------------------- stats
    def stats(self) -> KBStats:
        with self._lock:
            chunks = self._chunks
        docs = {c["doc_id"]: c for c in chunks}.values()
        return KBStats(
            documents=len(docs),
            chunks=len(chunks),
            by_scope=dict(Counter(d["scope"] for d in docs)),
            by_status=dict(Counter(d["status"] for d in docs)),
            issuers=dict(Counter(d["issuer"] or "（未注明）" for d in docs).most_common()),
            embedder=self.store.embedder or self.embedder.name,
            collection=self.config.collection,
            location=self.config.chroma_url or str(self.config.chroma_path),
        )


def _lexical_text(chunk: dict[str, Any]) -> str:
    return f"{chunk['title']}\n{' '.join(chunk['heading_path'])}\n{' '.join(chunk['tags'])}\n{chunk['text']}"


_CITED = [f for f in Citation.model_fields if f not in {"score", "bm25_rank", "dense_rank"}]


def _citation(chunk: dict[str, Any], score: float, bm25_rank: int | None, dense_rank: int | None) -> Citation:
    return Citation(
        **{f: chunk[f] for f in _CITED},
        score=round(float(score), 6),
        bm25_rank=bm25_rank,
        dense_rank=dense_rank,
    )


def _other_owner(previous: dict[str, Any] | None, path: str) -> str | None:
    """The file that already holds this id, when it is another file that still exists."""
    if previous and previous["path"] != path and Path(previous["path"]).exists():
        return previous["path"]
    return None


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)
