"""Policy and fact answers: do the first sentences state the facts the question needs?

Each question of a policy split (evals/datasets/policy_<split>.jsonl, evals/check.py) lists the facts
a correct answer's first sentences must contain, each with its acceptable spellings; or says the
documents do not hold the answer, in which case the reply must say so. The whole assistant answers
(planner, knowledge base, composer), so a question the planner sends elsewhere is a miss too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from evals.check import PolicyQuestion
from evals.datasets import dataset_file, load_jsonl, write_report
from serving.assistant.assistant import Assistant
from serving.assistant.policy_answer import NOT_HELD, SOURCES_HEADING

POLICY_SPLITS = ("dev", "heldout")  # heldout is only ever scored, never read while developing


class PolicyScore(BaseModel):
    id: str
    question: str
    answerable: bool
    ok: bool
    missing: list[list[str]] = Field(
        default_factory=list, description="facts not found in the first sentences"
    )
    said_not_held: bool
    cited: bool
    head: str = Field(description="the answer's first sentences (before its sources)")
    intent: str = ""


class PolicyReport(BaseModel):
    dataset: str
    questions: int
    created: str
    answerable: int
    facts_accuracy: float = Field(description="answerable questions whose first sentences hold every fact")
    fact_recall: float = Field(description="required facts found, over all answerable questions")
    not_held_accuracy: float = Field(description="unanswerable questions answered with 'not held'")
    false_not_held: float = Field(description="answerable questions answered with 'not held'")
    accuracy: float
    failures: list[PolicyScore]


def dataset_path(split: str) -> Path:
    return dataset_file(f"policy_{split}.jsonl")


def head_of(answer: str) -> str:
    """The part of an answer before its list of sources."""
    return answer.split(SOURCES_HEADING, 1)[0]


def canon(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def score_question(item: PolicyQuestion, answer: str, cited: bool, intent: str = "") -> PolicyScore:
    head = head_of(answer)
    text = canon(head)
    missing = [spellings for spellings in item.facts if not any(canon(s) in text for s in spellings)]
    said_not_held = NOT_HELD in head
    ok = (not missing and not said_not_held) if item.answerable else said_not_held
    return PolicyScore(
        id=item.id,
        question=item.question,
        answerable=item.answerable,
        ok=ok,
        missing=missing,
        said_not_held=said_not_held,
        cited=cited,
        head=head[:600],
        intent=intent,
    )


def evaluate_policy(assistant: Assistant, path: Path) -> PolicyReport:
    items = load_jsonl(path, PolicyQuestion)
    scores = []
    for item in items:
        response = assistant.ask(item.question)
        intent = response.understanding.intent if response.understanding else ""
        scores.append(score_question(item, response.answer, bool(response.citations), intent))
    answerable = [s for s, i in zip(scores, items, strict=True) if i.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    facts = sum(len(i.facts) for i in items if i.answerable)
    found = sum(len(i.facts) - len(s.missing) for s, i in zip(scores, items, strict=True) if i.answerable)
    return PolicyReport(
        dataset=path.name,
        questions=len(items),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        answerable=len(answerable),
        facts_accuracy=_rate([s.ok for s in answerable]),
        fact_recall=round(found / facts, 4) if facts else 0.0,
        not_held_accuracy=_rate([s.ok for s in unanswerable]),
        false_not_held=_rate([s.said_not_held for s in answerable]),
        accuracy=_rate([s.ok for s in scores]),
        failures=[s for s in scores if not s.ok],
    )


def _rate(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def to_markdown(report: PolicyReport) -> str:
    rows = [
        ("answerable questions with every required fact in the first sentences", report.facts_accuracy),
        ("required facts found (recall)", report.fact_recall),
        ("unanswerable questions answered 'not held'", report.not_held_accuracy),
        ("answerable questions wrongly answered 'not held'", report.false_not_held),
        ("all questions right", report.accuracy),
    ]
    return (
        "\n".join(
            [
                f"Policy answers on {report.dataset}: {report.questions} questions ({report.answerable} answerable).",
                "",
                "| metric | value |",
                "|---|---|",
                *[f"| {name} | {value:.3f} |" for name, value in rows],
            ]
        )
        + "\n"
    )


def write_reports(report: PolicyReport, out: Path) -> dict[str, Path]:
    split = report.dataset.removeprefix("policy_").removesuffix(".jsonl")
    return write_report(report, to_markdown(report), out, f"policy_{split}")
