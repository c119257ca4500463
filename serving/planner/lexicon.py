"""Find the names a question mentions: indicators, departments, campuses, doctors, insurance types.

Names come from the catalog (name, English name, aliases) and the warehouse's dimension tables, plus
``aliases.yaml`` for what people call departments and campuses. Matching is longest first without
overlaps (门诊药占比 wins over 药占比), case- and width-insensitive, and for indicators also by sound,
so a typo that sounds alike (药站比) still finds 药占比.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pypinyin import lazy_pinyin

from indicators import Catalog
from indicators.query.dimensions import DimensionIndex
from retrieval.text import normalise


@dataclass(frozen=True)
class Mention:
    kind: str  # indicator | campus | department | department_group | doctor | insurance
    canonical: str
    start: int
    end: int
    text: str
    how: str = "name"  # name (a name or alias), phrase (aliases.yaml), sound (same-sound typo), doctor


@cache
def aliases() -> dict[str, dict]:
    raw = resources.files("serving.planner").joinpath("aliases.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(raw)


class Lexicon:
    def __init__(self, catalog: Catalog, dimensions: DimensionIndex) -> None:
        self.catalog = catalog
        self.terms: dict[str, tuple[str, str]] = {}  # normalised term -> (kind, canonical)
        for ind in catalog.indicators.values():
            for label in (ind.name, ind.english_name, *ind.aliases):
                if label:
                    self.terms.setdefault(normalise(label), ("indicator", ind.name))
        extra = aliases()
        for canonical, names in (extra.get("indicator") or {}).items():
            for name in names:
                self.terms.setdefault(normalise(name), ("indicator", catalog.get(canonical).name))
        for kind in ("campus", "department", "insurance"):
            for member in dimensions.members.get(kind, []):
                self.terms.setdefault(normalise(member.name), (kind, member.name))
            for canonical, names in (extra.get(kind) or {}).items():
                for name in names:
                    self.terms.setdefault(normalise(name), (kind, canonical))
        self.doctors = {m.name: m for m in dimensions.members.get("doctor", [])}
        self.departments_by_group: dict[str, list[str]] = {}
        for member in dimensions.members.get("department", []):
            self.departments_by_group.setdefault(member.attributes.get("dept_group", ""), []).append(
                member.name
            )
        for name, group in (extra.get("department_groups") or {}).items():
            if isinstance(group, list):  # 神经科: a group by name only, listed in aliases.yaml
                self.departments_by_group[name] = group
                group = name
            self.terms[normalise(name)] = ("department_group", group)
        self._pattern = re.compile("|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True)))
        self._phrases = [
            (re.compile(pattern), catalog.get(canonical).name)
            for canonical, patterns in (extra.get("indicator_phrases") or {}).items()
            for pattern in patterns
        ]
        self._indicator_sounds = {
            tuple(lazy_pinyin(term)): canonical
            for term, (kind, canonical) in self.terms.items()
            if kind == "indicator" and len(term) >= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", term)
        }

    def find(self, text: str) -> list[Mention]:
        norm = normalise(text)
        found = [
            Mention(*self.terms[m.group(0)], m.start(), m.end(), m.group(0))
            for m in self._pattern.finditer(norm)
            if not _inside_word(norm, m.start(), m.end(), m.group(0))
        ]
        taken = {i for m in found for i in range(m.start, m.end)}
        for pattern, canonical in self._phrases:  # 出院了多少人 → 出院人次
            for m in pattern.finditer(norm):
                # a phrase that contains whole names reads them as its part (出院病人一般住几天)
                inside = [
                    f for f in found if f.kind == "indicator" and m.start() <= f.start and f.end <= m.end()
                ]
                rest = taken.difference(i for f in inside for i in range(f.start, f.end))
                if not rest.intersection(range(m.start(), m.end())):
                    found = [f for f in found if f not in inside]
                    found.append(Mention("indicator", canonical, m.start(), m.end(), m.group(0), "phrase"))
                    taken.update(range(m.start(), m.end()))
        # a sound-alike may be longer than an exact name inside it: 门诊次均费用增服 is 门诊次均费用增幅
        for heard in self._by_sound(norm, [m for m in found if m.kind != "indicator"]):
            inside = [m for m in found if heard.start <= m.start and m.end <= heard.end]
            crossing = [m for m in found if m.start < heard.end and heard.start < m.end and m not in inside]
            if crossing or any(m.end - m.start >= heard.end - heard.start for m in inside):
                continue
            found = [m for m in found if m not in inside] + [heard]
        found += self._doctors(norm, found)
        return sorted(found, key=lambda m: m.start)

    def _by_sound(self, norm: str, taken: list[Mention]) -> list[Mention]:
        """Indicator names typed with a same-sound character: 药站比 → 药占比."""
        covered = {i for m in taken for i in range(m.start, m.end)}
        sounds = lazy_pinyin(norm)
        if len(sounds) != len(norm):  # pypinyin merged non-Chinese runs; positions would not line up
            return []
        found: list[Mention] = []
        for size in sorted({len(k) for k in self._indicator_sounds}, reverse=True):
            for start in range(len(norm) - size + 1):
                span = range(start, start + size)
                if covered.intersection(span):
                    continue
                canonical = self._indicator_sounds.get(tuple(sounds[start : start + size]))
                if canonical:
                    found.append(
                        Mention(
                            "indicator", canonical, start, start + size, norm[start : start + size], "sound"
                        )
                    )
                    covered.update(span)
        return found

    def _doctors(self, norm: str, found: list[Mention]) -> list[Mention]:
        """A doctor's name counts when the question talks about doctors, the name follows a
        department (骨科黄杰) or has three characters: short names are common words otherwise."""
        about_doctors = bool(re.search(r"医生|大夫|主任|医师|doctor|dr\.?", norm))
        after_department = {m.end for m in found if m.kind == "department"}
        taken = {i for m in found for i in range(m.start, m.end)}
        return [
            Mention("doctor", name, i, i + len(name), name, "doctor")
            for name in self.doctors
            for i in [norm.find(name)]
            if i >= 0
            and not taken.intersection(range(i, i + len(name)))
            # three-character names are rarely ordinary words; two-character ones (马龙) often are
            and (about_doctors or i in after_department or len(name) >= 3)
        ]


def _inside_word(text: str, start: int, end: int, term: str) -> bool:
    """An ASCII term (CMI, ICU) must not be part of a longer word (pharmacist, icu-bed is fine)."""
    if not term.isascii():
        return False
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return (before.isalnum() and before.isascii()) or (after.isalnum() and after.isascii())
