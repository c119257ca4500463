"""The dimension mapper: departments by their short forms (肾内, 心外, 骨外), by sound and by close
spelling, where the dictionary found nothing.

Short forms are derived from the standard names and the aliases (``_short_forms``): the name without
its final 科, without 医学 and without a final 内/外 (肾内科 → 肾内, 泌尿外科 → 泌尿, 医学影像科 → 影像). A short form that two departments share, or that is a word of
another kind (急诊 is a visit type), is not used. A word that ends in 科 and matches no name is
compared by pinyin (a same-sound typo) and then by spelling.
"""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from serving.planner.context import Candidate, Understanding
from serving.planner.lexicon import Lexicon

_VISIT_WORDS = frozenset({"门诊", "急诊", "住院", "门急诊"})
# stems that are everyday words before they are departments (普通外科 → 普通, 老年医学科 → 老年)
_NOT_SHORT = frozenset({"普通", "老年", "医学", "全科"})


def _short_forms(term: str) -> set[str]:
    """What people call a department for short: 肾内科 → 肾内, 泌尿外科 → 泌尿外/泌尿, 医学影像科 → 影像,
    耳鼻咽喉科 → 耳鼻喉, 消化内科 → 消化内/消化. Two-character stems only where they are not
    everyday words; a stem two departments share is dropped by the caller."""
    if not term.endswith("科"):
        return set()
    stem = term[:-1]
    forms = {stem, stem.removeprefix("医学").removesuffix("医学")}
    forms |= {f[:-1] for f in forms if f.endswith(("内", "外")) and len(f) >= 3}
    forms |= {f.replace("咽喉", "喉") for f in forms}
    return {f for f in forms if len(f) >= 2 and f != stem + "科" and f not in _NOT_SHORT}


_FUZZY_CUTOFF = 75


class DimensionMapper:
    name = "dimension"

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        names: dict[str, str] = {}  # spelling → department
        for term, (kind, canonical) in lexicon.terms.items():
            if kind == "department" and re.fullmatch(r"[\u4e00-\u9fff]+", term):
                names[term] = canonical
        self.names = names
        shorts: dict[str, set[str]] = {}
        for term, canonical in names.items():
            for short in _short_forms(term):
                shorts.setdefault(short, set()).add(canonical)
        self.short_forms = {
            short: next(iter(owners))
            for short, owners in shorts.items()
            if len(owners) == 1 and short not in lexicon.terms and short not in _VISIT_WORDS
        }
        # 检验收入 and 影像费 are money, not the department
        self._short = re.compile(
            "(?:"
            + "|".join(sorted(map(re.escape, self.short_forms), key=len, reverse=True))
            + ")(?!收入|费|项目)"
        )
        self._sounds = {tuple(lazy_pinyin(term)): canonical for term, canonical in names.items()}

    def map(self, ctx: Understanding) -> None:
        taken = ctx.covered()
        found: list[Candidate] = []
        for m in self._short.finditer(ctx.text) if self.short_forms else ():
            if taken.isdisjoint(range(m.start(), m.end())):
                found.append(
                    self._candidate(
                        self.short_forms[m.group(0)], ctx.text, m.start(), m.end(), 0.9, "short_form"
                    )
                )
                taken.update(range(m.start(), m.end()))
        for at in (i for i, ch in enumerate(ctx.text) if ch == "科" and i not in taken):
            best = self._unknown_department(ctx.text, at, taken)
            if best:
                found.append(best)
        ctx.add(found)

    def _unknown_department(self, text: str, at: int, taken: set[int]) -> Candidate | None:
        """A word ending in the 科 at ``at`` that no name spells: same sound first, then close spelling."""
        words = []
        for size in range(5, 1, -1):  # 2 to 5 characters before 科, longest first
            start = at + 1 - size - 1
            if start < 0 or not taken.isdisjoint(range(start, at + 1)):
                continue
            word = text[start : at + 1]
            if re.fullmatch(r"[\u4e00-\u9fff]+", word):
                words.append((start, word))
        for start, word in words:
            canonical = self._sounds.get(tuple(lazy_pinyin(word)))
            if canonical:
                return self._candidate(canonical, text, start, at + 1, 0.85, "sound")
        for start, word in words:
            close = process.extractOne(word, list(self.names), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
            if close:
                return self._candidate(self.names[close[0]], text, start, at + 1, 0.6, "spelling")
        return None

    def _candidate(
        self, canonical: str, text: str, start: int, end: int, score: float, how: str
    ) -> Candidate:
        return Candidate(
            kind="department",
            value=canonical,
            start=start,
            end=end,
            text=text[start:end],
            score=score,
            mapper=f"{self.name}:{how}",
        )
