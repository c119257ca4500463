"""Shared fixtures: one small demo warehouse per test session (full date range, 5% volume)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from indicators import Warehouse

TEST_SCALE = 0.05
TEST_SEED = 7
TEST_AS_OF = date(2023, 9, 8)


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from indicators.warehouse.build import prepare_demo_warehouse

    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    prepare_demo_warehouse(path, scale=TEST_SCALE, seed=TEST_SEED, as_of=TEST_AS_OF, progress=False)
    return path


@pytest.fixture(scope="session")
def warehouse(demo_db_path: Path) -> Warehouse:
    wh = Warehouse(demo_db_path)
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def raw_con(warehouse: Warehouse):
    """A DuckDB connection for hand-written SQL over the demo warehouse.

    It is borrowed from the engine's pool: DuckDB refuses a second connection to the same file with
    other settings in the same process.
    """
    raw = warehouse.engine.raw_connection()
    yield raw.driver_connection
    raw.close()


@pytest.fixture(scope="session")
def tiny_embedding_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny SentenceTransformer with the real e5 tokenizer: fast, not meaningful."""
    from retrieval.e5_convert import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-e5")


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory: pytest.TempPathFactory):
    """The shipped policy corpus indexed once, with a fast hashing embedder (read-only use)."""
    from opsbrain.knowledge import shipped_corpus
    from retrieval import KBConfig, KnowledgeBase
    from tests.retrieval.fakes import HashingEmbedder

    kb = KnowledgeBase(HashingEmbedder(), KBConfig(chroma_path=tmp_path_factory.mktemp("chroma")))
    kb.ingest([shipped_corpus()])
    return kb
