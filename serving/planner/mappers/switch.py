"""The switch mapper: a follow-up that changes one word of the previous indicator.

那门诊呢 after 住院次均费用 asks for 门诊次均费用; 四级的呢 after 出院患者手术占比 for 出院患者四级手术比例;
药费呢 after 住院次均费用 for 住院次均药品费用. When a follow-up says little besides one word and names
no indicator, the indicator meant is the computable one that contains the word (in its name or an
alias) and is closest to the previous indicator; if none is close, the word is left to the other
readings (门诊 then stays a visit-type filter).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from indicators import Catalog
from retrieval.text import normalise
from serving.planner import patterns as P
from serving.planner.context import Candidate, Understanding

_MIN_SIMILARITY = 70
_VISIT_TYPES = ("门诊", "急诊", "住院")
# the settings an indicator's name is written with; 门急诊 before 门诊 and 急诊, which it contains
_SETTINGS = ("门急诊", "门诊", "急诊", "住院", "出院")
_MAX_WORD = 6


class SwitchMapper:
    name = "switch"

    def __init__(self, catalog: Catalog) -> None:
        self.names = {i.name for i in catalog.indicators.values()}
        self.labels: dict[str, list[str]] = {
            ind.name: [normalise(label) for label in (ind.name, *ind.aliases)]
            for ind in catalog.indicators.values()
            if ind.status != "not_available"
        }

    def map(self, ctx: Understanding) -> None:
        if ctx.previous is None:
            return
        named = [c for c in ctx.candidates if c.kind == "indicator"]
        # 药费呢 names 药品收入 by an alias; after 住院次均费用 it means 住院次均药品费用. A name
        # spelled out in full (药占比呢) is taken as said.
        if any(c.text == c.value or not c.mapper.startswith("dictionary") for c in named) or len(named) > 1:
            return
        word, start = self._word(ctx, {i for c in named for i in range(c.start, c.end)})
        if not word or (word in _VISIT_TYPES and ctx.previous.filters.visit_type):
            return  # 住院的呢 after 门诊的耗占比: the visit-type filter switches, not the indicator
        best = self._sibling(word, ctx.previous.indicators)
        for previous in ctx.previous.indicators if best is None else ():
            for name, labels in self.labels.items():
                if (
                    name == previous
                    or word in previous
                    or not any(word in label.replace("门急诊", "门诊") for label in labels)
                ):
                    continue
                # the label without the word should be the previous indicator (住院次均药费 − 药费 ≈ 住院次均费用)
                similarity = max(
                    fuzz.ratio(label.replace(word, ""), previous)
                    for label in labels
                    if word in label.replace("门急诊", "门诊")  # 急诊 is not the 急诊 of 门急诊
                )
                if similarity >= _MIN_SIMILARITY and (best is None or similarity > best[1]):
                    best = (name, similarity)
        if best:
            ctx.candidates = [c for c in ctx.candidates if c not in named]
            ctx.add(
                [
                    Candidate(
                        kind="indicator",
                        value=best[0],
                        start=start,
                        end=start + len(word),
                        text=word,
                        score=0.9,
                        mapper=f"{self.name}:{best[1]:.0f}",
                    )
                ]
            )

    def _sibling(self, word: str, previous: list[str]) -> tuple[str, float] | None:
        """门诊呢 after 出院人次 is 门诊人次, 住院的呢 after 门诊患者满意度 is 住院患者满意度: the previous
        name with its setting swapped, when the catalog has it (computable or not)."""
        if word not in _SETTINGS:
            return None
        for name in previous:
            setting = next((s for s in _SETTINGS if s in name and s != word), None)
            if setting and (sibling := name.replace(setting, word, 1)) in self.names:
                return sibling, 100.0
        return None

    def _word(self, ctx: Understanding, keep: set[int]) -> tuple[str, int]:
        """The one word a short follow-up says besides fillers, names and periods (an alias of an
        indicator, ``keep``, counts as a word)."""
        taken = ctx.covered() - keep
        text = "".join(" " if i in taken else ch for i, ch in enumerate(ctx.text))
        core = P.FILLERS.sub(lambda m: " " * len(m.group(0)), text)
        core = re.sub(r"[^\u4e00-\u9fffA-Za-z]", " ", core)
        pieces = core.split()
        if len(pieces) != 1 or not 1 < len(pieces[0]) <= _MAX_WORD:
            return "", 0
        return pieces[0], core.find(pieces[0])
