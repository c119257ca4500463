"""The description mapper: an indicator described in everyday words (门诊来了多少人 → 门诊人次).

The concepts and the indicators they describe are declared in descriptions.yaml. A description
matches when each of its concepts is said by words of its own; the most specific match wins (more
concepts, then the longer evidence). A catalog name the question spells out is more exact than any
description, so a description that overlaps one is not offered; the visit-type words a description
is made of (门诊 in 门诊来了多少人) are part of the indicator, not a filter.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from indicators import Catalog
from serving.planner.context import Candidate, Understanding

SCORE = 0.9  # trusted (intent.TRUSTED), below a spelled-out name


@cache
def descriptions() -> dict:
    raw = resources.files("serving.planner").joinpath("descriptions.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(raw)


class DescriptionMapper:
    name = "description"

    def __init__(self, catalog: Catalog) -> None:
        config = descriptions()
        self.concepts = {
            name: re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)
            for name, words in config["concepts"].items()
        }
        known = {i.name for i in catalog.indicators.values()}
        unknown = set(config["indicators"]) - known
        if unknown:  # a typo in the YAML must not silently describe nothing
            raise ValueError(f"descriptions.yaml names indicators the catalog lacks: {sorted(unknown)}")
        self.entries = [
            (indicator, concepts) for indicator, sets in config["indicators"].items() for concepts in sets
        ]

    def map(self, ctx: Understanding) -> None:
        best: tuple[tuple[int, int], str, list[tuple[int, int]], int, int] | None = None
        for indicator, concepts in self.entries:
            spans = self._spans(ctx.text, concepts)
            if spans is None:
                continue
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
            if self._named_already(ctx, start, end):
                continue
            key = (len(concepts), sum(e - s for s, e in spans))  # more concepts, then more words
            if best is None or key > best[0]:
                best = (key, indicator, spans, start, end)
        if best is None:
            return
        _, indicator, spans, start, end = best
        ctx.candidates = [
            c
            for c in ctx.candidates
            if not (c.kind == "indicator" and start <= c.start and c.end <= end)
            and not (c.kind == "visit_type" and any(c.start < e and s < c.end for s, e in spans))
        ]
        ctx.add(
            [
                Candidate(
                    kind="indicator",
                    value=indicator,
                    start=start,
                    end=end,
                    text=ctx.text[start:end],
                    score=SCORE,
                    mapper=self.name,
                )
            ]
        )

    def _spans(self, text: str, concepts: list[str]) -> list[tuple[int, int]] | None:
        """Each concept's first words that no other concept of the description already took."""
        taken: list[tuple[int, int]] = []
        for concept in concepts:
            span = next(
                (
                    m.span()
                    for m in self.concepts[concept].finditer(text)
                    if not any(m.start() < e and s < m.end() for s, e in taken)
                ),
                None,
            )
            if span is None:
                return None
            taken.append(span)
        return taken

    @staticmethod
    def _named_already(ctx: Understanding, start: int, end: int) -> bool:
        return any(
            c.kind == "indicator" and c.score >= SCORE and c.start < end and start < c.end
            for c in ctx.candidates
        )
