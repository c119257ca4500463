"""Security headers, no caching of data, and the Host allowlist (DNS rebinding protection)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app
from tests.conftest import signed_in


def _app(tmp_path: Path, demo_db_path: Path, **fields):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=app></div>", encoding="utf-8")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    config = Settings(data_dir=tmp_path, warehouse_url=f"duckdb:///{demo_db_path}", web_dist=dist, **fields)
    return create_app(config)


def test_data_responses_are_never_cached_and_carry_security_headers(tmp_path, demo_db_path) -> None:
    client = signed_in(_app(tmp_path, demo_db_path))
    for path in ("/api/v1/indicators", "/api/v1/meta", "/api/v1/no-such-route"):
        response = client.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    # the web UI's own files hold no data: the browser may keep them
    script = client.get("/assets/index-abc.js")
    assert script.status_code == 200 and script.headers.get("cache-control") != "no-store"
    assert script.headers["x-content-type-options"] == "nosniff"


def test_the_default_host_list_is_loopback_only(tmp_path, demo_db_path) -> None:
    default = Settings.model_fields["allowed_hosts"].default_factory()
    assert default == ["localhost", "127.0.0.1"]
    app = _app(tmp_path, demo_db_path, allowed_hosts=default)
    assert TestClient(app, base_url="http://127.0.0.1:8000").get("/api/v1/health").status_code == 200
    assert TestClient(app, base_url="http://localhost").get("/api/v1/health").status_code == 200
    # a page on another site whose name now points at 127.0.0.1 sends its own name as Host
    rebound = TestClient(app, base_url="http://attacker.example").get("/api/v1/indicators")
    assert rebound.status_code == 400 and "药占比" not in rebound.text


def test_a_configured_name_is_answered(tmp_path, demo_db_path) -> None:
    app = _app(tmp_path, demo_db_path, allowed_hosts=["opsbrain.hospital.local", "10.1.2.3"])
    assert TestClient(app, base_url="http://opsbrain.hospital.local").get("/api/v1/health").status_code == 200
    assert TestClient(app, base_url="http://10.1.2.3:8000").get("/api/v1/health").status_code == 200
    assert TestClient(app, base_url="http://localhost").get("/api/v1/health").status_code == 400


def test_production_refuses_a_wildcard_host_list() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="OPSBRAIN_ALLOWED_HOSTS"):
        Settings(environment="production", allowed_hosts=["*"])


def test_the_api_reference_loads_its_scripts_from_this_server(tmp_path, demo_db_path) -> None:
    app = _app(tmp_path, demo_db_path)
    client = TestClient(app, raise_server_exceptions=False)
    missing = client.get("/api/v1/docs")  # this test's dist has no api-docs files yet
    assert missing.status_code == 503 and "scripts/setup.sh" in missing.text
    docs = tmp_path / "dist" / "api-docs"
    docs.mkdir()
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        (docs / name).write_text("/* */", encoding="utf-8")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # nothing from another site
    assert 'src="/api-docs/swagger-ui-bundle.js"' in page.text and "/api/v1/openapi.json" in page.text
    assert client.get("/api-docs/swagger-ui-bundle.js").status_code == 200
    assert "redoc" not in client.get("/redoc").text.lower()  # ReDoc's page (a CDN script) is off
