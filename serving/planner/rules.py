"""The deterministic planner: a Chinese (and simple English) question → a plan. No model needed.

It reads, in order: refusals (patient data, clinical advice, instruction overrides, raw data), names
(indicators, departments, campuses, doctors, insurance), the period, comparisons, breakdowns and
rankings, and what kind of answer is wanted (a figure, a rule, a definition, a list). A follow-up
inherits from the previous plan what it does not restate. Conventions: docs/question-conventions.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from dateutil.relativedelta import relativedelta
from rapidfuzz import fuzz, process

from indicators import Catalog, Filters, IndicatorQuery, Ranking
from indicators.errors import UnknownIndicatorError
from indicators.query.dimensions import DimensionIndex
from retrieval.text import normalise
from serving.planner import patterns as P
from serving.planner.clarify import Clarifier
from serving.planner.lexicon import Lexicon, Mention
from serving.planner.timeexpr import Period, number, resolve_period
from serving.tools import (
    Clarification,
    ExplainIndicatorArgs,
    ExplainIndicatorCall,
    ListDimensionValuesArgs,
    ListDimensionValuesCall,
    ListIndicatorsArgs,
    ListIndicatorsCall,
    Plan,
    QueryIndicatorCall,
    Refusal,
    SearchPolicyArgs,
    SearchPolicyCall,
    ToolCall,
    Turn,
)

# phrases naming an indicator system, longest first (二级国考 before 国考)
_SYSTEMS = (
    ("二级国考", "二级国考"),
    ("二级公立医院绩效考核", "二级国考"),
    ("三级公立医院绩效考核", "国考"),
    ("公立医院绩效考核", "国考"),
    ("国考", "国考"),
    ("national assessment", "国考"),
    ("三级医院评审", "三级医院评审"),
    ("评审", "三级医院评审"),
    ("基础运营", "基础运营"),
    ("日常运营", "基础运营"),
)
_ENTITIES = ("campus", "department", "doctor", "insurance", "visit_type")
# where one question asks two things: 今年门诊人次，以及去年的出院人次
_CLAUSE = re.compile(r"[，,；;。]|以及|另外|还有|同时|和|与|及")


class RulesPlanner:
    name = "rules"

    def __init__(self, catalog: Catalog, dimensions: DimensionIndex, as_of: date, data_start: date) -> None:
        self.catalog = catalog
        self.lexicon = Lexicon(catalog, dimensions)
        self.clarifier = Clarifier(catalog, dimensions, self.lexicon)
        self.as_of = as_of
        self.data_start = data_start

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan:
        text = normalise(question.strip())
        for category, pattern, message in P.REFUSALS:
            if re.search(pattern, text, flags=re.I):
                return Plan(refusal=Refusal(category=category, message=message))
        if P.OFF_TOPIC.search(text):
            return Plan(refusal=Refusal(category="out_of_scope", message=P.OUT_OF_SCOPE))
        if history and history[-1].plan.clarification:
            resolved = self.clarifier.resolve(text, history[-1].question, history[-1].plan.clarification)
            if resolved:  # 心内科 after “内科包含多个科室”: plan the first question with the choice in it
                return self.plan(resolved, history[:-1])

        mentions = self.lexicon.find(text)
        names = list(dict.fromkeys(m.canonical for m in mentions if m.kind == "indicator"))
        listing = self._listing(text, names)
        if listing:
            return Plan(calls=[listing])
        previous = self._previous_query(history)
        # the words around the names: 政策口径药占比 names an indicator, it does not ask for a policy
        free = _blank(text, [m for m in mentions if m.kind == "indicator"])
        wants_policy = bool(P.POLICY.search(free))
        ambiguous = self.clarifier.ambiguity(text, mentions, previous.filters.department if previous else ())
        if ambiguous and len(ambiguous.clarification.options) == 1:  # the question itself settles it
            return self.plan(text.replace(ambiguous.text, ambiguous.clarification.options[0], 1), history)
        if (
            ambiguous
            and ambiguous.clarification.slot == "indicator"
            and wants_policy
            and not (P.FIGURE.search(P.TARGET_VALUE.sub(" ", free)) or P.MEETS_TARGET.search(free))
        ):
            return Plan(calls=[_policy_call(question)])  # 国考对次均费用增幅的要求: the documents say which
        if ambiguous:
            return Plan(clarification=ambiguous.clarification)
        if not names and previous is None:
            if wants_policy:
                return Plan(calls=[_policy_call(question)])
            return self._unknown_indicator(text)
        subjects = names or list(previous.indicators)
        wants_explain = bool(P.EXPLAIN.search(free))
        wants_figure = bool(P.FIGURE.search(P.EXPLAIN.sub(" ", free)))
        if wants_explain and not wants_figure:
            return Plan(calls=_explain_calls(subjects))
        unavailable = [n for n in names if self.catalog.get(n).status == "not_available"]
        if unavailable:
            return Plan(calls=_explain_calls(unavailable))
        has_period = resolve_period(P.english_periods(text), self.as_of, self.data_start) is not None
        figure_besides_target = P.FIGURE.search(P.TARGET_VALUE.sub(" ", free)) or has_period
        if wants_policy and not figure_besides_target and not P.MEETS_TARGET.search(free):
            return Plan(calls=[_policy_call(question if names else " ".join(subjects) + " " + question)])

        queries = self._clause_queries(text, mentions) or [self._query(text, names, mentions, previous)]
        calls: list[ToolCall] = [QueryIndicatorCall(arguments=q) for q in queries]
        if wants_explain:
            calls += _explain_calls(names)
        if wants_policy:
            indicators = [n for q in queries for n in q.indicators]
            calls.append(_policy_call(" ".join(dict.fromkeys(indicators)) + " 政策要求 目标"))
        return Plan(calls=calls)

    # ------------------------------------------------------------------ parts
    def _listing(self, text: str, names: list[str]) -> ToolCall | None:
        if P.LIST_INDICATORS.search(text):
            system = next((s for phrase, s in _SYSTEMS if phrase in text), None)
            topic = P.INDICATOR_TOPIC.search(text)
            query = topic.group(1) if topic and not any(p in topic.group(1) for p, _ in _SYSTEMS) else ""
            return ListIndicatorsCall(arguments=ListIndicatorsArgs(query=query, system=system))
        # 哪些科室最低 ranks departments by something; 有哪些科室 lists them
        ranking = (
            P.HIGHEST.search(text) or P.LOWEST.search(text) or P.TOP.search(text) or P.BOTTOM.search(text)
        )
        listed = None if names or ranking else P.LIST_DIMENSION.search(text)
        if listed:
            dimension = P.DIMENSION_WORDS[listed.group(2) or listed.group(3)]
            surname = re.search(r"姓([\u4e00-\u9fff])", text)
            query = surname.group(1) if surname else (listed.group(1) or "").strip()
            return ListDimensionValuesCall(
                arguments=ListDimensionValuesArgs(dimension=dimension, query=query)
            )
        return None

    def _previous_query(self, history: Sequence[Turn]) -> IndicatorQuery | None:
        """What a follow-up builds on: the last query, or the indicator the last turn explained or
        looked up in the regulations (药占比怎么算 → 那去年是多少)."""
        for turn in reversed(history):
            plan = turn.plan
            if plan.clarification and plan.clarification.pending:
                return plan.clarification.pending
            if plan.indicator_calls:
                return plan.indicator_calls[-1].arguments
            named = [c.arguments.indicator for c in plan.calls if isinstance(c, ExplainIndicatorCall)]
            if not named and any(isinstance(c, SearchPolicyCall) for c in plan.calls):
                named = [m.canonical for m in self.lexicon.find(turn.question) if m.kind == "indicator"]
            names = list(dict.fromkeys(self._computable(named)))
            if names:
                return IndicatorQuery(indicators=names, start=date(self.as_of.year, 1, 1), end=self.as_of)
        return None

    def _computable(self, names: list[str]) -> list[str]:
        found = []
        for name in names:
            try:
                indicator = self.catalog.get(name)
            except UnknownIndicatorError:  # an earlier turn of another planner may have named anything
                continue
            if indicator.status != "not_available":
                found.append(indicator.name)
        return found

    def _clause_queries(self, text: str, mentions: list[Mention]) -> list[IndicatorQuery]:
        """One query per clause when the clauses name different periods; otherwise none."""
        clauses, start = [], 0
        for sep in [*_CLAUSE.finditer(text), None]:
            clauses.append((start, sep.start() if sep else len(text)))
            start = sep.end() if sep else 0  # a clause starts after its separator: 和去年 is no comparison
        named: list[tuple[str, list[Mention], Period | None]] = []
        for begin, end in clauses:
            inside = [m for m in mentions if m.kind == "indicator" and begin <= m.start < end]
            if inside:
                part = text[begin:end]
                named.append(
                    (part, inside, resolve_period(P.english_periods(part), self.as_of, self.data_start))
                )
        periods = {(p.start, p.end) for _, _, p in named if p}
        if len(named) < 2 or len(periods) < 2:
            return []
        others = [m for m in mentions if m.kind != "indicator"]
        queries, period = [], None
        for part, inside, own in named:
            period = own or period
            names = list(dict.fromkeys(m.canonical for m in inside))
            queries.append(self._query(part, names, inside + others, None, period))
        return queries

    def _query(
        self,
        text: str,
        names: list[str],
        mentions: list[Mention],
        previous: IndicatorQuery | None,
        default_period: Period | None = None,
    ) -> IndicatorQuery:
        adding = bool(names) and previous is not None and bool(P.ADD_INDICATOR.search(text))
        base = (
            previous
            if previous is not None
            and (
                not names
                or adding
                or P.REPLACE.search(text)
                or _follow_up(text)
                or self._doctor_of(previous, mentions)
            )
            else None
        )
        if adding:
            names = list(dict.fromkeys([*previous.indicators, *names]))
        rest = P.english_periods(text)
        period = resolve_period(rest, self.as_of, self.data_start) or default_period
        if period and period.text:
            rest = rest.replace(period.text, " ")
        for m in mentions:
            if m.kind == "indicator":
                rest = rest.replace(m.text, " ")  # 增幅 in 医疗收入增幅, 比 in 药占比 are not comparisons

        filters = base.filters.model_copy(deep=True) if base else Filters()
        if P.WHOLE_HOSPITAL.search(text):
            filters.campus, filters.department, filters.doctor = [], [], []
        for kind in ("campus", "department", "doctor", "insurance"):
            values = list(dict.fromkeys(m.canonical for m in mentions if m.kind == kind))
            if values:
                setattr(filters, kind, values)
                if kind == "department":
                    filters.doctor = []
        visit = _visit_type(rest, names)
        if visit:
            filters.visit_type = visit

        group_by = list(base.group_by) if base else []
        if period and period.grain:  # 近三年 brings its own grain
            group_by = [g for g in group_by if g not in ("year", "quarter", "month")]
        # a drill-down: 本部 after 各院区, 罗医生 after 各科室 — one of them now, no breakdown by it
        narrowed = {m.kind for m in mentions if m.kind in ("campus", "department", "doctor", "insurance")}
        narrowed |= {"visit_type"} if visit else set()
        if "doctor" in narrowed:
            narrowed.add("department")
        for kind in narrowed:
            if len(getattr(filters, kind)) <= 1 and kind in group_by:
                group_by.remove(kind)
        if base and base.rank and not any(g in group_by for g in _ENTITIES):
            base = base.model_copy(update={"rank": None})
        if period and not period.grain:  # a one-year period has nothing to break down by year
            span = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
            for grain, months in (("year", 12), ("quarter", 3), ("month", 1)):
                if grain in group_by and span <= months:
                    group_by.remove(grain)
        for key, pattern in P.GROUPS:
            if re.search(pattern, rest) and key not in group_by:
                group_by.append(key)
        for key, values in filters.active().items():
            if len(values) > 1 and key not in group_by and not P.COMBINED.search(text):
                group_by.insert(0, key)  # 心内科和呼吸科对比: one row each
        if not any(g in group_by for g in ("year", "quarter", "month")):
            if period and period.grain:
                group_by.append(period.grain)  # 近三年 → by year, 近12个月 → by month
            elif P.TREND.search(rest):
                group_by.append("month")

        compare = list(base.compare) if base else []
        # 各年度怎么变化的 asks for the trend it already has; only 同比 itself adds the comparison there
        loose_yoy = P.YOY.search(rest) and not any(g in group_by for g in ("year", "quarter", "month"))
        if loose_yoy and "yoy" not in compare and not P.MOM.search(rest.replace("同比和环比", "")):
            compare.append("yoy")
        if ("同比" in rest or re.search(r"last year", rest)) and "yoy" not in compare:
            compare.append("yoy")
        if P.MOM.search(rest) and "mom" not in compare:
            compare.append("mom")
        compare = [c for c in ("yoy", "mom") if c in compare]

        rank = self._rank(rest, group_by) or (base.rank if base else None)
        if rank and not any(g in group_by for g in ("department", "doctor", "campus", "insurance")):
            group_by.insert(
                0,
                "doctor" if re.search(r"医生|doctor", rest) else "campus" if "院区" in rest else "department",
            )

        if period and base and re.search(r"(?:去年|上年)同期", period.text) and not names:
            # 那去年同期呢: the same dates as the question before, a year earlier
            start, end = base.start - relativedelta(years=1), base.end - relativedelta(years=1)
        elif (
            period
            and base
            and period.grain == "year"
            and period.start == self.data_start
            and (base.end.year > base.start.year)
        ):
            start, end = base.start, base.end  # 每年分别多少 after 2020年到2022年: those years, by year
        elif period:
            start, end = period.start, period.end
        elif base:
            start, end = base.start, base.end
        else:
            start, end = date(self.as_of.year, 1, 1), self.as_of
        return IndicatorQuery(
            indicators=names or base.indicators,
            start=start,
            end=end,
            filters=filters,
            group_by=group_by[:3],
            compare=compare,
            rank=rank,
        )

    def _doctor_of(self, previous: IndicatorQuery, mentions: list[Mention]) -> bool:
        """陈浩博的时间消耗指数 right after 骨科: one of the department's doctors, so a follow-up."""
        doctors = [m.canonical for m in mentions if m.kind == "doctor"]
        departments = previous.filters.department
        return bool(doctors and departments) and all(
            self.clarifier.doctor_department.get(d) in departments for d in doctors
        )

    def _rank(self, text: str, group_by: list[str]) -> Ranking | None:
        for pattern, order in ((P.TOP, "desc"), (P.BOTTOM, "asc")):
            m = pattern.search(text)
            if m:
                return Ranking(order=order, limit=max(1, min(100, number(m["n"] or m["en"]))))
        count = re.search(r"(?P<n>[0-9一二两三四五六七八九十]+)\s*(?:个|名|位|家)", text)
        limit = number(count["n"]) if count else 1
        if P.HIGHEST.search(text):
            return Ranking(order="desc", limit=limit)
        if P.LOWEST.search(text):
            return Ranking(order="asc", limit=limit)
        if P.RANKING.search(text):
            return Ranking(order="desc", limit=10)
        return None

    def _unknown_indicator(self, text: str) -> Plan:
        if not P.OPERATIONS.search(text):
            return Plan(refusal=Refusal(category="out_of_scope", message=P.OUT_OF_SCOPE))
        period = resolve_period(P.english_periods(text), self.as_of, self.data_start)
        phrase = text.replace(period.text, "") if period and period.text else text
        phrase = re.sub(
            r"[，。？！,.?!\s]|是多少|多少|怎么样|情况|医院|全院|我们|咱们|请问|麻烦|帮忙|一下|查|看|有|的|[啊吗呢呀吧]",
            "",
            phrase,
        )
        labels = [i.name for i in self.catalog.indicators.values() if i.status != "not_available"]
        scored = process.extract(
            phrase, labels, scorer=fuzz.ratio, processor=str.lower, limit=5, score_cutoff=50
        )
        # the close ones only: 入院人次 → 出院人次, not every indicator that shares 人次
        options = [label for label, score, _ in scored if score >= scored[0][1] - 10]
        asked = f"指标目录中没有“{phrase}”" if phrase else "没有找到您说的指标"
        return Plan(
            clarification=Clarification(
                slot="indicator",
                question=f"{asked}，请问是下面哪一个？也可以问“有哪些指标”查看全部。",
                options=options,
            )
        )


def _blank(text: str, mentions: list[Mention]) -> str:
    for m in mentions:
        text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
    return text


def _policy_call(question: str) -> SearchPolicyCall:
    return SearchPolicyCall(arguments=SearchPolicyArgs(query=question.strip()[:500], k=3))


def _explain_calls(names: list[str]) -> list[ToolCall]:
    return [ExplainIndicatorCall(arguments=ExplainIndicatorArgs(indicator=n)) for n in names]


def _follow_up(text: str) -> bool:
    return bool(
        re.search(
            r"呢[？?]?$|那|再|换成|改成|按.*看|也|同样|还有|一起|what about|and |same for|how about", text
        )
    )


def _visit_type(text: str, names: list[str]) -> list[str]:
    """门诊/急诊/住院 is a filter only when no chosen indicator already says it (门诊次均费用 does)."""
    if any(word in n for n in names for word in ("门诊", "急诊", "住院", "门急诊", "出院")):
        return []
    found = [v for v in ("门诊", "急诊", "住院") if re.search(v + r"(?:患者|病人|部分|的)?", text)]
    return found if len(found) == 1 else []
