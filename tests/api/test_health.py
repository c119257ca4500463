"""/health says which part of the server works: warehouse, policy index, planner; /meta says whether
the data is the generated demo (演示数据)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app
from tests.conftest import signed_in


def _client(tmp_path: Path, url: str) -> TestClient:
    return signed_in(create_app(Settings(data_dir=tmp_path, warehouse_url=url)))


def test_a_healthy_demo_server(tmp_path: Path, demo_db_path: Path) -> None:
    client = _client(tmp_path, f"duckdb:///{demo_db_path}")
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["synthetic"] is True
    assert health["warehouse"] == {"status": "ok", "detail": "数据截至 2023-09-08"}
    assert client.get("/api/v1/meta").json()["synthetic"] is True


def test_an_empty_or_deleted_index_is_degraded(tmp_path: Path, demo_db_path: Path) -> None:
    client = _client(tmp_path, f"duckdb:///{demo_db_path}")
    folder = tmp_path / "chroma"
    empty = SimpleNamespace(
        stats=lambda: SimpleNamespace(documents=0, chunks=0), config=SimpleNamespace(chroma_path=folder)
    )
    client.app.state.knowledge_base = empty
    (tmp_path / "chroma").mkdir()
    health = client.get("/api/v1/health").json()
    assert health["status"] == "degraded" and health["index"]["status"] == "degraded"
    assert "opsbrain kb ingest" in health["index"]["detail"]
    (tmp_path / "chroma").rmdir()  # the folder deleted under a running server
    assert "不存在" in client.get("/api/v1/health").json()["index"]["detail"]


def test_a_warehouse_without_its_tables_is_unavailable_and_not_synthetic(tmp_path: Path) -> None:
    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    health = _client(tmp_path, f"duckdb:///{tmp_path / 'empty.duckdb'}").get("/api/v1/health").json()
    assert health["status"] == "degraded" and health["synthetic"] is False
    assert (
        health["warehouse"]["status"] == "unavailable" and "meta_warehouse" in health["warehouse"]["detail"]
    )


def test_an_llm_planner_that_fell_back_is_degraded(tmp_path: Path, demo_db_path: Path) -> None:
    client = TestClient(
        create_app(Settings(data_dir=tmp_path, warehouse_url=f"duckdb:///{demo_db_path}", planner="llm"))
    )
    client.app.state.assistant = SimpleNamespace(planner=SimpleNamespace(llm=None))  # built as rules
    planner = client.get("/api/v1/health").json()["planner"]
    assert planner["status"] == "degraded" and "规则" in planner["detail"]
