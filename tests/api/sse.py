"""A minimal server-sent events reader for the tests (the spec's field rules, nothing more)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def read_events(lines: Iterable[str]) -> list[tuple[str, Any]]:
    """``(event name, parsed data)`` per event; the name is ``message`` when none is given, and data
    that is not JSON (OpenAI's ``[DONE]``) is kept as text."""
    events: list[tuple[str, Any]] = []
    name, data = "message", []
    for line in lines:
        if not line:
            if data:
                text = "\n".join(data)
                events.append((name, text if text == "[DONE]" else json.loads(text)))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
    return events
