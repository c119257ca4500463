import pytest
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app


@pytest.fixture(scope="session")
def client(demo_db_path) -> TestClient:
    app = create_app(Settings(warehouse_url=f"duckdb:///{demo_db_path}", max_request_bytes=4096))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
