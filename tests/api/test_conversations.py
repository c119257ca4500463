"""Conversation routes: search, rename, delete, export; the chat's scope (the web UI's filter bar)."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import signed_in


@pytest.fixture(scope="module")
def client(chat_app: FastAPI) -> TestClient:
    with signed_in(chat_app) as c:
        yield c


@pytest.fixture(scope="module")
def conversation(client: TestClient) -> str:
    """Two turns: the seed question, then the same question scoped to one campus and a half year."""
    first = client.post("/api/v1/chat", json={"question": "医院本年药占比是多少？包括同比"}).json()
    cid = first["conversation_id"]
    scope = {"start": "2023-01-01", "end": "2023-06-30", "campus": ["东院区"]}
    second = client.post(
        "/api/v1/chat", json={"question": first["question"], "conversation_id": cid, "scope": scope}
    )
    assert second.status_code == 200, second.text
    return cid


def _plan_query(response: dict) -> dict:
    return next(r for r in response["tool_results"] if r["role"] == "plan")["query"]


def test_scope_replaces_period_and_filters(client: TestClient, conversation: str) -> None:
    first, second = [
        m["response"] for m in client.get(f"/api/v1/conversations/{conversation}").json()["messages"][1::2]
    ]
    assert _plan_query(first)["query"]["filters"] == {}
    resolved = _plan_query(second)["query"]
    assert resolved["filters"] == {"campus": ["东院区"]}
    assert (resolved["start"], resolved["end"]) == ("2023-01-01", "2023-06-30")
    # the figure is the campus's own, not the hospital's
    assert (
        _plan_query(second)["results"][0]["rows"][0]["value"]
        != _plan_query(first)["results"][0]["rows"][0]["value"]
    )
    assert second["answer"].startswith("2023年上半年东院区药占比")


def test_scope_stream_and_bad_scopes(client: TestClient) -> None:
    body = {"question": "本年门诊人次", "scope": {"department": ["心血管内科"]}}
    with client.stream("POST", "/api/v1/chat/stream", json=body) as stream:
        text = stream.read().decode()
    assert '"department":["心血管内科"]' in text and "event: done" in text
    for scope, where in [
        ({"start": "2023-06-30", "end": "2023-01-01"}, "晚于"),
        ({"start": "2023-13-01"}, "scope.start"),
        ({"ward": ["一病区"]}, "scope.ward"),
    ]:
        r = client.post("/api/v1/chat", json={"question": "本年门诊人次", "scope": scope})
        assert r.status_code == 422 and where in r.json()["error"]["message"], r.text


def test_unknown_department_in_scope_says_what_is_valid(client: TestClient) -> None:
    body = {"question": "本年门诊人次", "scope": {"department": ["不存在科"]}}
    response = client.post("/api/v1/chat", json=body).json()
    failed = [r for r in response["tool_results"] if not r["ok"]]
    assert failed and "不存在科" in failed[0]["error"]["message"]
    assert "不存在科" in response["answer"]


def test_search_rename_delete(client: TestClient, conversation: str) -> None:
    assert conversation in [
        c["id"] for c in client.get("/api/v1/conversations", params={"q": "药占比"}).json()
    ]
    # found by an answer's text, not only by the title
    assert conversation in [
        c["id"] for c in client.get("/api/v1/conversations", params={"q": "东院区"}).json()
    ]
    assert client.get("/api/v1/conversations", params={"q": "100%_没有这样的会话"}).json() == []

    renamed = client.patch(f"/api/v1/conversations/{conversation}", json={"title": "  药占比月报  "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "药占比月报"
    assert client.get(f"/api/v1/conversations/{conversation}").json()["title"] == "药占比月报"
    assert client.patch(f"/api/v1/conversations/{conversation}", json={"title": ""}).status_code == 422
    assert client.patch("/api/v1/conversations/nope", json={"title": "x"}).status_code == 404

    doomed = client.post("/api/v1/chat", json={"question": "去年出院人次"}).json()["conversation_id"]
    assert client.delete(f"/api/v1/conversations/{doomed}").status_code == 204
    assert doomed not in [c["id"] for c in client.get("/api/v1/conversations").json()]


def _export(client: TestClient, cid: str, fmt: str, turn: int | None = None):
    params = {"format": fmt} | ({"turn": turn} if turn else {})
    return client.get(f"/api/v1/conversations/{cid}/export", params=params)


def test_export_markdown_excel_pdf(client: TestClient, conversation: str) -> None:
    md = _export(client, conversation, "md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    assert unquote(md.headers["content-disposition"].split("''")[1]).endswith(".md")
    assert md.text.count("医院本年药占比是多少") >= 2 and "```sql" in md.text

    one = _export(client, conversation, "md", turn=2).text
    assert "东院区" in one

    xlsx = _export(client, conversation, "xlsx", turn=1)
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) >= 2

    pdf = _export(client, conversation, "pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "药占比" in text


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"format": "docx"}, 422, "query.format"),
        ({"format": "md", "turn": 9}, 404, "turn"),
        ({}, 422, "query.format"),
    ],
)
def test_export_bad_requests(
    client: TestClient, conversation: str, params: dict, status: int, param: str
) -> None:
    r = client.get(f"/api/v1/conversations/{conversation}/export", params=params)
    assert r.status_code == status and r.json()["error"]["param"] == param, r.text
    assert _export(client, "no-such-id", "md").status_code == 404
