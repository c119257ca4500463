"""(question, gold plan) items generated from the catalog and the warehouse's dimension values.

Every gold plan is built together with its question, from the same choices (indicator, period,
scope, comparison…), following docs/question-conventions.md, so it is right by construction.
Then each plan is validated with ``PLAN_ADAPTER`` and each ``query_indicator`` call is run against
the warehouse: an item whose query fails is dropped (counted in the stats), never repaired by hand.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from indicators import Catalog, Indicator, IndicatorError, IndicatorQuery, Ranking, Warehouse
from indicators.errors import UnknownIndicatorError
from indicators.matching import close_matches
from serving.tools import (
    PLAN_ADAPTER,
    Clarification,
    ListDimensionValuesArgs,
    ListDimensionValuesCall,
    ListIndicatorsArgs,
    ListIndicatorsCall,
    Plan,
    QueryIndicatorCall,
    Refusal,
)
from training.data.everyday import EverydayQuestions
from training.data.followups import FollowUpQuestions
from training.data.items import Item, Scope, explain, policy
from training.data.overlap import normalise
from training.data.periods import Period, periods

PHRASINGS = Path(__file__).with_name("phrasings.yaml")
ALIASES = Path(__file__).parents[2] / "serving" / "planner" / "aliases.yaml"
SYSTEMS = ("国考", "二级国考", "三级医院评审", "基础运营")
DEPT_CLARIFY = "“{word}”对应多个科室，请问您指的是哪一个？"
INDICATOR_CLARIFY = "“{word}”对应{n}个指标，请问您要看哪一个？"
UNKNOWN_CLARIFY = "指标目录中没有“{word}”，请问是下面哪一个？也可以问“有哪些指标”查看全部。"

# category → weight of the default mix: figures dominate (most real questions), every style present
CATEGORIES: dict[str, float] = {
    "figure": 14,
    "compare": 8,
    "breakdown": 8,
    "ranking": 7,
    "multi_indicator": 5,
    "two_periods": 3,
    "figure_explain": 4,
    "figure_policy": 5,
    "policy": 4,
    "explain": 5,
    "not_available": 3,
    "list": 3,
    "clarify_department": 3,
    "clarify_indicator": 3,
    "clarify_unknown": 2,
    "refusal": 5,
    "english": 4,
    "follow_up": 10,
    # everyday wording (issue #13)
    "formula": 6,
    "plain": 8,
    "plain_ranking": 3,
    "dept_short": 4,
    "compare_words": 6,
    "follow_switch": 7,
    "follow_breakdown": 3,
    "dialogue": 5,
    "policy_fact": 3,
    "not_available_family": 2,
}


class QuestionGenerator(EverydayQuestions, FollowUpQuestions):
    """Draws items of each category with one ``random.Random``: the same seed, the same items."""

    def __init__(self, catalog: Catalog, warehouse: Warehouse, seed: int = 0) -> None:
        self.catalog = catalog
        self.warehouse = warehouse
        self.rng = random.Random(seed)
        self.as_of, self.data_start = warehouse.as_of, warehouse.data_start
        self.periods = periods(self.as_of, self.data_start)
        self.ytd = self.periods[0]
        self.last_year = self.periods[1]
        self.plain_periods = [p for p in self.periods if not p.group_by]
        self.indicators = [i for i in catalog.indicators.values() if i.status == "active"]
        self.unavailable = [i for i in catalog.indicators.values() if i.status == "not_available"]
        self.phrasings = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
        aliases = yaml.safe_load(ALIASES.read_text(encoding="utf-8"))
        members = warehouse.dimensions.members
        self.departments = [m.name for m in members["department"]]
        self.dept_aliases = {
            name: [a for a in aliases.get("department", {}).get(name, []) if not a.isascii()]
            for name in self.departments
        }
        self.campus_aliases = {
            m.name: [a for a in aliases.get("campus", {}).get(m.name, []) if not a.isascii()]
            for m in members["campus"]
        }
        self.insurance = [m.name for m in members["insurance"] if m.name != "其他"]
        dept_by_code = {m.code: m.name for m in members["department"]}
        self.doctors = [
            (m.name, dept_by_code.get(m.attributes.get("dept_code", ""), "")) for m in members["doctor"]
        ]
        self.groups = _department_groups(aliases.get("department_groups", {}), members["department"])
        self.generic = _generic_words(catalog, warehouse)
        known = set(self.departments)
        self.short_forms = {
            short: name for short, name in self.phrasings["department_short_forms"].items() if name in known
        }
        self.english_departments = {
            name: [a for a in aliases.get("department", {}).get(name, []) if a.isascii()]
            for name in self.departments
        }
        self.formula_indicators = [
            i
            for i in self.indicators
            if i.kind == "ratio" and i.unit in ("%", "比值") and i.versions and "增幅" not in i.name
        ]
        self._checked: dict[str, bool] = {}
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ driving
    def generate(
        self, n: int, weights: dict[str, float] | None = None, banned: set[str] = frozenset()
    ) -> list[Item]:
        """``n`` items of the weighted mix, unique by normalised question, none in ``banned``."""
        weights = weights or CATEGORIES
        names, values = list(weights), list(weights.values())
        items: list[Item] = []
        seen = set(banned)
        attempts = 0
        while len(items) < n and attempts < n * 30:
            attempts += 1
            category = self.rng.choices(names, values)[0]
            item = self.make(category)
            if item is None:
                continue
            key = normalise(" / ".join(item.questions))
            if any(normalise(q) in banned for q in item.questions):
                self.stats["eval_collision"] += 1  # banned: eval questions (and, for prompts, SFT's)
                continue
            if key in seen:
                self.stats["duplicate"] += 1
                continue
            if not self.valid(item):
                continue
            seen.add(key)
            items.append(item)
        return items

    def make(self, category: str) -> Item | None:
        maker: Callable[[], Item | None] = getattr(self, f"_{category}")
        item = maker()
        if item is None:
            return None
        # templates leave a dangling 的 when no time and no scope was said (的药占比, 查一下的药占比)
        question = re.sub(r"^的|(?<=查一下)的", "", item.question)
        return Item(question, item.plan, item.history, (*item.tags, f"category:{category}"), category)

    def valid(self, item: Item) -> bool:
        """The plan (and every history plan) validates, and every query runs on the warehouse."""
        for plan in [t.plan for t in item.history] + [item.plan]:
            PLAN_ADAPTER.validate_python(plan.model_dump())
            for call in plan.indicator_calls:
                if not self.runs(call.arguments):
                    self.stats["query_failed"] += 1
                    return False
        return True

    def runs(self, query: IndicatorQuery) -> bool:
        key = query.model_dump_json()
        if key not in self._checked:
            try:
                self.warehouse.query(query)
                self._checked[key] = True
            except IndicatorError:
                self._checked[key] = False
        return self._checked[key]

    # ------------------------------------------------------------------ choices
    def _indicator(self, dimension: str = "") -> Indicator:
        pool = [i for i in self.indicators if not dimension or dimension in self.catalog.dimensions_of(i)]
        return self.rng.choice(pool or self.indicators)

    def _say(self, ind: Indicator) -> str:
        """The name, or now and then an alias, as users write it."""
        chinese = [a for a in ind.aliases if not a.isascii()]
        return self.rng.choice(chinese) if chinese and self.rng.random() < 0.35 else ind.name

    def _period(self, plain: bool = True) -> tuple[Period, str]:
        period = self.rng.choice(self.plain_periods if plain else self.periods)
        if self.rng.random() < 0.25:
            period = self.ytd  # no time given is the commonest question
        return period, self.rng.choice(period.words)

    def _scope(self, ind: Indicator) -> Scope:
        dims = self.catalog.dimensions_of(ind)
        options = ["none", "none", "all"] + [
            d for d in ("department", "department", "campus", "insurance", "doctor") if d in dims
        ]
        kind = self.rng.choice(options)
        if kind == "all":
            return Scope("全院")
        if kind == "department":
            name = self.rng.choice(self.departments)
            return Scope(self._say_department(name), {"department": [name]}, "department")
        if kind == "campus":
            name = self.rng.choice(list(self.campus_aliases))
            said = self.rng.choice([name, name, *self.campus_aliases[name]])
            return Scope(said, {"campus": [name]}, "campus")
        if kind == "insurance":
            name = self.rng.choice(self.insurance)
            return Scope(f"{name}患者", {"insurance": [name]}, "insurance")
        if kind == "doctor":
            name, _ = self.rng.choice(self.doctors)
            return Scope(f"{name}医生", {"doctor": [name]}, "doctor")
        return Scope("")

    def _say_department(self, name: str) -> str:
        """The standard name, an alias, or now and then a short form (肾内, 心外)."""
        shorts = [s for s, n in self.short_forms.items() if n == name]
        if shorts and self.rng.random() < 0.2:
            return self.rng.choice(shorts)
        return self.rng.choice([name, name, *self.dept_aliases.get(name, [])])

    def query(
        self,
        indicators: list[str],
        period: Period,
        scope: Scope | None = None,
        group_by: list[str] | None = None,
        compare: list[str] | None = None,
        rank: Ranking | None = None,
    ) -> QueryIndicatorCall:
        return QueryIndicatorCall(
            arguments=IndicatorQuery(
                indicators=indicators,
                start=period.start,
                end=period.end,
                filters=(scope.filters if scope else {}),
                group_by=list(dict.fromkeys([*(group_by or []), *period.group_by])),
                compare=compare or [],
                rank=rank,
            )
        )

    def _figure_text(self, when: str, scope: Scope, said: str) -> str:
        w, s = when, scope.text
        forms = [
            f"{w}{s}{said}是多少",
            f"{s}{w}的{said}",
            f"{w}{s}{said}多少",
            f"查一下{w}{s}的{said}",
            f"{s}{w}{said}情况怎么样",
            f"{w}{s}{said}",
            f"请问{w}{s}{said}是多少？",
        ]
        return self.rng.choice(forms)

    # ------------------------------------------------------------------ categories
    def _figure(self) -> Item:
        ind = self._indicator()
        period, when = self._period(plain=False)
        scope = self._scope(ind)
        plan = Plan(calls=[self.query([ind.name], period, scope)])
        return Item(self._figure_text(when, scope, self._say(ind)), plan, tags=(f"time:{period.tag}",))

    def _compare(self) -> Item:
        ind = self._indicator()
        period, when = self._period()
        scope = self._scope(ind)
        kind = self.rng.choice(["yoy", "yoy", "mom", "both"])
        said = self._say(ind)
        words = {
            "yoy": [
                f"{when}{scope.text}{said}同比",
                f"{when}{scope.text}{said}比去年涨了多少",
                f"{scope.text}{when}{said}同比变化",
            ],
            "mom": [f"{when}{scope.text}{said}环比", f"{scope.text}{when}{said}环比变化多少"],
            "both": [f"{when}{scope.text}{said}同比和环比"],
        }[kind]
        compare = ["yoy", "mom"] if kind == "both" else [kind]
        plan = Plan(calls=[self.query([ind.name], period, scope, compare=compare)])
        return Item(self.rng.choice(words), plan, tags=(f"compare:{kind}", f"time:{period.tag}"))

    def _breakdown(self) -> Item:
        by = self.rng.choice(
            ["department", "department", "campus", "insurance", "month", "quarter", "visit_type"]
        )
        ind = self._indicator(by if by not in ("month", "quarter") else "")
        if by not in ("month", "quarter") and by not in self.catalog.dimensions_of(ind):
            by = "month"
        if by == "visit_type" and any(w in ind.name for w in ("门诊", "急诊", "住院", "出院")):
            by = "month"  # 门诊收入 split by 门诊/急诊/住院 is no question anyone asks
        period, when = self._period()
        said = self._say(ind)
        words = {
            "department": [f"{when}各科室的{said}", f"{when}{said}按科室看", f"{when}分科室{said}"],
            "campus": [f"{when}各院区{said}", f"{when}{said}分院区", f"按院区看{when}{said}"],
            "insurance": [f"{when}{said}按医保类型", f"{when}不同医保类型的{said}"],
            "month": [f"{when}{said}每个月", f"{when}{said}按月", f"{when}{said}月度趋势"],
            "quarter": [f"{when}{said}按季度", f"{when}每季度{said}"],
            "visit_type": [f"{when}{said}门诊急诊住院分别是多少"],
        }[by]
        scope = Scope("")
        if by in ("month", "quarter") and self.rng.random() < 0.4:
            scope = self._scope(ind)
            words = [f"{scope.text}{w}" for w in words]
        plan = Plan(calls=[self.query([ind.name], period, scope, group_by=[by])])
        return Item(self.rng.choice(words), plan, tags=(f"group:{by}", f"time:{period.tag}"))

    def _ranking(self) -> Item:
        over = "doctor" if self.rng.random() < 0.25 else "department"
        ind = self._indicator(over)
        period, when = self._period()
        said = self._say(ind)
        n = self.rng.choice([3, 5, 10])
        label = "科室" if over == "department" else "医生"
        forms = [
            (f"{when}{said}最高的{label}", Ranking(order="desc", limit=1)),
            (f"{when}哪个{label}{said}最高", Ranking(order="desc", limit=1)),
            (f"{when}{said}排名前{n}的{label}", Ranking(order="desc", limit=n)),
            (f"{when}{said}最低的{n}个{label}", Ranking(order="asc", limit=n)),
            (f"{when}{label}{said}排名", Ranking(order="desc", limit=10)),
        ]
        text, rank = self.rng.choice(forms)
        scope = Scope("")
        if over == "doctor":
            dept = self.rng.choice(self.departments)
            scope = Scope(dept, {"department": [dept]}, "department")
            text = f"{dept}{text}"
        plan = Plan(calls=[self.query([ind.name], period, scope, group_by=[over], rank=rank)])
        return Item(text, plan, tags=(f"rank:{rank.order}", f"group:{over}"))

    def _multi_indicator(self) -> Item:
        first, second = self.rng.sample(self.indicators, 2)
        period, when = self._period()
        join = self.rng.choice(["和", "、", "以及", "还有"])
        text = self.rng.choice(
            [
                f"{when}{self._say(first)}{join}{self._say(second)}",
                f"{when}的{self._say(first)}{join}{self._say(second)}分别是多少",
            ]
        )
        plan = Plan(calls=[self.query([first.name, second.name], period)])
        return Item(text, plan, tags=("multi:indicators",))

    def _two_periods(self) -> Item:
        (first, second), (p1, p2) = (
            self.rng.sample(self.indicators, 2),
            self.rng.sample(self.plain_periods[1:], 2),
        )
        w1, w2 = self.rng.choice(p1.words), self.rng.choice(p2.words)
        text = f"{w1}的{self._say(first)}和{w2}的{self._say(second)}"
        plan = Plan(calls=[self.query([first.name], p1), self.query([second.name], p2)])
        return Item(text, plan, tags=("multi:periods",))

    def _figure_explain(self) -> Item:
        ind = self._indicator()
        period, when = self._period()
        said = self._say(ind)
        text = self.rng.choice(
            [
                f"{when}{said}是多少？怎么算的？",
                f"{when}{said}多少，口径是什么",
                f"{when}的{said}是多少，这个指标怎么计算",
            ]
        )
        plan = Plan(calls=[self.query([ind.name], period), explain(ind.name)])
        return Item(text, plan, tags=("tool:explain_indicator",))

    def _figure_policy(self) -> Item:
        ind = self._targeted_indicator()
        period, when = self._period()
        scope = self._scope(ind) if self.rng.random() < 0.4 else Scope("")
        said = self._say(ind)
        text = self.rng.choice(
            [
                f"{when}{scope.text}{said}达标了吗",
                f"{when}{scope.text}{said}多少，政策要求是多少",
                f"{scope.text}{when}{said}符合要求吗",
            ]
        )
        plan = Plan(calls=[self.query([ind.name], period, scope), policy(f"{ind.name} 要求")])
        return Item(text, plan, tags=("tool:search_policy",))

    def _targeted_indicator(self) -> Indicator:
        targeted = [i for i in self.indicators if i.targets]
        return self.rng.choice(targeted or self.indicators)

    def _policy(self) -> Item:
        ind = self._targeted_indicator()
        said = self._say(ind)
        system = self.rng.choice(["国考", "三级医院评审", "国家"])
        text, query = self.rng.choice(
            [
                (f"{said}的目标值是多少", f"{ind.name} 目标值"),
                (f"{system}对{said}有什么要求", f"{system} {ind.name} 要求"),
                (f"{said}有没有政策规定的控制标准", f"{ind.name} 控制标准"),
                (f"哪个文件规定了{said}的要求", f"{ind.name} 要求 文件"),
            ]
        )
        return Item(text, Plan(calls=[policy(query)]), tags=("tool:search_policy",))

    def _explain(self) -> Item:
        ind = self._indicator()
        said = self._say(ind)
        text = self.rng.choice(
            [f"{said}怎么算", f"{said}的口径是什么", f"{said}的定义", f"{said}是什么意思，公式是什么"]
        )
        return Item(text, Plan(calls=[explain(ind.name)]), tags=("tool:explain_indicator",))

    def _not_available(self) -> Item:
        ind = self.rng.choice(self.unavailable)
        said = self.rng.choice([ind.name, *[a for a in ind.aliases if not a.isascii()]])
        _, when = self._period()
        text = self.rng.choice([f"{when}{said}是多少", f"{when}{said}怎么样", f"查一下{said}"])
        return Item(text, Plan(calls=[explain(ind.name)]), tags=("not_available",))

    def _list(self) -> Item:
        if self.rng.random() < 0.5:
            system = self.rng.choice(SYSTEMS)
            text = self.rng.choice(
                [
                    f"有哪些{system}指标",
                    f"{system}相关的指标列一下",
                    f"{system}的指标都有什么",
                    f"列出全部{system}指标",
                    f"{system}一共有哪些指标",
                ]
            )
            call = ListIndicatorsCall(arguments=ListIndicatorsArgs(query="", system=system))
            return Item(text, Plan(calls=[call]), tags=("tool:list_indicators",))
        dim, text = self.rng.choice(
            [
                ("department", "医院一共有哪些科室"),
                ("department", "临床科室都有哪些"),
                ("campus", "医院有几个院区"),
                ("campus", "院区列表"),
                ("insurance", "有哪些医保类型"),
                ("visit_type", "就诊类型有哪几种"),
                ("department", "全院科室清单"),
                ("campus", "我们有哪些院区"),
                ("insurance", "医保类型都有什么"),
                ("doctor", f"{self.rng.choice(self.departments)}的医生名单"),
                ("doctor", f"{self.rng.choice(self.departments)}有哪些医生"),
            ]
        )
        call = ListDimensionValuesCall(arguments=ListDimensionValuesArgs(dimension=dim))
        return Item(text, Plan(calls=[call]), tags=("tool:list_dimension_values",))

    def _clarify_department(self) -> Item | None:
        if not self.groups:
            return None
        word, options = self.rng.choice(sorted(self.groups.items()))
        ind = self._indicator("department")
        _, when = self._period()
        text = self.rng.choice([f"{word}{when}的{self._say(ind)}", f"{when}{word}{self._say(ind)}多少"])
        clar = Clarification(slot="department", question=DEPT_CLARIFY.format(word=word), options=options)
        return Item(text, Plan(clarification=clar), tags=("clarify:department",))

    def _clarify_indicator(self) -> Item | None:
        if not self.generic:
            return None
        word, options = self.rng.choice(sorted(self.generic.items()))
        _, when = self._period()
        text = self.rng.choice([f"{when}{word}多少", f"{word}{when}", f"{when}的{word}是多少"])
        clar = Clarification(
            slot="indicator", question=INDICATOR_CLARIFY.format(word=word, n=len(options)), options=options
        )
        return Item(text, Plan(clarification=clar), tags=("clarify:indicator",))

    def _clarify_unknown(self) -> Item | None:
        word = self.rng.choice(self.phrasings["unknown_indicators"])
        with contextlib.suppress(UnknownIndicatorError):
            self.catalog.get(word)
            return None  # the catalog knows it after all (an alias added later): not an unknown word
        options = close_matches(word, [i.name for i in self.indicators], limit=3)
        if not options:
            return None
        _, when = self._period()
        clar = Clarification(slot="indicator", question=UNKNOWN_CLARIFY.format(word=word), options=options)
        return Item(
            self.rng.choice([f"{when}{word}是多少", f"{word}{when}"]),
            Plan(clarification=clar),
            tags=("clarify:unknown",),
        )

    def _refusal(self) -> Item:
        category = self.rng.choice(list(self.phrasings["refusal"]))
        entry = self.phrasings["refusal"][category]
        dept = self.rng.choice(self.departments)
        doctor, _ = self.rng.choice(self.doctors)
        campus = self.rng.choice(list(self.campus_aliases))
        extra = {"clinical_advice": "clinical_everyday", "out_of_scope": "off_topic_more"}.get(category)
        questions = [*entry["questions"], *self.phrasings.get(extra, [])] if extra else entry["questions"]
        text = self.rng.choice(questions).format(department=dept, doctor=doctor, campus=campus)
        plan = Plan(refusal=Refusal(category=category, message=entry["message"]))
        return Item(text, plan, tags=(f"refuse:{category}",))

    def _english(self) -> Item:
        ind = self._indicator()
        period = self.rng.choice([p for p in self.plain_periods if p.english])
        when = self.rng.choice(period.english)
        name = ind.english_name
        kind = self.rng.choice(["figure", "yoy", "department", "explain"])
        if kind == "explain":
            return Item(f"How is the {name} calculated?", Plan(calls=[explain(ind.name)]), tags=("lang:en",))
        if kind == "department" and "department" in self.catalog.dimensions_of(ind):
            plan = Plan(calls=[self.query([ind.name], period, group_by=["department"])])
            return Item(f"{name} by department {when}", plan, tags=("lang:en",))
        if kind == "yoy":
            plan = Plan(calls=[self.query([ind.name], period, compare=["yoy"])])
            return Item(f"What was the {name} {when}, and the year-on-year change?", plan, tags=("lang:en",))
        plan = Plan(calls=[self.query([ind.name], period)])
        return Item(f"What was the {name} {when}?", plan, tags=("lang:en",))


def _department_groups(config: dict[str, Any], departments: list) -> dict[str, list[str]]:
    """Chinese group words (内科, 外科, 五官科…) and the departments each stands for."""
    found: dict[str, list[str]] = {}
    for word, value in config.items():
        if word.isascii():
            continue
        if isinstance(value, list):
            options = value
        else:
            options = [m.name for m in departments if m.attributes.get("dept_group") == value]
        if len(options) > 1:
            found[word] = options
    return found


def _generic_words(catalog: Catalog, warehouse: Warehouse) -> dict[str, list[str]]:
    """次均费用 → [门诊次均费用, 住院次均费用]: the rules planner's definition, so that the gold
    clarifications list the same options the conventions describe (one definition, not two)."""
    from serving.planner.clarify import generic_indicator_names
    from serving.planner.lexicon import Lexicon

    return generic_indicator_names(catalog, Lexicon(catalog, warehouse.dimensions))
