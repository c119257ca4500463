"""The embedding mapper: the words no name explains, compared with every catalog entry by meaning.

It uses the knowledge base's own sentence-transformers model (no second model in memory). Each
indicator is described by its name, aliases, definition, formula and the everyday descriptions of
indicator_examples.yaml; the question's unexplained words (serving/planner/explained.py) are the
query. It runs only when something is left unexplained, so a question the dictionary reads fully
costs no embedding.

e5's cosine scores are bunched (a related pair 0.93, an unrelated one 0.81): they are ranked, and the
candidate score is the cosine rescaled between a floor and a ceiling measured on the development
splits, never higher than a name spelled out in the question.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources

import numpy as np
import yaml

from indicators import Catalog
from retrieval.embeddings import Embedder
from serving.planner.context import Candidate, Understanding
from serving.planner.explained import content_size, residue

# calibrated on the dev splits' questions that name their indicator in other words (README, issue #13)
COSINE_FLOOR = 0.80
COSINE_CEILING = 0.93
MAX_SCORE = 0.85
TOP_K = 5


@cache
def indicator_examples() -> dict[str, list[str]]:
    raw = resources.files("serving.planner").joinpath("indicator_examples.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(raw) or {}


class EmbeddingMapper:
    name = "embedding"

    def __init__(self, catalog: Catalog, embedder: Embedder) -> None:
        self.catalog = catalog
        self.embedder = embedder
        examples = indicator_examples()
        self.owners: list[str] = []
        texts: list[str] = []
        for ind in catalog.indicators.values():
            entries = [
                f"{ind.name}：{ind.definition}",
                f"{ind.name}：{ind.formula}",
                *ind.aliases,
                *examples.get(ind.name, []),
            ]
            texts += entries
            self.owners += [ind.name] * len(entries)
        self.texts = texts
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def matrix(self) -> np.ndarray:
        """The entries' vectors, computed on first use (a second or two on CPU)."""
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    self._matrix = self.embedder.embed_passages(self.texts)
        return self._matrix

    def map(self, ctx: Understanding) -> None:
        words = residue(ctx)
        if content_size(words) < 2:
            return
        ctx.add(self.candidates(words, ctx))

    def candidates(self, words: str, ctx: Understanding) -> list[Candidate]:
        query = self.embedder.embed_queries([words])[0]
        scores = self.matrix @ query
        best: dict[str, float] = {}
        for owner, score in zip(self.owners, scores.tolist(), strict=True):
            best[owner] = max(best.get(owner, -1.0), score)
        ranked = sorted(best.items(), key=lambda pair: -pair[1])[:TOP_K]
        start, end = _span(ctx.text, words)
        return [
            Candidate(
                kind="indicator",
                value=name,
                start=start,
                end=end,
                text=words,
                score=rescale(cosine),
                mapper=f"{self.name}:{cosine:.3f}",
            )
            for name, cosine in ranked
            if rescale(cosine) > 0
        ]


def rescale(cosine: float) -> float:
    share = (cosine - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR)
    return round(float(np.clip(share, 0.0, 1.0)) * MAX_SCORE, 3)


def _span(text: str, words: str) -> tuple[int, int]:
    """Where the unexplained words lie in the question: from the first to the last of them."""
    pieces = [p for p in words.split() if p in text]
    if not pieces:
        return 0, len(text)
    starts = [text.find(p) for p in pieces]
    ends = [text.rfind(p) + len(p) for p in pieces]
    return min(starts), max(ends)
