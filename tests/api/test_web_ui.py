"""The web UI's files at /: served when built, a clear page when not; the API always wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app


def _client(tmp_path: Path, dist: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path, warehouse_url="duckdb:///:memory:", web_dist=dist)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text('<div id="app">opsbrain 医院运营助手</div>', encoding="utf-8")
    (folder / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    return folder


def test_built_ui_is_served_and_api_routes_win(tmp_path: Path, dist: Path) -> None:
    client = _client(tmp_path, dist)
    home = client.get("/")
    assert home.status_code == 200 and "医院运营助手" in home.text
    # the page may load only its own files and call only this server
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert "connect-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-cache"  # a new build is seen at once
    asset = client.get("/assets/index-abc.js")
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/api/v1/health").json()["warehouse"]["status"] == "unavailable"  # :memory: is empty
    # an unknown API path is the API's JSON 404, not a page
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "http_error"
    assert client.get("/assets/nothing.js").status_code == 404


def test_missing_build_says_how_to_build(tmp_path: Path) -> None:
    client = _client(tmp_path, tmp_path / "not-built")
    home = client.get("/")
    assert home.status_code == 503 and "scripts/setup.sh" in home.text
    assert client.get("/api/v1/health").status_code == 200
