"""Retrieval evaluation of the policy knowledge base: recall@1, recall@5, MRR and latency per mode.

A question is answered at rank r when the r-th hit comes from an expected document and holds the
expected section (an article label or a section heading of that document; ``null`` accepts any
section of the document).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from evals.datasets import dataset_file, load_jsonl, write_report
from retrieval import Citation, KnowledgeBase
from retrieval.models import SearchMode

MODES: tuple[SearchMode, ...] = ("bm25", "dense", "hybrid")


class Expected(BaseModel):
    doc_id: str
    article: str | None = None


class KBQuestion(BaseModel):
    id: str
    question: str = Field(min_length=2)
    expected: list[Expected] = Field(min_length=1)
    category: str = ""


class ModeResult(BaseModel):
    mode: SearchMode
    recall_at_1: float
    recall_at_5: float
    mrr: float
    p50_ms: float
    p95_ms: float
    misses: list[str] = Field(description="ids of questions with no correct hit in the top 5")


class KBEvalReport(BaseModel):
    dataset: str
    questions: int
    documents: int
    chunks: int
    embedder: str
    k: int
    created: str
    results: list[ModeResult]


def default_dataset() -> Path:
    return dataset_file("kb_questions.jsonl")


def load_questions(path: Path) -> list[KBQuestion]:
    return load_jsonl(path, KBQuestion)


def is_hit(hit: Citation, expected: list[Expected]) -> bool:
    sections = {_norm(s) for s in [hit.article, *hit.heading_path]}
    for e in expected:
        if hit.doc_id == e.doc_id and (e.article is None or _norm(e.article) in sections):
            return True
    return False


def _norm(label: str) -> str:
    return "".join(label.split())


def first_correct_rank(hits: list[Citation], expected: list[Expected]) -> int | None:
    return next((r for r, h in enumerate(hits, start=1) if is_hit(h, expected)), None)


def evaluate_kb(kb: KnowledgeBase, dataset: Path, *, k: int = 10, modes=MODES) -> KBEvalReport:
    questions = load_questions(dataset)
    kb.search("预热", k=1)  # the first query pays for lazy initialisation; it is not what users wait for
    results = []
    for mode in modes:
        ranks: list[int | None] = []
        latencies: list[float] = []
        for q in questions:
            response = kb.search(q.question, k=k, mode=mode)
            latencies.append(response.took_ms)
            ranks.append(first_correct_rank(response.hits, q.expected))
        n = len(questions)
        results.append(
            ModeResult(
                mode=mode,
                recall_at_1=round(sum(r == 1 for r in ranks) / n, 4),
                recall_at_5=round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
                mrr=round(sum(1 / r for r in ranks if r) / n, 4),
                p50_ms=round(statistics.median(latencies), 1),
                p95_ms=round(statistics.quantiles(latencies, n=20)[-1], 1),
                misses=[q.id for q, r in zip(questions, ranks, strict=True) if not r or r > 5],
            )
        )
    stats = kb.stats()
    return KBEvalReport(
        dataset=dataset.name,
        questions=len(questions),
        documents=stats.documents,
        chunks=stats.chunks,
        embedder=stats.embedder,
        k=k,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        results=results,
    )


def to_markdown(report: KBEvalReport) -> str:
    lines = [
        f"Policy search on {report.questions} questions ({report.dataset}), {report.documents} documents, "
        f"{report.chunks} chunks, embedder `{report.embedder}`:",
        "",
        "| mode | recall@1 | recall@5 | MRR | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.mode} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr:.3f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_reports(report: KBEvalReport, out: Path) -> dict[str, Path]:
    return write_report(report, to_markdown(report), out, "kb")
