"""Helpers for the LLM parser tests: a small dimension index, a scripted backend, the tiny model, a
stub OpenAI-compatible server."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request  # module level: the handler's string annotations resolve here
from fastapi.responses import JSONResponse

from indicators.query.dimensions import DimensionIndex, Member

AS_OF = date(2023, 9, 8)
DATA_START = date(2019, 1, 1)


def small_dimensions() -> DimensionIndex:
    """A few members per dimension: enough for names, aliases and one ambiguous group (内科)."""
    departments = [
        ("D01", "心血管内科", "内科"),
        ("D02", "呼吸内科", "内科"),
        ("D03", "急诊科", "急诊"),
        ("D04", "普通外科", "外科"),
    ]
    return DimensionIndex(
        {
            "campus": [Member("C1", "本部"), Member("C2", "东院区"), Member("C3", "西院区")],
            "department": [
                Member(code, name, {"dept_group": group, "dept_type": "临床"})
                for code, name, group in departments
            ],
            "doctor": [
                Member("E001", "王林华", {"dept_code": "D01", "campus_code": "C1", "title": "主任医师"})
            ],
            "insurance": [Member("I1", "职工医保"), Member("I2", "居民医保"), Member("I3", "自费")],
            "visit_type": [Member(v, v) for v in ("门诊", "急诊", "住院")],
        }
    )


class ScriptedBackend:
    """Answers with the given texts in order (an Exception item is raised instead); records the
    messages and the schema of every request."""

    name = "scripted"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, str]]] = []
        self.schemas: list[dict[str, Any]] = []  # schema optional: tests/training still calls it without

    def generate(self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None) -> str:
        self.calls.append(messages)
        self.schemas.append(schema or {})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def tiny_model_folder(request: Any, tmp_path_factory: Any) -> Path:
    """The tiny random Qwen2 model (serving/planner/llm/tiny.py), built once (about 6 s) and kept in
    pytest's cache folder, keyed by the builder's source."""
    from serving.planner.llm import tiny

    key = hashlib.sha256(Path(tiny.__file__).read_bytes()).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir(f"opsbrain-tiny-qwen2-{key}") if cache else tmp_path_factory.mktemp("tiny-qwen2")
    if not (folder / "model.safetensors").exists() or not (folder / "tokenizer.json").exists():
        tiny.build_tiny_model(folder)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def stub_openai_server(replies: list[Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server (uvicorn in a thread) with ``POST /v1/chat/completions``.

    Each reply is a string (the completion's content) or an int (an HTTP error status). Yields the
    base URL and the list of received (headers, body) records.
    """
    app = FastAPI()
    received: list[dict[str, Any]] = []
    pending = list(replies)

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> JSONResponse:
        received.append({"headers": dict(request.headers), "body": await request.json()})
        reply = pending.pop(0)
        if isinstance(reply, int):
            return JSONResponse({"error": {"message": "stub failure"}}, status_code=reply)
        return JSONResponse(
            {
                "id": "cmpl-1",
                "object": "chat.completion",
                "model": "stub",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                ],
            }
        )

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1", received
    finally:
        server.should_exit = True
        thread.join(timeout=5)
