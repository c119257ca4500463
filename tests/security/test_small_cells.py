"""Small-cell suppression through the routes, the assistant and the exports (default k = 5)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app
from tests.conftest import authorize

UNLIMITED_RATE = {"rate_limit": "100000/minute", "chat_rate_limit": "100000/minute"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, demo_db_path, corpus_kb) -> TestClient:
    app = create_app(
        Settings(
            data_dir=tmp_path_factory.mktemp("cells"),
            warehouse_url=f"duckdb:///{demo_db_path}",
            **UNLIMITED_RATE,
        )
    )
    assert app.state.settings.min_cell == 5  # the default, not a test setting
    app.state.knowledge_base = corpus_kb
    with TestClient(app, raise_server_exceptions=False, headers=authorize(app, "hospital_leader")) as c:
        yield c


def test_mortality_by_doctor_and_day_is_refused_up_front(client) -> None:
    body = {
        "indicators": ["住院患者死亡率"],
        "start": "2023-01-01",
        "end": "2023-03-31",
        "filters": {"department": ["心血管内科"]},
        "group_by": ["doctor", "day"],
    }
    r = client.post("/api/v1/indicators/query", json=body)
    assert r.status_code == 422 and r.json()["error"]["type"] == "small_cells"
    assert "按月" in r.json()["error"]["suggestions"]


def test_small_cells_are_withheld_in_the_query_route(client) -> None:
    body = {
        "indicators": ["出院人次", "住院次均费用"],
        "start": "2022-01-01",
        "end": "2022-12-31",
        "filters": {"department": ["心血管内科"]},
        "group_by": ["doctor"],
    }
    result = client.post("/api/v1/indicators/query", json=body).json()
    assert result["min_cell"] == 5
    counts, costs = (r["rows"] for r in result["results"])
    withheld = [r for r in counts if r["suppressed"]]
    assert withheld, "the 5% test data has doctors with fewer than 5 discharges in 2022"
    for row in counts:
        assert row["suppressed"] == (row["value"] is None)
        assert row["value"] is None or row["value"] >= 5
    by_doctor = {r["keys"]["doctor"]: r for r in costs}
    for row in withheld:  # the matching 住院次均费用 cell would be a few patients' bills
        cost = by_doctor[row["keys"]["doctor"]]
        assert cost["suppressed"] and cost["value"] is None and cost["numerator"] is None


def test_the_assistant_and_the_exports_show_withheld_cells_as_such(client) -> None:
    answer = client.post("/api/v1/chat", json={"question": "心血管内科2022年各医生出院人次"}).json()
    query = next(t["query"] for t in answer["tool_results"] if t["query"])
    rows = query["results"][0]["rows"]
    assert any(r["suppressed"] for r in rows)
    assert "保护患者隐私" in " ".join(query["results"][0]["notes"])
    # the text counts the withheld cells apart, and every number in it passes the number check
    withheld = sum(r["suppressed"] for r in rows)
    assert f"另有 {withheld} 个少于 5 例，为保护隐私未显示" in answer["answer"]
    cid = answer["conversation_id"]
    md = client.get(f"/api/v1/conversations/{cid}/export", params={"format": "md"}).text
    assert "<5" in md
    from openpyxl import load_workbook

    xlsx = client.get(f"/api/v1/conversations/{cid}/export", params={"format": "xlsx"}).content
    cells = [
        c.value for ws in load_workbook(io.BytesIO(xlsx)).worksheets for row in ws.iter_rows() for c in row
    ]
    assert "<5" in cells
