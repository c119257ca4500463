"""POST /api/v1/chat/stream: event order, the same answer as /chat, persistence, failures mid-stream."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from serving.api.sse import MAX_CHUNK_CHARS, answer_chunks
from serving.assistant import assistant as assistant_module
from serving.assistant.numbers import check_numbers
from tests.api.sse import read_events

SEED = "医院本年药占比是多少？包括同比"


@pytest.fixture(scope="module")
def http(live_server: str, live_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30, trust_env=False, headers=live_headers) as c:
        yield c


def stream(http: httpx.Client, **body: Any) -> list[tuple[str, Any]]:
    with http.stream("POST", "/api/v1/chat/stream", json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return read_events(r.iter_lines())


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in events]


def test_event_order_and_content(http: httpx.Client) -> None:
    events = stream(http, question=SEED)
    order = names(events)
    assert order[:2] == ["plan", "results"] and order[-1] == "done"
    assert set(order[2:-1]) == {"answer"} and len(order[2:-1]) >= 2, "the answer comes in pieces"
    plan, results, done = events[0][1], events[1][1], events[-1][1]
    assert plan["plan"]["calls"][0]["arguments"]["indicators"] == ["药占比"]
    assert plan["plan"] == done["plan"] and results["tool_results"] == done["tool_results"]
    assert "".join(data["delta"] for name, data in events if name == "answer") == done["answer"]
    assert done["conversation_id"] and done["planner"] == "rules"
    assert set(done["timings_ms"]) == {"plan", "execute", "compose"}
    assert {"citations", "chart", "table", "as_of"} <= set(done)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "**门诊人次**（2023-01-01 至 2023-09-08）为 205,685人次。口径：统计期内门诊挂号就诊的人次数。",
        "[1] 《关于全面推开公立医院综合改革工作的通知（要点摘要）》（国卫体改发〔2017〕22号）预约转诊比例不低于20%",
        "药" * 95 + "36.45%",
    ],
)
def test_answer_pieces_rebuild_the_text_and_keep_figures_whole(text: str) -> None:
    pieces = list(answer_chunks(text))
    assert "".join(pieces) == text and all(pieces)
    assert all(len(p) <= MAX_CHUNK_CHARS for p in pieces)
    for figure in ("205,685", "2023-01-01", "2023-09-08", "2017", "20%", "36.45%"):
        if figure in text:
            assert any(figure in p for p in pieces), figure


def test_byte_stream_format(http: httpx.Client) -> None:
    with http.stream("POST", "/api/v1/chat/stream", json={"question": "门诊量"}) as r:
        raw = r.read()
        assert r.headers["cache-control"] == "no-store"  # not cached, as every data response
    assert raw.startswith(b'event: plan\ndata: {"plan":')
    blocks = raw.split(b"\n\n")
    assert blocks[-1] == b"", "every event ends with a blank line"
    for block in blocks[:-1]:
        head, data = block.split(b"\n")  # one event line and exactly one data line per event
        assert head.startswith(b"event: ") and data.startswith(b"data: {")


@pytest.mark.parametrize(
    "question",
    [
        SEED,
        "去年各科室出院人次排名前5",
        "人血白蛋白医保限定支付有什么规定",
        "把患者张三的病历号给我",
        "内科的药占比是多少",
    ],
)
def test_streamed_answer_equals_json_answer(http: httpx.Client, question: str) -> None:
    expected = http.post("/api/v1/chat", json={"question": question}).json()
    events = stream(http, question=question)
    done = events[-1][1]
    assert "".join(data["delta"] for name, data in events if name == "answer") == expected["answer"]
    for field in ("answer", "plan", "citations", "chart", "table", "as_of", "planner"):
        assert done[field] == expected[field], field


def test_streamed_turns_persist_and_follow_ups_inherit(http: httpx.Client) -> None:
    first = stream(http, question="心内科上个月平均住院日")[-1][1]
    cid = first["conversation_id"]
    follow = stream(http, question="同比呢", conversation_id=cid)[-1][1]
    assert follow["conversation_id"] == cid
    args = follow["plan"]["calls"][0]["arguments"]
    assert args["indicators"] == ["平均住院日"] and args["filters"]["department"] == ["心血管内科"]
    assert args["compare"] == ["yoy"]
    stored = http.get(f"/api/v1/conversations/{cid}").json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"] * 2
    assert [m["content"] for m in stored[::2]] == ["心内科上个月平均住院日", "同比呢"]
    assert stored[3]["content"] == follow["answer"] and stored[3]["response"]["plan"] == follow["plan"]
    # a JSON follow-up reads the streamed turns as its history
    json_follow = http.post("/api/v1/chat", json={"question": "按月看", "conversation_id": cid}).json()
    assert json_follow["plan"]["calls"][0]["arguments"]["filters"]["department"] == ["心血管内科"]


def test_withheld_answer_never_streams(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = "86420.13"
    real_compose = assistant_module.compose

    def lying_compose(plan, results, embedder=None, shown=()):  # a composer bug: a figure no tool gave
        answer = real_compose(plan, results, embedder, shown)
        answer.text += f"另：去年为 {planted}。"
        check_numbers(answer.text, results)
        return answer

    monkeypatch.setattr(assistant_module, "compose", lying_compose)
    with http.stream("POST", "/api/v1/chat/stream", json={"question": SEED}) as r:
        raw = r.read()
    assert planted.encode() not in raw
    events = read_events(raw.decode().splitlines())
    text = "".join(data["delta"] for name, data in events if name == "answer")
    assert text == assistant_module.WITHHELD_ANSWER == events[-1][1]["answer"]


def test_failure_mid_stream_is_an_error_event(
    http: httpx.Client, chat_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(calls):
        raise RuntimeError("warehouse gone")

    monkeypatch.setattr(chat_app.state.assistant.executor, "run", broken)
    question = "今年出院人次（故障测试）"
    events = stream(http, question=question)
    assert names(events) == ["plan", "error"]
    error = events[1][1]["error"]
    assert error["type"] == "internal_error" and "warehouse gone" not in error["message"]
    monkeypatch.undo()
    assert question not in [c["title"] for c in http.get("/api/v1/conversations").json()], (
        "no empty conversation"
    )
    assert names(stream(http, question="今年出院人次"))[-1] == "done", "the server keeps serving"


def test_client_hanging_up_mid_stream(
    http: httpx.Client, chat_app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    executor = chat_app.state.assistant.executor
    real_run, finished = executor.run, threading.Event()

    def slow_run(calls, **kwargs):
        time.sleep(0.5)
        try:
            return real_run(calls, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(executor, "run", slow_run)
    with (
        caplog.at_level(logging.ERROR),
        http.stream("POST", "/api/v1/chat/stream", json={"question": SEED}) as r,
    ):
        first = next(r.iter_lines())
        assert first == "event: plan"
    # the client has gone while the tools still run; the stage finishes and nothing else breaks
    assert finished.wait(5)
    monkeypatch.undo()
    time.sleep(0.1)
    assert names(stream(http, question=SEED))[-1] == "done"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"question": "   "}, 422, "question"),
        ({"question": "药" * 501}, 422, "question"),
        ({"question": "药占比", "conversation_id": "no-such-id"}, 404, "conversation_id"),
        ({"q": "药占比"}, 422, "question"),
    ],
)
def test_bad_requests_are_refused_before_the_stream(
    http: httpx.Client, body: dict, status: int, param: str
) -> None:
    r = http.post("/api/v1/chat/stream", json=body)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["param"] == param
    assert names(stream(http, question="门诊量"))[-1] == "done"
