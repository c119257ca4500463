"""/v1/chat/completions and /v1/models through the official ``openai`` client, streaming and not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI, HTTPException

from serving.api.deps import get_assistant
from tests.api.sse import read_events

SEED = "医院本年药占比是多少？包括同比"


@pytest.fixture(scope="module")
def client(live_server: str, live_headers: dict[str, str]) -> Iterator[openai.OpenAI]:
    # the client's own HTTP library (httpx or httpx2, by version), with no proxy between test and server
    http_client = openai.DefaultHttpxClient(trust_env=False, timeout=30)
    with openai.OpenAI(
        base_url=f"{live_server}/v1",
        api_key=live_headers["Authorization"].removeprefix("Bearer "),
        max_retries=0,
        http_client=http_client,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def http(live_server: str, live_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30, trust_env=False, headers=live_headers) as c:
        yield c


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def ask(client: openai.OpenAI, messages: list[dict[str, Any]], **kwargs: Any) -> tuple[str, dict[str, Any]]:
    completion = client.chat.completions.create(model="opsbrain", messages=messages, **kwargs)
    return completion.choices[0].message.content, completion.model_extra["opsbrain"]


def ask_streaming(client: openai.OpenAI, messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any], list]:
    chunks = list(client.chat.completions.create(model="opsbrain", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    return text, chunks[-1].model_extra["opsbrain"], chunks


def untimed(value: Any) -> Any:
    """``value`` without the elapsed times, which differ between two runs of the same question."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in {"elapsed_ms", "timings_ms"}}
    return [untimed(v) for v in value] if isinstance(value, list) else value


def test_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["opsbrain"]


def test_completion_carries_the_chat_answer_and_extension(client: openai.OpenAI, http: httpx.Client) -> None:
    expected = http.post("/api/v1/chat", json={"question": SEED}).json()
    completion = client.chat.completions.create(
        model="opsbrain",
        messages=[user(SEED)],
        temperature=0.7,
        max_tokens=5,
        seed=1,  # ignored
    )
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert choice.message.content == expected["answer"], "max_tokens does not cut the checked answer"
    extension = completion.model_extra["opsbrain"]
    assert set(extension) == {
        "plan",
        "tool_results",
        "citations",
        "chart",
        "table",
        "as_of",
        "planner",
        "understanding",
        "timings_ms",
    }
    for field in ("plan", "citations", "chart", "table", "as_of", "planner"):
        assert extension[field] == expected[field], field
    assert extension["tool_results"][0]["query"]["results"] == expected["tool_results"][0]["query"]["results"]


@pytest.mark.parametrize("question", [SEED, "去年各科室出院人次排名前5", "人血白蛋白医保限定支付有什么规定"])
def test_streaming_matches_and_keeps_the_extension(client: openai.OpenAI, question: str) -> None:
    text, extension = ask(client, [user(question)])
    streamed_text, streamed_extension, chunks = ask_streaming(client, [user(question)])
    assert streamed_text == text and len(chunks) >= 4
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert all(c.model_extra.get("opsbrain") is None for c in chunks[:-1]), "the extension comes once, last"
    assert untimed(streamed_extension) == untimed(extension)


