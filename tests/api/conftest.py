import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app


@pytest.fixture(scope="session")
def client(demo_db_path) -> TestClient:
    app = create_app(Settings(warehouse_url=f"duckdb:///{demo_db_path}", max_request_bytes=4096))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def chat_app(tmp_path_factory: pytest.TempPathFactory, demo_db_path: Path, corpus_kb) -> FastAPI:
    """The app with the shipped corpus already indexed by a fast embedder: no model load, no indexing."""
    data_dir = tmp_path_factory.mktemp("chat-stream-data")
    app = create_app(Settings(data_dir=data_dir, warehouse_url=f"duckdb:///{demo_db_path}"))
    app.state.knowledge_base = corpus_kb
    return app


@pytest.fixture(scope="session")
def live_server(chat_app: FastAPI) -> Iterator[str]:
    """``chat_app`` served by uvicorn in a thread: real sockets, so events arrive as they are sent and a
    client can hang up mid-stream. Yields the base URL; ``chat_app.state.assistant`` is built."""
    server = uvicorn.Server(uvicorn.Config(chat_app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/api/v1/chat", json={"question": "门诊量"}, timeout=60).raise_for_status()
    yield url
    server.should_exit = True
    thread.join(timeout=10)
