"""Test doubles for the knowledge base."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np


class HashingEmbedder:
    """Character bigrams hashed into 256 dimensions: enough signal for mechanics, no model to load.

    It counts its calls so tests can prove that unchanged documents are not embedded again.
    """

    dim = 256

    def __init__(self, name: str = "hashing-bigrams") -> None:
        self.name = name
        self.passages_embedded = 0

    def _vectors(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                out[row, int(hashlib.md5((a + b).encode()).hexdigest()[:6], 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._vectors(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._vectors(texts)