def test_stream_bytes_end_with_done(http: httpx.Client) -> None:
    body = {"model": "opsbrain", "messages": [user("门诊量")], "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = read_events(r.iter_lines())
    assert {name for name, _ in events} == {"message"}, "OpenAI streams name no events"
    assert events[-1][1] == "[DONE]" and "opsbrain" in events[-2][1]


def test_follow_up_through_messages(client: openai.OpenAI) -> None:
    first, first_extension = ask(client, [user("医院本年药占比是多少")])
    history = [user("医院本年药占比是多少"), {"role": "assistant", "content": first}]
    for text, extension, *_ in (
        ask(client, [*history, user("按科室看")]),
        ask_streaming(client, [*history, user("按科室看")]),
    ):
        args = extension["plan"]["calls"][0]["arguments"]
        assert args["indicators"] == ["药占比"] and args["group_by"] == ["department"]
        assert args["start"] == first_extension["plan"]["calls"][0]["arguments"]["start"]
        assert extension["table"]["rows"] and text


def test_follow_up_inherits_the_plan_sent_back(client: openai.OpenAI) -> None:
    """The plan on the assistant message wins over re-planning the earlier question."""
    _, cardiology = ask(client, [user("心内科本年药占比")])
    text, _ = ask(client, [user("本年药占比")])
    re_planned = [user("本年药占比"), {"role": "assistant", "content": text}, user("同比呢")]
    sent_back = [
        user("本年药占比"),
        {"role": "assistant", "content": text, "opsbrain": {"plan": cardiology["plan"]}},
        user("同比呢"),
    ]
    assert ask(client, re_planned)[1]["plan"]["calls"][0]["arguments"]["filters"]["department"] == []
    args = ask(client, sent_back)[1]["plan"]["calls"][0]["arguments"]
    assert args["filters"]["department"] == ["心血管内科"] and args["compare"] == ["yoy"]


def test_system_messages_ignored_and_text_parts_joined(client: openai.OpenAI) -> None:
    # read as a question, the system message would give the follow-up an indicator to inherit
    lone, _ = ask(client, [user("同比呢")])
    system = {"role": "system", "content": "心内科本年药占比是多少"}
    assert ask(client, [system, user("同比呢")])[0] == lone
    plain, _ = ask(client, [user(SEED)])
    parts = [{"type": "text", "text": SEED[:6]}, {"type": "text", "text": SEED[6:]}]
    assert ask(client, [{"role": "user", "content": parts}])[0] == plain


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"messages": [{"role": "system", "content": "你好"}]}, 400, "messages", "missing_user_message"),
        (
            {"messages": [user("药占比"), {"role": "assistant", "content": "…"}]},
            400,
            "messages[1].role",
            "invalid_role",
        ),
        ({"messages": [{"role": "bot", "content": "药占比"}]}, 400, "messages[0].role", "invalid_value"),
        (
            {"messages": [{"role": "tool", "content": "1", "tool_call_id": "x"}]},
            400,
            "messages[0].role",
            "invalid_value",
        ),
        ({"messages": [user("  ")]}, 400, "messages[0].content", "empty_content"),
        ({"messages": [user("药" * 501)]}, 400, "messages[0].content", "content_too_long"),
        ({"messages": [user("药占比"), user("")]}, 400, "messages[1].content", "empty_content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            400,
            "messages[0].content",
            "invalid_value",
        ),
        ({"messages": []}, 400, "messages", "invalid_value"),
        ({"messages": [user("药占比")], "n": 2}, 400, "n", "unsupported_parameter"),
        (
            {"messages": [user("药占比")], "tools": [{"type": "function"}]},
            400,
            "tools",
            "unsupported_parameter",
        ),
        (
            {"messages": [user("药占比")], "response_format": {"type": "json_object"}},
            400,
            "response_format",
            "unsupported_parameter",
        ),
        ({"messages": [user("药占比")], "model": "gpt-4o"}, 404, "model", "model_not_found"),
        ({"model": "opsbrain"}, 400, "messages", "missing_required_parameter"),
        (
            {
                "messages": [
                    user("药占比"),
                    {"role": "assistant", "content": "x", "opsbrain": {"plan": {"calls": [{"tool": "rm"}]}}},
                    user("同比呢"),
                ]
            },
            400,
            "messages[1].opsbrain.plan.calls[0]",
            "invalid_value",
        ),
    ],
)
def test_bad_requests_get_openai_errors(
    http: httpx.Client, client: openai.OpenAI, body: dict, status: int, param: str, code: str
) -> None:
    r = http.post("/v1/chat/completions", json={"model": "opsbrain", **body})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert ask(client, [user("门诊量")])[0], "the server keeps serving"


def test_malformed_json(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions",
        content=b'{"model": "opsbrain", "messages": [',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_the_client_raises_the_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="opsbrain", messages=[user("")])
    assert caught.value.code == "empty_content" and "为空" in caught.value.message
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[user("药占比")], stream=True)


def test_failure_mid_stream_reaches_the_client(
    client: openai.OpenAI, chat_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(calls):
        raise RuntimeError("warehouse gone")

    monkeypatch.setattr(chat_app.state.assistant.executor, "run", broken)
    stream = client.chat.completions.create(model="opsbrain", messages=[user(SEED)], stream=True)
    with pytest.raises(openai.APIError, match="服务器内部错误"):
        list(stream)
    monkeypatch.undo()
    assert ask_streaming(client, [user(SEED)])[0]


def test_an_unavailable_dependency_keeps_the_openai_shape(http: httpx.Client, chat_app: FastAPI) -> None:
    def unavailable() -> None:
        raise HTTPException(503, "政策知识库不可用")

    chat_app.dependency_overrides[get_assistant] = unavailable
    try:
        r = http.post("/v1/chat/completions", json={"model": "opsbrain", "messages": [user("药占比")]})
    finally:
        chat_app.dependency_overrides.pop(get_assistant)
    assert r.status_code == 503
    assert r.json() == {
        "error": {"message": "政策知识库不可用", "type": "server_error", "param": None, "code": None}
    }
