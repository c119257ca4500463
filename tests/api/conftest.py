import pytest
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app
from tests.conftest import UNLIMITED, authorize


@pytest.fixture(scope="session")
def client(demo_db_path, tmp_path_factory) -> TestClient:
    """The API signed in as an operations user (the whole hospital)."""
    config = Settings(
        data_dir=tmp_path_factory.mktemp("api-data"),
        warehouse_url=f"duckdb:///{demo_db_path}",
        max_request_bytes=4096,
        **UNLIMITED,  # 5% test data: suppression and limits have their own tests
    )
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False, headers=authorize(app)) as c:
        yield c
