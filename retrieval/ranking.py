"""Rank fusion and the reranker interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from retrieval.models import Citation

RRF_K = 60  # the constant of Cormack et al. (2009); large enough that no single list dominates


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """score(d) = Σ 1 / (k + rank of d in each list), ranks from 1; higher is better."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


class Reranker(Protocol):
    """Reorders the fused candidates; gets more candidates than the caller asked for."""

    name: str

    def rerank(self, query: str, hits: list[Citation]) -> list[Citation]: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder folder on disk (e.g. a bge-reranker the hospital provides)."""

    def __init__(self, folder: Path, *, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(str(folder), device=device, local_files_only=True)
        self.name = f"cross-encoder:{folder.name}"

    def rerank(self, query: str, hits: list[Citation]) -> list[Citation]:
        if not hits:
            return hits
        scores = self.model.predict([(query, h.text) for h in hits], show_progress_bar=False)
        ranked = sorted(zip(hits, scores, strict=True), key=lambda p: -float(p[1]))
        return [h.model_copy(update={"score": float(s)}) for h, s in ranked]
