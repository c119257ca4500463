"""The formula mapper: an indicator named through what it divides.

西药和中成药收入在医疗收入里占几成 names the ratio whose numerator is 药品收入（不含中药饮片） and whose
denominator is 医疗收入: 药占比（不含中药饮片）. 住院的人平均每人花多少钱 is 住院收入 per 出院人次: 住院次均费用.
The parts are read with the catalog's own measure labels and aliases (indicators/catalog/measures.yaml)
and the names of the simple indicators; the sentence shapes are declared in formulas.yaml. A part
said without its setting takes it from the whole (医保基金 in 住院收入 is 住院医保基金), using the
measures' own visit-type filters. What the formula explains replaces the plain names inside it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from indicators import Catalog
from indicators.catalog_models import Measure
from retrieval.text import normalise
from serving.planner.context import Candidate, Understanding

_SETTINGS = {"住院": ("住院",), "门诊": ("门诊", "急诊")}


@cache
def formulas() -> dict:
    raw = resources.files("serving.planner").joinpath("formulas.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(raw)


class FormulaMapper:
    name = "formula"

    def __init__(self, catalog: Catalog) -> None:
        config = formulas()
        measures = {m.name: m for m in catalog.measures.values()}
        self.terms: dict[str, set[str]] = {}  # spelling → measures
        for m in measures.values():
            for label in (m.label, *m.aliases):
                self.terms.setdefault(normalise(label), set()).add(m.name)
        self.ratios: dict[tuple[str, str], str] = {}  # (numerator, denominator) → indicator
        for ind in catalog.indicators.values():
            if ind.status == "not_available":
                continue
            for version in reversed(ind.versions):  # the current version's measures win
                if ind.kind == "simple" and version.measure:
                    for label in (ind.name, *ind.aliases):
                        self.terms.setdefault(normalise(label), set()).add(version.measure)
                if ind.kind == "ratio":
                    self.ratios.setdefault((version.numerator, version.denominator), ind.name)
        self.simple = {i.name for i in catalog.indicators.values() if i.kind == "simple"}
        self.variants = _setting_variants(measures)
        self.labels = {m.name: m.label for m in measures.values()}
        self.setting_of = {m.name: _setting(m) for m in measures.values()}
        self._term = re.compile("|".join(sorted(map(re.escape, self.terms), key=len, reverse=True)))
        self._shares = [
            (
                shape["order"],
                re.compile(shape.get("before") or ""),
                re.compile(shape["between"]),
                re.compile(shape.get("after") or ""),
                bool(shape.get("prefer_narrower_whole")),
            )
            for shape in config["shares"]
        ]
        per_unit = config["per_unit"]
        self._unit = _alternation(per_unit["units"]["words"])
        self.unit_measures: dict[str, str] = per_unit["units"]["measures"]
        self.amounts = [(_alternation(a["words"]), a["measures"]) for a in per_unit["amounts"]]
        self.settings = [(s, _alternation(words)) for s, words in per_unit["settings"].items()]

    def map(self, ctx: Understanding) -> None:
        found = self._share(ctx) or self._per_unit(ctx)
        if found is None:
            return
        candidate, parts = found
        # the plain names the formula is made of (药品收入, 医疗收入) are not asked for themselves, and
        # no other name reads across its parts (中医 in 门诊收入中医保基金)
        ctx.candidates = [
            c
            for c in ctx.candidates
            if not (c.kind == "indicator" and candidate.start <= c.start and c.end <= candidate.end)
            and not any(c.start < end and start < c.end for start, end in parts)
        ]
        ctx.add([candidate])

    # ------------------------------------------------------------------ shapes
    def _share(self, ctx: Understanding) -> tuple[Candidate, list[tuple[int, int]]] | None:
        """Two measures with the words of a share shape around them: the ratio of the two."""
        text = ctx.text
        terms = list(self._term.finditer(text))
        for first, second in ((a, b) for i, a in enumerate(terms) for b in terms[i + 1 : i + 4]):
            between = text[first.end() : second.start()]
            if len(between) > 8:
                continue
            for order, before, middle, after, narrower in self._shares:
                if not middle.search(between):
                    continue
                if before.pattern and not before.search(text[max(0, first.start() - 6) : first.start()]):
                    continue
                tail = after.search(text[second.end() : second.end() + 10]) if after.pattern else None
                if after.pattern and tail is None:
                    continue
                part, whole = (first, second) if order == "part_whole" else (second, first)
                name = self._ratio(self.terms[part.group(0)], self.terms[whole.group(0)], narrower)
                start = first.start() - (
                    len(before.search(text[: first.start()]).group(0)) if before.pattern else 0
                )
                end = second.end() + (len(tail.group(0)) if tail else 0)
                if name and not self._named_already(ctx, start, end) and self._plain_parts(ctx, start, end):
                    return self._candidate(ctx, name, start, end, "share"), [first.span(), second.span()]
        return None

    def _per_unit(self, ctx: Understanding) -> tuple[Candidate, list[tuple[int, int]]] | None:
        unit = self._unit.search(ctx.text)
        if unit is None:
            return None
        setting = next(((s, m) for s, pattern in self.settings if (m := pattern.search(ctx.text))), None)
        if setting is None:
            return None
        for pattern, by_setting in self.amounts:
            amount = pattern.search(ctx.text)
            if amount and setting[0] in by_setting:
                name = self.ratios.get((by_setting[setting[0]], self.unit_measures[setting[0]]))
                spans = (unit, setting[1], amount)
                start, end = min(s.start() for s in spans), max(s.end() for s in spans)
                if name and self._plain_parts(ctx, start, end):
                    return self._candidate(ctx, name, start, end, "per_unit"), [s.span() for s in spans]
        return None

    # ------------------------------------------------------------------ parts
    def _ratio(self, parts: set[str], wholes: set[str], narrower_first: bool = False) -> str | None:
        if narrower_first and (name := self._narrower(parts, wholes)):
            return name
        for part in sorted(parts):
            for whole in sorted(wholes):
                name = self.ratios.get((part, whole))
                if name is None:  # 医保基金 in 住院收入: the part in the whole's setting
                    variant = self.variants.get((part, self.setting_of.get(whole) or ""))
                    name = self.ratios.get((variant, whole)) if variant else None
                if name:
                    return name
        return self._narrower(parts, wholes)

    def _narrower(self, parts: set[str], wholes: set[str]) -> str | None:
        """A whole said loosely: 医疗收入 for 医疗收入（不含药品收入）, whose label begins with it."""
        for (numerator, denominator), name in self.ratios.items():
            narrower = [
                w for w in wholes if denominator != w and self.labels[denominator].startswith(self.labels[w])
            ]
            if numerator in parts and narrower:
                return name
        return None

    def _named_already(self, ctx: Understanding, start: int, end: int) -> bool:
        """A catalog name that spans the words already (门诊收入占医疗收入比例) needs no formula."""
        return any(
            c.kind == "indicator" and c.score >= 0.9 and c.start <= start and end <= c.end
            for c in ctx.candidates
        )

    def _plain_parts(self, ctx: Understanding, start: int, end: int) -> bool:
        """The names inside a share are its parts (simple indicators such as 药品收入), not ratios
        of their own (门诊次均费用增幅和门诊次均药品费用 is two indicators, not one formula)."""
        inside = [c for c in ctx.candidates if c.kind == "indicator" and c.start < end and start < c.end]
        return all(c.value in self.simple for c in inside)

    def _candidate(self, ctx: Understanding, name: str, start: int, end: int, how: str) -> Candidate:
        return Candidate(
            kind="indicator",
            value=name,
            start=start,
            end=end,
            text=ctx.text[start:end],
            score=0.95,
            mapper=f"{self.name}:{how}",
        )


def _alternation(words: list[str]) -> re.Pattern:
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True)))


def _setting(measure: Measure) -> str | None:
    visit = tuple(measure.where.get("visit_type", ()))
    return next((name for name, values in _SETTINGS.items() if visit == values), None)


def _setting_variants(measures: dict[str, Measure]) -> dict[tuple[str, str], str]:
    """(measure, setting) → the same measure restricted to that setting (fund → inpatient fund)."""

    def shape(m: Measure) -> tuple:
        where = {k: v for k, v in m.where.items() if k != "visit_type"}
        return (m.source, m.column, m.agg, repr(sorted(where.items())), repr(sorted(m.where_not.items())))

    plain = {shape(m): m.name for m in measures.values() if "visit_type" not in m.where}
    variants: dict[tuple[str, str], str] = {}
    for m in measures.values():
        setting = _setting(m)
        if setting and shape(m) in plain:
            variants[(plain[shape(m)], setting)] = m.name
    return variants
