"""The rules parser: the plan read off the candidates and the words, no model needed.

It writes what the question says: the indicators, the period, the filters, the breakdowns from 按科室
and the like, 同比/环比, a ranking; a follow-up starts from the previous query. The tidying that every
parser's plan needs (a drill-down drops its breakdown, a ranking needs a breakdown, …) is left to the
correctors (serving/planner/correctors.py). Conventions: docs/question-conventions.md.
"""

from __future__ import annotations

import re
from datetime import date

from indicators import Catalog, Filters, IndicatorQuery, Ranking
from serving.planner import patterns as P
from serving.planner.clarify import Clarifier
from serving.planner.context import Candidate, Understanding
from serving.planner.intent import IntentStage, Reading, follows_previous, trusted_names
from serving.planner.timeexpr import Period, number, resolve_period
from serving.tools import (
    ExplainIndicatorArgs,
    ExplainIndicatorCall,
    ListDimensionValuesArgs,
    ListDimensionValuesCall,
    ListIndicatorsArgs,
    ListIndicatorsCall,
    Plan,
    QueryIndicatorCall,
    SearchPolicyArgs,
    SearchPolicyCall,
    ToolCall,
)

# phrases naming an indicator system, longest first (二级国考 before 国考)
SYSTEMS = (
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
ENTITIES = ("campus", "department", "doctor", "insurance", "visit_type")
TIME_GRAINS = ("year", "quarter", "month")
# where one question asks two things: 今年门诊人次，以及去年的出院人次
_CLAUSE = re.compile(r"[，,；;。]|以及|另外|还有|同时|和|与|及")


class RulesParser:
    name = "rules"

    def __init__(self, catalog: Catalog, clarifier: Clarifier, intents: IntentStage) -> None:
        self.catalog = catalog
        self.clarifier = clarifier
        self.intents = intents

    def parse(self, ctx: Understanding, reading: Reading) -> Plan:
        intent = ctx.intent.value if ctx.intent else "figure"
        if intent == "catalog":
            return Plan(calls=[self._listing(ctx.text)])
        if intent == "clarify":
            return Plan(clarification=self.intents.clarification(reading))
        if intent == "refuse":
            return Plan(refusal=_out_of_scope())
        subjects = reading.names or (list(ctx.previous.indicators) if ctx.previous else [])
        if intent == "not_available":
            unavailable = [n for n in reading.names if self.catalog.get(n).status == "not_available"]
            return Plan(calls=explain_calls(unavailable or reading.unavailable_family))
        if intent == "definition":
            return Plan(calls=explain_calls(subjects))
        if intent == "policy":
            said = ctx.question if reading.names or not subjects else " ".join(subjects) + " " + ctx.question
            return Plan(calls=[policy_call(said)])
        queries = self._clause_queries(ctx) or [self._query(ctx, ctx.text, reading)]
        calls: list[ToolCall] = [QueryIndicatorCall(arguments=q) for q in queries]
        if reading.wants_explain:
            calls += explain_calls(reading.names)
        if intent == "target_check":
            indicators = [n for q in queries for n in q.indicators]
            calls.append(policy_call(" ".join(dict.fromkeys(indicators)) + " 政策要求 目标"))
        return Plan(calls=calls)

    # ------------------------------------------------------------------ parts
    def _listing(self, text: str) -> ToolCall:
        if P.LIST_INDICATORS.search(text):
            system = next((s for phrase, s in SYSTEMS if phrase in text), None)
            topic = P.INDICATOR_TOPIC.search(text)
            query = topic.group(1) if topic and not any(p in topic.group(1) for p, _ in SYSTEMS) else ""
            return ListIndicatorsCall(arguments=ListIndicatorsArgs(query=query, system=system))
        listed = P.LIST_DIMENSION.search(text)
        dimension = P.DIMENSION_WORDS[listed.group(2) or listed.group(3)]
        surname = re.search(r"姓([\u4e00-\u9fff])", text)
        query = surname.group(1) if surname else (listed.group(1) or "").strip()
        return ListDimensionValuesCall(arguments=ListDimensionValuesArgs(dimension=dimension, query=query))

    def _clause_queries(self, ctx: Understanding) -> list[IndicatorQuery]:
        """One query per clause when the clauses name different periods; otherwise none."""
        text, mentions = ctx.text, trusted_names(ctx)
        clauses, start = [], 0
        for sep in [*_CLAUSE.finditer(text), None]:
            clauses.append((start, sep.start() if sep else len(text)))
            start = sep.end() if sep else 0  # a clause starts after its separator: 和去年 is no comparison
        named: list[tuple[str, list[Candidate], Period | None]] = []
        for begin, end in clauses:
            inside = [m for m in mentions if m.kind == "indicator" and begin <= m.start < end]
            if inside:
                part = text[begin:end]
                named.append((part, inside, self._period(part)))
        periods = {(p.start, p.end) for _, _, p in named if p}
        if len(named) < 2 or len(periods) < 2:
            return []
        others = [m for m in mentions if m.kind != "indicator"]
        queries, period = [], None
        for part, inside, own in named:
            period = own or period
            names = list(dict.fromkeys(m.value for m in inside))
            reading = Reading(names, part, False, False, False, bool(own), follows=False)
            queries.append(self._query(ctx, part, reading, inside + others, period, standalone=True))
        return queries

    def _query(
        self,
        ctx: Understanding,
        text: str,
        reading: Reading,
        mentions: list[Candidate] | None = None,
        default_period: Period | None = None,
        standalone: bool = False,
    ) -> IndicatorQuery:
        mentions = trusted_names(ctx) if mentions is None else mentions
        names = list(reading.names)
        previous = None if standalone else ctx.previous
        follows = reading.follows if text == ctx.text else follows_previous(ctx, text, names, False)
        base = previous if follows else None
        if names and previous is not None and P.ADD_INDICATOR.search(text):
            names = list(dict.fromkeys([*previous.indicators, *names]))
        rest = signal_words(text, mentions, self._period(text))
        period = self._period(text) or default_period

        filters = base.filters.model_copy(deep=True) if base else Filters()
        for kind in ("campus", "department", "doctor", "insurance"):
            values = list(dict.fromkeys(m.value for m in mentions if m.kind == kind))
            if values:
                setattr(filters, kind, values)
        visit = visit_type(rest, names)
        if visit:
            filters.visit_type = visit

        group_by = list(base.group_by) if base else []
        for key, pattern in P.GROUPS:
            if re.search(pattern, rest) and key not in group_by:
                group_by.append(key)
        if (
            not any(g in group_by for g in TIME_GRAINS)
            and not (period and period.grain)
            and P.TREND.search(rest)
        ):
            group_by.append("month")

        compare = list(base.compare) if base else []
        # 各年度怎么变化的 asks for the trend it already has; only 同比 itself adds the comparison there
        time_grouped = any(g in group_by for g in TIME_GRAINS) or bool(period and period.grain)
        loose_yoy = P.YOY.search(rest) and not time_grouped
        if loose_yoy and "yoy" not in compare and not P.MOM.search(rest.replace("同比和环比", "")):
            compare.append("yoy")
        if ("同比" in rest or re.search(r"last year", rest)) and "yoy" not in compare:
            compare.append("yoy")
        if P.MOM.search(rest) and "mom" not in compare:
            compare.append("mom")

        rank = read_rank(rest) or (base.rank if base else None)
        if period:
            start, end = period.start, period.end
        elif base:
            start, end = base.start, base.end
        else:
            start, end = date(self.intents.as_of.year, 1, 1), self.intents.as_of
        return IndicatorQuery(
            indicators=names or base.indicators,
            start=start,
            end=end,
            filters=filters,
            group_by=group_by[:3],
            compare=compare,
            rank=rank,
        )

    def _period(self, text: str) -> Period | None:
        return resolve_period(P.english_periods(text), self.intents.as_of, self.intents.data_start)


def signal_words(text: str, mentions: list[Candidate], period: Period | None) -> str:
    """The question without its period and its indicator names: 增幅 in 医疗收入增幅 and 比 in 药占比
    are not comparisons."""
    rest = P.english_periods(text)
    if period and period.text:
        rest = rest.replace(period.text, " ")
    for m in mentions:
        if m.kind == "indicator":
            rest = rest.replace(m.text, " ")
    return rest


def read_rank(text: str) -> Ranking | None:
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


def visit_type(text: str, names: list[str]) -> list[str]:
    """门诊/急诊/住院 is a filter only when no chosen indicator already says it (门诊次均费用 does)."""
    if any(word in n for n in names for word in ("门诊", "急诊", "住院", "门急诊", "出院")):
        return []
    found = [v for v in ("门诊", "急诊", "住院") if re.search(v + r"(?:患者|病人|部分|的)?", text)]
    return found if len(found) == 1 else []


def policy_call(question: str) -> SearchPolicyCall:
    return SearchPolicyCall(arguments=SearchPolicyArgs(query=question.strip()[:500], k=3))


def explain_calls(names: list[str]) -> list[ToolCall]:
    return [ExplainIndicatorCall(arguments=ExplainIndicatorArgs(indicator=n)) for n in names]


def _out_of_scope():
    from serving.tools import Refusal

    return Refusal(category="out_of_scope", message=P.OUT_OF_SCOPE)
