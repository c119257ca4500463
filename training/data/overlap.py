"""No generated question may equal an eval question: normalised comparison, collisions dropped.

Normalising (NFKC, lower case, no whitespace or punctuation) catches the near-copies that exact
comparison misses (全角/半角, a trailing ？), which would otherwise leak eval answers into training.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable

from evals.datasets import dataset_file

_DROP_CATEGORIES = ("P", "Z", "S", "C")  # punctuation, separators, symbols, control characters


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(_DROP_CATEGORIES))


def eval_questions() -> set[str]:
    """Every question of every planner split (all turns) and of the knowledge-base set, normalised."""
    found: set[str] = set()
    paths = sorted(dataset_file("planner_dev.jsonl").parent.glob("planner_*.jsonl"))
    paths.append(dataset_file("kb_questions.jsonl"))
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.update(normalise(q) for q in _questions(json.loads(line)))
    return found


def _questions(record: dict) -> Iterable[str]:
    if "turns" in record:
        return [t["question"] for t in record["turns"]]
    return [record["question"]] if "question" in record else []


def row_questions(row: dict) -> list[str]:
    """The questions a training row holds: every user turn of a plan conversation, the question
    line of an answer example's user message (its tool results are not a question)."""
    messages = row.get("messages") or row.get("prompt") or []
    found = []
    for m in messages:
        if m["role"] != "user":
            continue
        text = m["content"]
        if text.startswith("问题：") and "\n工具结果：" in text:
            text = text[len("问题：") : text.index("\n工具结果：")]
        found.append(text)
    return found


def drop_collisions(rows: list[dict], banned: set[str]) -> tuple[list[dict], int]:
    """The rows none of whose questions is banned, and how many were dropped."""
    kept = [r for r in rows if not any(normalise(q) in banned for q in row_questions(r))]
    return kept, len(rows) - len(kept)
