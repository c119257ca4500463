"""Shared fixtures: one small demo warehouse per test session (full date range, 5% volume)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from indicators import Warehouse

TEST_SCALE = 0.05


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient sends Host: testserver; the server answers only the hosts it is told
    # (DNS rebinding protection; tests/api/test_headers.py checks the default list itself)
    os.environ.setdefault("OPSBRAIN_ALLOWED_HOSTS", '["localhost", "127.0.0.1", "testserver"]')


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


def authorize(
    app: FastAPI, role: str = "operations", name: str | None = None, **account: object
) -> dict[str, str]:
    """Headers that sign a test client in: a user of ``role`` created in ``app``'s account store
    (once per name) and a bearer token for it. Every data route needs one (docs/security.md)."""
    from serving.api.auth import security_of

    security = security_of(app.state)
    name = name or f"test-{role}"
    if security.accounts.user(name) is None:
        security.accounts.add_user(name, TEST_PASSWORD, role, **account)  # type: ignore[arg-type]
    token, _ = security.signer.issue(name, "access", 600)
    return {"Authorization": f"Bearer {token}"}


TEST_PASSWORD = "test-password-1"
UNLIMITED = {"min_cell": 0, "rate_limit": "100000/minute", "chat_rate_limit": "100000/minute"}


def signed_in(app: FastAPI, role: str = "operations", **kw: object):
    """A TestClient of ``app`` signed in as a user of ``role`` (default: operations, whole hospital)."""
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False, headers=authorize(app, role), **kw)


@pytest.fixture(scope="session")
def chat_app(tmp_path_factory: pytest.TempPathFactory, demo_db_path: Path, corpus_kb) -> FastAPI:
    """The app with the shipped corpus already indexed by a fast embedder: no model load, no indexing."""
    from opsbrain.settings import Settings
    from serving.app import create_app

    data_dir = tmp_path_factory.mktemp("chat-stream-data")
    # min_cell 0: the test data has 5% of a hospital's volume, so most breakdowns would be withheld;
    # suppression itself is tested in tests/security and tests/indicators/test_access_and_privacy.py
    # and rate limits out of the way of the suites that reuse this one user (tests/api/test_rate_limits.py)
    app = create_app(Settings(data_dir=data_dir, warehouse_url=f"duckdb:///{demo_db_path}", **UNLIMITED))
    app.state.knowledge_base = corpus_kb
    return app


@contextmanager
def serve_in_thread(app: object, name: str = "test-uvicorn") -> Iterator[int]:
    """An ASGI app served by uvicorn in a thread on a free port (yielded), stopped on exit."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(chat_app: FastAPI) -> Iterator[str]:
    """``chat_app`` served by uvicorn in a thread: real sockets, so events arrive as they are sent and a
    client can hang up mid-stream. Yields the base URL; ``chat_app.state.assistant`` is built."""
    with serve_in_thread(chat_app) as port:
        url = f"http://127.0.0.1:{port}"
        headers = authorize(chat_app)
        httpx.post(
            f"{url}/api/v1/chat", json={"question": "门诊量"}, headers=headers, timeout=60
        ).raise_for_status()
        yield url


@pytest.fixture(scope="session")
def live_headers(chat_app: FastAPI, live_server: str) -> dict[str, str]:
    """Bearer headers of an operations (whole-hospital) user of ``live_server``."""
    return authorize(chat_app)


@pytest.fixture(scope="session")
def live_credentials(chat_app: FastAPI, live_server: str) -> tuple[str, str]:
    """(username, password) of an operations user of ``live_server``, for signing in through the page."""
    authorize(chat_app, name="e2e-user")
    return "e2e-user", TEST_PASSWORD
