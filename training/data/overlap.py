"""No generated question may equal an eval question (any split): normalised comparison, collisions dropped.

Normalising (NFKC, lower case, no whitespace or punctuation) catches the near-copies that exact
comparison misses (全角/半角, a trailing ？), which would otherwise leak eval answers into training.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from evals.datasets import dataset_file

_DROP_CATEGORIES = ("P", "Z", "S", "C")  # punctuation, separators, symbols, control characters


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(_DROP_CATEGORIES))


# every eval split: the planner sets (all turns), the policy QA sets and the knowledge-base set;
# a new split named like these is covered without a change here
EVAL_PATTERNS = ("planner_*.jsonl", "policy_*.jsonl", "kb_questions.jsonl")


def eval_files() -> list[Path]:
    """The eval split files whose questions training must not hold."""
    folder = dataset_file("planner_dev.jsonl").parent
    return sorted({path for pattern in EVAL_PATTERNS for path in folder.glob(pattern)})


def eval_questions(paths: Iterable[Path] | None = None) -> set[str]:
    """Every question of every eval split (``eval_files()``), normalised."""
    found: set[str] = set()
    for path in eval_files() if paths is None else paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.update(normalise(q) for q in _questions(json.loads(line)))
    return found


def _questions(record: dict) -> Iterable[str]:
    if "turns" in record:
        return [t["question"] for t in record["turns"]]
    return [record["question"]] if "question" in record else []


def row_questions(row: dict) -> list[str]:
    """The questions a training row holds: the question and its history's questions (plan rows,
    preference pairs, prompts), or the question line of a user message (``问题：…`` up to the next
    line: the parser's candidates and an answer example's tool results are not a question)."""
    if "question" in row:
        return [*(t["question"] for t in row.get("history", [])), row["question"]]
    messages = row.get("messages") or row.get("prompt") or []
    found = []
    for m in messages:
        if m["role"] != "user":
            continue
        text = m["content"]
        if text.startswith("问题："):
            text = text[len("问题：") :].split("\n", 1)[0]
        found.append(text)
    return found


def drop_collisions(rows: list[dict], banned: set[str]) -> tuple[list[dict], int]:
    """The rows none of whose questions is banned, and how many were dropped."""
    kept = [r for r in rows if not any(normalise(q) in banned for q in row_questions(r))]
    return kept, len(rows) - len(kept)
