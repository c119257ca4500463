"""The near-name mapper: indicator names spelled close to the question's words, when no mapper found
a name (入院人次 → 出院人次, DRG入组率 → DRG组数). Its candidates are weak: they are offered back in
a clarification, never used as the question's indicator.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from indicators import Catalog
from serving.planner import patterns as P
from serving.planner.context import Candidate, Understanding

_CUTOFF = 50
_WITHIN = 10  # only the close ones: 入院人次 → 出院人次, not every indicator that shares 人次
_WORDS = re.compile(
    r"[，。？！,.?!\s]|是多少|多少|怎么样|情况|医院|全院|我们|咱们|请问|麻烦|帮忙|一下|查|看|有|的|[啊吗呢呀吧嗯]"
)


class NearNameMapper:
    name = "near"

    def __init__(self, catalog: Catalog) -> None:
        self.labels = [i.name for i in catalog.indicators.values() if i.status != "not_available"]

    def map(self, ctx: Understanding) -> None:
        if any(c.kind == "indicator" and c.score >= 0.85 for c in ctx.candidates):
            return
        taken = ctx.covered()
        text = "".join(" " if i in taken else ch for i, ch in enumerate(ctx.text))
        phrase = _WORDS.sub("", P.english_periods(text))
        if len(phrase) < 2:
            return
        scored = process.extract(
            phrase, self.labels, scorer=fuzz.ratio, processor=str.lower, limit=5, score_cutoff=_CUTOFF
        )
        if not scored:
            return
        at = ctx.text.find(phrase[:2])
        start, end = (at, at + len(phrase)) if at >= 0 else (0, len(ctx.text))
        ctx.add(
            [
                Candidate(
                    kind="indicator",
                    value=label,
                    start=start,
                    end=min(end, len(ctx.text)),
                    text=phrase,
                    score=round(score / 100 * 0.7, 3),
                    mapper=f"{self.name}:{score:.0f}",
                )
                for label, score, _ in scored
                if score >= scored[0][1] - _WITHIN
            ]
        )
