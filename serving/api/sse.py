"""Server-sent events: framing, the streaming response, and the answer cut into chunks.

Each event is ``event: NAME`` (omitted for OpenAI-style streams) and one ``data:`` line of compact
JSON, then a blank line. JSON strings escape newlines, so one ``data:`` line always holds the whole
payload and a client may ``json.loads`` it directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic_core import to_json

# after a clause's punctuation or a line break, so a UI shows readable pieces as they come
_CLAUSE = re.compile(r".*?(?:[。！？；，、：\n]+|$)", re.DOTALL)
# a long clause is cut between these: a figure (205,685 / 36.45% / 2023-01-01) is never split
_ATOM = re.compile(r"\d[\d,.\-]*%?|.", re.DOTALL)
MAX_CHUNK_CHARS = 40
SSE_HEADERS = {
    "Cache-Control": "no-store",  # an answer is internal data (serving/api/headers.py)
    "X-Accel-Buffering": "no",  # nginx would otherwise hold the events until the stream ends
}


def sse_event(payload: Any, event: str | None = None) -> bytes:
    """One event; ``payload`` may hold pydantic models, dates and plain values."""
    head = f"event: {event}\n".encode() if event else b""
    data = payload if isinstance(payload, bytes) else to_json(payload)
    return head + b"data: " + data + b"\n\n"


def sse_response(events: Iterator[bytes]) -> StreamingResponse:
    """A ``text/event-stream`` response; a sync iterator is run in the thread pool by Starlette."""
    return StreamingResponse(events, media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)


def answer_chunks(text: str) -> Iterator[str]:
    """The answer in clause-sized pieces whose concatenation is exactly ``text``."""
    for clause in _CLAUSE.findall(text):
        piece = ""
        for atom in _ATOM.findall(clause):
            if piece and len(piece) + len(atom) > MAX_CHUNK_CHARS:
                yield piece
                piece = ""
            piece += atom
        if piece:
            yield piece
