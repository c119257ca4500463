"""Request-body guards: refuse oversized bodies before they are read into memory, and bodies that
arrive too slowly (a client that declares 100 bytes and sends 10 would otherwise hold a worker)."""

from __future__ import annotations

import json

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.api.errors import error_body


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await _send_error(send, 413, f"请求体超过 {self.max_bytes} 字节上限。", "request_too_large")


class _TooLarge(Exception):
    pass


class BodyTimeout:
    """HTTP 408 when the next piece of a request body does not arrive within ``seconds``.

    The clock runs only while the app waits in ``receive`` for body data: a request without a body,
    or one whose body is complete, is never timed. Once the body is complete, ``receive`` is passed
    through untouched (streaming responses wait there for the disconnect, for as long as they like).

    On a timeout this middleware sends the 408 itself, then raises inside the app's ``receive`` so
    the handler stops waiting. It does not rely on the exception reaching it: FastAPI turns any
    error while reading a body into its own 400, so whatever the app sends after the 408 is dropped.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        started = False  # the app sent its status line: a 408 can no longer be sent
        timed_out = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the client already has its 408; the app's own error answer goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            message: Message | None = None
            with anyio.move_on_after(self.seconds):
                message = await receive()
            if message is None:
                answer, timed_out = not started, True
                if answer:
                    await _send_error(
                        send,
                        408,
                        f"请求体未在 {self.seconds:g} 秒内收到，请重试。",
                        "body_timeout",
                        close=True,
                    )
                raise BodyTimeoutError(self.seconds)
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True  # the last body piece, or the client left
            return message

        try:
            await self.app(scope, timed_receive, guarded_send)
        except BodyTimeoutError:
            pass  # answered above (or the response had already started: nothing more to say)
        except Exception:
            if not timed_out:
                raise
            # the app failed while unwinding from the timeout (e.g. an error handler that re-raised):
            # the 408 is sent, and the failure is a consequence of it, not a bug to report


class BodyTimeoutError(Exception):
    """Raised in the app's ``receive`` when the body stopped arriving; BodyTimeout answers 408."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"request body not received within {seconds:g} s")


async def _send_error(send: Send, status: int, message: str, type_: str, *, close: bool = False) -> None:
    body = json.dumps(error_body(message, type_), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        # the rest of the body may still come: the connection cannot be reused for a next request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
