"""Everyday wording of issue #13: an indicator said through what it divides, in plain words, a
department by its short form, a comparison in words, a fact question, a not-computable family.

Mixed into ``QuestionGenerator`` (training/data/questions.py): the methods use its random source,
catalog, phrasings and the question-building helpers (``_period``, ``_scope``, ``_say``, ``query``).
Each question is written from the same choices as its plan, so the plan is right by construction.
"""

from __future__ import annotations

from typing import Any

from indicators import Ranking
from serving.tools import Plan
from training.data.items import Item, Scope, explain, policy


class EverydayQuestions:
    """Generators of the everyday-wording categories (``_<category>``, as ``make`` calls them)."""

    rng: Any
    catalog: Any
    phrasings: dict[str, Any]
    formula_indicators: list[Any]
    short_forms: dict[str, str]
    plain_periods: list[Any]
    indicators: list[Any]
    unavailable: list[Any]
    _period: Any
    _scope: Any
    _say: Any
    _indicator: Any
    _figure_text: Any
    query: Any

    def _formula(self) -> Item | None:
        """An indicator said through what it divides: 药品收入在医疗收入里占几成 → 药占比."""
        ind = self.rng.choice(self.formula_indicators)
        version = ind.versions[-1]
        parts = self._measure_words(version.numerator)
        wholes = self._measure_words(version.denominator)
        if ind.name == "药占比（不含中药饮片）":  # the whole said loosely (conventions, everyday wording)
            wholes = [*wholes, "医疗收入"]
        if not parts or not wholes:
            return None
        period, when = self._period()
        scope = self._scope(ind) if self.rng.random() < 0.4 else Scope("")
        shapes = self.phrasings["formula_ratios" if ind.unit == "比值" else "formula_shares"]
        if _money(self.catalog, version.numerator) and _money(self.catalog, version.denominator):
            shapes = [*shapes, *self.phrasings["formula_money_shares"]]  # 每百元医疗收入里药品收入多少
        text = self.rng.choice(shapes).format(
            when=when, scope=scope.text, part=self.rng.choice(parts), whole=self.rng.choice(wholes)
        )
        plan = Plan(calls=[self.query([ind.name], period, scope)])
        return Item(text, plan, tags=("everyday:formula", f"time:{period.tag}"))

    def _measure_words(self, measure: str | None) -> list[str]:
        m = self.catalog.measures.get(measure or "")
        if m is None or not m.aliases:  # a bare technical label (出院者占用总床日数) is no everyday word
            return []
        return [w for w in dict.fromkeys([m.label, *m.aliases]) if not w.isascii() and "（" not in w]

    def _plain(self) -> Item | None:
        """Plain language for an indicator: 住院的人平均花多少钱 → 住院次均费用."""
        name, phrases = self.rng.choice(sorted(self.phrasings["plain"].items()))
        ind = self.catalog.get(name)
        period, when = self._period()
        scope = self._scope(ind) if self.rng.random() < 0.4 else Scope("")
        phrase = self.rng.choice(phrases)
        compare: list[str] = []
        if self.rng.random() < 0.15:
            phrase, compare = phrase + "，" + self.rng.choice(["同比呢", "和去年比呢"]), ["yoy"]
        text = self.rng.choice([f"{when}{scope.text}{phrase}", f"{scope.text}{when}{phrase}"])
        plan = Plan(calls=[self.query([ind.name], period, scope, compare=compare)])
        return Item(text, plan, tags=("everyday:plain", f"time:{period.tag}"))

    def _plain_ranking(self) -> Item:
        entry = self.rng.choice(self.phrasings["plain_rankings"])
        period, when = self._period()
        words = self.rng.choice(entry["words"])
        text = self.rng.choice(
            [f"{when}哪个科室{words}", f"{when}{words}的是哪个科室", f"哪个科室{when}{words}"]
        )
        rank = Ranking(order=entry["order"], limit=1)
        plan = Plan(calls=[self.query([entry["indicator"]], period, group_by=["department"], rank=rank)])
        return Item(text, plan, tags=("everyday:plain_ranking", f"rank:{rank.order}"))

    def _dept_short(self) -> Item | None:
        """A department said by its short form: 肾内今年的药占比."""
        short, name = self.rng.choice(sorted(self.short_forms.items()))
        ind = self._indicator("department")
        period, when = self._period()
        scope = Scope(short, {"department": [name]}, "department")
        said = self._say(ind)
        compare = ["yoy"] if self.rng.random() < 0.25 else []
        text = self._figure_text(when, scope, said)
        if compare:
            text = text.rstrip("？") + "，同比呢"
        plan = Plan(calls=[self.query([ind.name], period, scope, compare=compare)])
        return Item(text, plan, tags=("everyday:department_short", f"department:{name}"))

    def _compare_words(self) -> Item:
        """A comparison said in words: 比上个季度多了还是少了 → mom, 跟去年比 → yoy."""
        kind = self.rng.choice(["yoy", "yoy", "mom", "mom_quarter", "english"])
        ind = self._indicator()
        said = self._say(ind)
        if kind == "english":
            period = self.rng.choice([p for p in self.plain_periods if p.english])
            which = self.rng.choice(["yoy_english", "mom_english"])
            phrase = self.rng.choice(self.phrasings["compare_words"][which])
            text = f"What was the {ind.english_name} {self.rng.choice(period.english)}, {phrase}?"
            compare = ["yoy"] if which == "yoy_english" else ["mom"]
            plan = Plan(calls=[self.query([ind.name], period, compare=compare)])
            return Item(text, plan, tags=("everyday:compare", "lang:en"))
        allowed = {
            "yoy": None,
            "mom": ("今年", "本月", "某月"),
            "mom_quarter": ("今年", "本季度", "今年季度"),
        }[kind]
        pool = [p for p in self.plain_periods if allowed is None or p.tag in allowed]
        period = self.rng.choice(pool)
        when = self.rng.choice(period.words)
        scope = self._scope(ind) if self.rng.random() < 0.4 else Scope("")
        phrase = self.rng.choice(self.phrasings["compare_words"][kind])
        text = self.rng.choice([f"{when}{scope.text}{said}{phrase}", f"{scope.text}{when}的{said}{phrase}"])
        compare = ["yoy"] if kind == "yoy" else ["mom"]
        plan = Plan(calls=[self.query([ind.name], period, scope, compare=compare)])
        return Item(text, plan, tags=("everyday:compare", f"compare:{compare[0]}"))

    def _policy_fact(self) -> Item:
        text = self.rng.choice(self.phrasings["policy_facts"])
        return Item(text, Plan(calls=[policy(text)]), tags=("everyday:policy_fact",))

    def _not_available_family(self) -> Item | None:
        """满意度怎么样: every not-computable member of the family explained (at most three)."""
        word = self.rng.choice(self.phrasings["not_available_families"])
        members = [i.name for i in self.unavailable if word in i.name or any(word in a for a in i.aliases)]
        computable = [i for i in self.indicators if word in i.name or any(word in a for a in i.aliases)]
        if not members or computable:
            return None
        _, when = self._period()
        text = self.rng.choice(self.phrasings["not_available_forms"]).format(when=when, word=word)
        return Item(text, Plan(calls=[explain(n) for n in members[:3]]), tags=("everyday:not_available",))


def _money(catalog: Any, measure: str | None) -> bool:
    """A revenue measure (its label ends in 收入): a share of money can be said per hundred yuan."""
    m = catalog.measures.get(measure or "")
    return m is not None and m.label.endswith("收入")
