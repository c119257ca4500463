"""The one context object every stage of the understanding pipeline reads and writes.

Mappers add scored candidates (each with the words of the question that evidence it), the intent
stage decides what is asked and why, the router picks a parser, the parser writes the plan and
the correctors tidy it. What a stage decided stays in the context, so the answer can show how the
question was understood (``Understanding.summary``) and the evaluation can count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from indicators import IndicatorQuery
from serving.tools import Plan, Turn

CandidateKind = Literal[
    "indicator", "campus", "department", "department_group", "doctor", "insurance", "visit_type"
]
Intent = Literal[
    "figure", "definition", "policy", "target_check", "catalog", "not_available", "clarify", "refuse"
]
INTENTS: tuple[str, ...] = (
    "figure",
    "definition",
    "policy",
    "target_check",
    "catalog",
    "not_available",
    "clarify",
    "refuse",
)
Route = Literal["rules", "llm"]


class Candidate(BaseModel):
    """One reading of some words of the question: 心内 → department 心血管内科 (score 0.9)."""

    model_config = ConfigDict(frozen=True)

    kind: CandidateKind
    value: str = Field(description="the canonical name")
    start: int = Field(description="evidence span in the normalised question, [start, end)")
    end: int
    text: str = Field(description="the words that evidence it")
    score: float = Field(ge=0, le=1)
    mapper: str = Field(description="which mapper found it: dictionary, formula, embedding, dimension …")

    @property
    def canonical(self) -> str:  # the name the clarifier and the rules parser read
        return self.value


class TimeExpression(BaseModel):
    """A period the deterministic resolver read from the question; parsers refer to it, never
    compute dates themselves."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: date
    end: date
    grain: str | None = None


class Decision(BaseModel):
    """What a stage decided and why, in words a reviewer can check."""

    value: str
    reason: str


class Understanding(BaseModel):
    """Everything known about one question, stage by stage."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str
    text: str = Field(description="the normalised question the spans refer to")
    history: Sequence[Turn] = ()
    previous: IndicatorQuery | None = Field(None, description="what a follow-up builds on")
    candidates: list[Candidate] = Field(default_factory=list)
    times: list[TimeExpression] = Field(default_factory=list)
    intent: Decision | None = None
    route: Decision | None = None
    parser: str = ""
    plan: Plan | None = None
    corrections: list[str] = Field(default_factory=list, description="correctors that changed the plan")

    # ------------------------------------------------------------------ reading candidates
    def of_kind(self, kind: str, min_score: float = 0.0) -> list[Candidate]:
        return [c for c in self.candidates if c.kind == kind and c.score >= min_score]

    def indicators(self, min_score: float = 0.0) -> list[str]:
        """Indicator names in the order the question says them, each once."""
        found = sorted(self.of_kind("indicator", min_score), key=lambda c: c.start)
        return list(dict.fromkeys(c.value for c in found))

    def best_indicators(self, limit: int = 5) -> list[Candidate]:
        """The strongest candidate per indicator, strongest first."""
        best: dict[str, Candidate] = {}
        for c in self.of_kind("indicator"):
            if c.value not in best or c.score > best[c.value].score:
                best[c.value] = c
        return sorted(best.values(), key=lambda c: -c.score)[:limit]

    def add(self, candidates: Sequence[Candidate]) -> None:
        self.candidates.extend(candidates)

    def covered(self, min_score: float = 0.0) -> set[int]:
        """Character positions that a name (any mapper but the embedding one, which only guesses) or
        a time expression explains."""
        taken = {
            i
            for c in self.candidates
            if c.score >= min_score and not c.mapper.startswith("embedding")
            for i in range(c.start, c.end)
        }
        for t in self.times:
            at = self.text.find(t.text)
            if at >= 0:
                taken.update(range(at, at + len(t.text)))
        return taken

    def summary(self) -> UnderstandingSummary:
        return UnderstandingSummary(
            intent=self.intent.value if self.intent else "",
            intent_reason=self.intent.reason if self.intent else "",
            route=self.route.value if self.route else "",
            route_reason=self.route.reason if self.route else "",
            parser=self.parser,
            candidates=self.candidates,
            times=self.times,
            corrections=self.corrections,
        )


class UnderstandingSummary(BaseModel):
    """How a question was understood, as an answer carries it."""

    intent: str = Field("", description="figure, definition, policy, target_check, catalog, …")
    intent_reason: str = ""
    route: str = Field("", description="rules or llm")
    route_reason: str = ""
    parser: str = Field("", description="the parser that wrote the plan: rules, llm, llm→rules")
    candidates: list[Candidate] = Field(default_factory=list)
    times: list[TimeExpression] = Field(default_factory=list)
    corrections: list[str] = Field(default_factory=list)
