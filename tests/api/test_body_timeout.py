"""BodyTimeout: a body that stops arriving gets 408, and the handler stops waiting for it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request

from serving.api.errors import install_error_handlers
from serving.api.limits import BodySizeLimit, BodyTimeout
from tests.conftest import serve_in_thread

TIMEOUT_S = 0.5


def _app(finished: threading.Event) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        try:
            return {"bytes": len(await request.body())}
        finally:
            finished.set()  # reached on success and when the body read was abandoned alike

    @app.post("/json")
    def json_body(body: dict[str, int]) -> dict[str, int]:  # FastAPI reads this body itself
        return body

    return app


@pytest.fixture()
def finished() -> threading.Event:
    return threading.Event()


@pytest.fixture()
def server(finished: threading.Event) -> Iterator[tuple[str, int]]:
    app = BodyTimeout(BodySizeLimit(_app(finished), 4096), TIMEOUT_S)
    with serve_in_thread(app, "test-body-timeout") as port:
        yield "127.0.0.1", port


def _send_partial(address: tuple[str, int], path: str) -> tuple[bytes, float]:
    """Declare 100 bytes, send 10, then wait: the response and how long it took."""
    with socket.create_connection(address, timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall((head + "Content-Length: 100\r\n\r\n").encode() + b'{"a": 1234')
        start = time.monotonic()
        received = b""
        while chunk := sock.recv(65536):  # the 408 says Connection: close, so the server hangs up
            received += chunk
        return received, time.monotonic() - start


@pytest.mark.parametrize("path", ["/echo", "/json"])
def test_stalled_body_gets_408(server: tuple[str, int], finished: threading.Event, path: str) -> None:
    received, waited = _send_partial(server, path)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), received
    assert b"connection: close" in head.lower()
    assert TIMEOUT_S * 0.8 <= waited < TIMEOUT_S + 3
    assert json.loads(body) == {
        "error": {
            "message": f"请求体未在 {TIMEOUT_S:g} 秒内收到，请重试。",
            "type": "body_timeout",
            "param": None,
            "valid": [],
            "suggestions": [],
        }
    }
    if path == "/echo":
        assert finished.wait(5), "the handler was left waiting for the body"


def test_whole_body_passes_over_a_socket(server: tuple[str, int]) -> None:
    host, port = server
    response = httpx.post(f"http://{host}:{port}/json", json={"a": 1}, timeout=10)
    assert response.status_code == 200 and response.json() == {"a": 1}


def test_fast_path_over_asgi(finished: threading.Event) -> None:
    app = BodyTimeout(BodySizeLimit(_app(finished), 4096), TIMEOUT_S)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            echoed = await client.post("/echo", content=b"x" * 1000)
            assert echoed.status_code == 200 and echoed.json() == {"bytes": 1000}
            parsed = await client.post("/json", json={"b": 2})
            assert parsed.status_code == 200 and parsed.json() == {"b": 2}
            too_large = await client.post("/echo", content=b"x" * 5000)  # BodySizeLimit still answers
            assert too_large.status_code == 413

    anyio.run(main)


def test_never_arriving_body_at_the_asgi_level() -> None:
    sent: list[dict] = []
    reached_end = False

    async def app(scope, receive, send) -> None:
        nonlocal reached_end
        await receive()  # never returns on its own
        reached_end = True  # not reached: the wrapped receive raises instead

    async def receive() -> dict:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict) -> None:
        sent.append(message)

    async def main() -> None:
        with anyio.fail_after(TIMEOUT_S + 3):
            await BodyTimeout(app, TIMEOUT_S)({"type": "http", "headers": []}, receive, send)

    anyio.run(main)
    assert not reached_end
    assert sent[0]["status"] == 408 and json.loads(sent[1]["body"])["error"]["type"] == "body_timeout"


def test_waiting_after_the_body_is_not_timed() -> None:
    """A streaming response listens on receive for the disconnect: that wait has no deadline."""
    messages = [{"type": "http.request", "body": b"abc", "more_body": False}]
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:
        await receive()  # the whole body
        message = await receive()  # then the disconnect, which comes late
        assert message["type"] == "http.disconnect"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await anyio.sleep(TIMEOUT_S * 2)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    anyio.run(BodyTimeout(app, TIMEOUT_S), {"type": "http", "headers": []}, receive, send)
    assert sent[0]["status"] == 200


def test_no_408_once_the_response_has_started() -> None:
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()

    async def receive() -> dict:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict) -> None:
        sent.append(message)

    anyio.run(BodyTimeout(app, TIMEOUT_S), {"type": "http", "headers": []}, receive, send)
    assert [m.get("status") for m in sent] == [200]  # the handler stopped; no second status line
