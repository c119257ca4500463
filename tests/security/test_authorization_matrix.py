"""Every role × every data route, in scope and out of it: nothing outside a caller's scope leaks.

Suppression is off here (min_cell 0) so that a leak cannot hide behind a withheld cell; small cells
have their own tests (test_small_cells.py, tests/indicators/test_access_and_privacy.py).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.app import create_app
from tests.conftest import UNLIMITED, authorize

YEAR = {"start": "2022-01-01", "end": "2022-12-31"}
WHOLE = ("hospital_leader", "operations", "finance", "admin")
MODEL = "opsbrain"
ROLES = (*WHOLE, "medical_affairs", "insurance_office", "department_head", "doctor")


@pytest.fixture(scope="module")
def world(tmp_path_factory, demo_db_path, corpus_kb, warehouse):
    app = create_app(
        Settings(
            data_dir=tmp_path_factory.mktemp("matrix"), warehouse_url=f"duckdb:///{demo_db_path}", **UNLIMITED
        )
    )
    app.state.knowledge_base = corpus_kb
    dims = warehouse.dimensions
    cardio = dims.resolve("department", ["心血管内科"])[0]
    doctor = next(m for m in dims.members["doctor"] if m.attributes["dept_code"] == cardio.code)
    accounts = {"department_head": {"departments": [cardio.code]}, "doctor": {"doctor": doctor.code}}
    headers = {role: authorize(app, role, **accounts.get(role, {})) for role in ROLES}
    cardio_doctors = {m.name for m in dims.members["doctor"] if m.attributes["dept_code"] == cardio.code}
    visible = {
        "department_head": {"department": {cardio.name}, "doctor": cardio_doctors},
        "doctor": {"doctor": {doctor.name}},
    }
    client = TestClient(app, raise_server_exceptions=False)
    return {"client": client, "headers": headers, "visible": visible, "doctor": doctor, "cardio": cardio}


def _leaks(role: str, world, results: list[dict]) -> list[str]:
    """Keys of result rows, and filters applied, outside what the role may see."""
    allowed = world["visible"].get(role, {})
    found = []
    for query in results:
        for ind in query["results"]:
            if role == "medical_affairs" and ind["code"] not in _owned(
                world, "医务处", "医院感染管理科", "药学部"
            ):
                found.append(f"indicator {ind['name']}")
            if role == "insurance_office" and ind["code"] not in _owned(world, "医保办"):
                found.append(f"indicator {ind['name']}")
            for row in ind["rows"]:
                for dim, names in allowed.items():
                    if dim in row["keys"] and row["keys"][dim] not in names:
                        found.append(f"{dim} {row['keys'][dim]}")
    return found


def _owned(world, *departments: str) -> set[str]:
    from indicators import default_catalog

    return {i.code for i in default_catalog().indicators.values() if i.owner_department in departments}


def _query(world, role, **body):
    payload = {"indicators": ["出院人次"], **YEAR, **body}
    return world["client"].post("/api/v1/indicators/query", json=payload, headers=world["headers"][role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("group", ["department", "doctor"])
def test_indicator_query_breakdowns(world, role, group) -> None:
    indicator = {"medical_affairs": "住院患者死亡率", "insurance_office": "CMI"}.get(role, "出院人次")
    r = _query(world, role, indicators=[indicator], group_by=[group])
    assert r.status_code == 200, (role, r.text)
    assert _leaks(role, world, [r.json()]) == []
    if role in WHOLE:  # the whole hospital sees more than one department's rows
        assert len({row["keys"][group] for row in r.json()["results"][0]["rows"]}) > 1


@pytest.mark.parametrize("role", ROLES)
def test_indicator_query_out_of_scope_is_403_with_what_is_visible(world, role) -> None:
    if role in WHOLE:
        assert _query(world, role, filters={"department": ["骨科"]}).status_code == 200
        return
    if role in ("medical_affairs", "insurance_office"):
        r = _query(world, role, indicators=["药占比"])  # not their subject
    else:
        r = _query(world, role, filters={"department": ["骨科"]})
    assert r.status_code == 403 and r.json()["error"]["type"] == "out_of_scope"
    assert "骨科" not in json.dumps(r.json()["error"]["valid"], ensure_ascii=False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("dimension", ["department", "doctor"])
def test_dimension_lists_show_only_the_scope(world, role, dimension) -> None:
    r = world["client"].get(f"/api/v1/dimensions/{dimension}", headers=world["headers"][role])
    assert r.status_code == 200
    names = {m["name"] for m in r.json()}
    allowed = world["visible"].get(role, {}).get(dimension)
    if allowed is None:
        assert len(names) > 1
    else:
        assert names and names <= allowed


@pytest.mark.parametrize("role", ["department_head", "doctor", "operations"])
@pytest.mark.parametrize("route", ["/api/v1/chat", "/api/v1/chat/stream", "/v1/chat/completions"])
def test_chat_routes_stay_in_scope(world, role, route) -> None:
    question = "去年各医生出院人次"
    headers = world["headers"][role]
    if route == "/v1/chat/completions":
        r = world["client"].post(
            route, json={"model": MODEL, "messages": [{"role": "user", "content": question}]}, headers=headers
        )
        body = r.json()["opsbrain"]
    elif route.endswith("stream"):
        r = world["client"].post(route, json={"question": question}, headers=headers)
        done = [
            json.loads(line[5:])
            for line in r.text.splitlines()
            if line.startswith("data:") and '"answer"' in line
        ]
        body = done[-1]
    else:
        r = world["client"].post(route, json={"question": question}, headers=headers)
        body = r.json()
    assert r.status_code == 200, r.text
    queries = [t["query"] for t in body["tool_results"] if t.get("query")]
    assert queries and _leaks(role, world, queries) == []


def test_the_assistant_says_politely_what_is_out_of_scope(world) -> None:
    r = world["client"].post(
        "/api/v1/chat", json={"question": "骨科去年出院人次"}, headers=world["headers"]["department_head"]
    )
    body = r.json()
    assert r.status_code == 200 and "超出了您的数据权限" in body["answer"] and "心血管内科" in body["answer"]
    assert all(t["query"] is None for t in body["tool_results"] if t["role"] == "plan")


def test_conversations_belong_to_their_owner(world) -> None:
    c, h = world["client"], world["headers"]
    mine = c.post("/api/v1/chat", json={"question": "去年出院人次"}, headers=h["department_head"]).json()
    cid = mine["conversation_id"]
    assert cid not in [x["id"] for x in c.get("/api/v1/conversations", headers=h["operations"]).json()]
    # a shared link opens for a scope that covers the owner's, not for a narrower or different one
    assert c.get(f"/api/v1/conversations/{cid}", headers=h["hospital_leader"]).status_code == 200
    assert c.get(f"/api/v1/conversations/{cid}", headers=h["doctor"]).status_code == 404
    assert c.get(f"/api/v1/conversations/{cid}/export?format=md", headers=h["doctor"]).status_code == 404
    assert c.delete(f"/api/v1/conversations/{cid}", headers=h["hospital_leader"]).status_code == 404
    follow = {"question": "前年呢", "conversation_id": cid}
    assert c.post("/api/v1/chat", json=follow, headers=h["operations"]).status_code == 404
    wide = c.post("/api/v1/chat", json={"question": "去年出院人次"}, headers=h["operations"]).json()
    assert (
        c.get(f"/api/v1/conversations/{wide['conversation_id']}", headers=h["department_head"]).status_code
        == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_policy_base_internal_documents_by_role(world, role) -> None:
    r = world["client"].post(
        "/api/v1/policies/search",
        json={"query": "本院 指标 口径 目标", "k": 10, "mode": "bm25"},
        headers=world["headers"][role],
    )
    assert r.status_code == 200
    scopes = {h["citation"]["scope"] if "citation" in h else h.get("scope") for h in r.json()["hits"]}
    internal = world["client"].post(
        "/api/v1/policies/search",
        json={"query": "口径", "filters": {"scope": "internal"}},
        headers=world["headers"][role],
    )
    if role in ("department_head", "doctor"):
        assert "internal" not in scopes and internal.status_code == 403
    else:
        assert internal.status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/api/v1/admin/users", "/api/v1/admin/keys", "/api/v1/audit"])
def test_management_routes_are_for_administrators(world, role, path) -> None:
    r = world["client"].get(path, headers=world["headers"][role])
    assert r.status_code == (200 if role == "admin" else 403), (role, path)


def test_an_answer_names_the_scope_its_figure_is_limited_to(world) -> None:
    body = (
        world["client"]
        .post(
            "/api/v1/chat", json={"question": "去年全院出院人次"}, headers=world["headers"]["department_head"]
        )
        .json()
    )
    assert "心血管内科（您的数据范围）" in body["answer"] and "全院出院人次" not in body["answer"]
    whole = (
        world["client"]
        .post("/api/v1/chat", json={"question": "去年全院出院人次"}, headers=world["headers"]["operations"])
        .json()
    )
    assert "您的数据范围" not in whole["answer"]
