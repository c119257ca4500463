"""Fixtures for the knowledge base: a fast deterministic embedder and a fresh index per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opsbrain.knowledge import shipped_corpus
from retrieval import KBConfig, KnowledgeBase
from tests.retrieval.fakes import HashingEmbedder


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(shipped_corpus(), target)
    return target


@pytest.fixture
def kb(tmp_path: Path, embedder: HashingEmbedder) -> KnowledgeBase:
    return KnowledgeBase(embedder, KBConfig(chroma_path=tmp_path / "chroma"))
