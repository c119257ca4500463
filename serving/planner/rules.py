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

from indicators import Catalog, Filters, IndicatorQuery, Ranking
from indicators.matching import close_matches
from indicators.query.dimensions import DimensionIndex
from retrieval.text import normalise
from serving.planner.lexicon import Lexicon, Mention
from serving.planner.timeexpr import number, resolve_period
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
    Turn,
)

_REFUSALS = [
    (
        "injection",
        r"忽略(?:之前|以上|前面|上面|所有)?的?(?:指令|指示|提示|规则|设定)|ignore (?:all |the )?(?:previous|above|prior) "
        r"(?:instructions|prompts?)|system prompt|系统提示词?|jailbreak|越狱|drop\s+table|delete\s+from|"
        r"select\s+\*|执行(?:sql|SQL|语句)|原始数据|明细数据|raw data|导出(?:全部|所有)",
        "我只能通过指标接口回答汇总后的运营指标，不能执行任意指令、运行 SQL 或导出原始数据。"
        "可以问我某个指标的数值、口径、趋势、排名或相关政策，例如“本年药占比是多少，同比如何”。",
    ),
    (
        "patient_data",
        r"身份证|(?<!电子)病历(?!应用)|病案号|住院号|住院记录|就诊记录|名单|"
        r"(?:病人|患者)[张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤][\u4e00-\u9fff]{1,2}|"
        r"id numbers|names? (?:and|of) .{0,30}patients|patients?'? names|门诊号|手机号|联系电话|家庭住址|患者(?:姓名|名单|信息|隐私|明细)|病人(?:名单|姓名|信息)|"
        r"哪些(?:患者|病人)|(?:患者|病人)是谁|patient (?:names?|list|records?|ids?)|who (?:was|were) the patients?",
        "患者个人信息不会通过本助手提供：我只读取汇总后的指标，不含任何可识别患者身份的数据。"
        "可以问我全院、院区、科室或医生层面的汇总指标。",
    ),
    (
        "clinical_advice",
        r"怎么治疗?|如何治疗|治疗方案|用药建议|吃什么药|开什么药|用什么(?:药|抗生素|抗菌药)|该用什么|(?:能|可以)吃|吃多少|剂量|用量多少|诊断一下|是什么病|"
        r"treat(?:ment)? for|what dose|dosage|diagnos",
        "我是医院运营助手，不提供诊断、治疗或用药建议，请咨询临床医生。"
        "可以问我运营指标或相关政策，例如某科室的平均住院日、抗菌药物使用强度。",
    ),
]
_OUT_OF_SCOPE = (
    "这个问题超出了医院运营分析的范围。我可以回答指标数值（如药占比、次均费用、平均住院日）、"
    "指标口径、科室排名、同比环比，以及相关政策规定。"
)

_POLICY = re.compile(
    r"政策|规定|要求|文件|文号|标准|达标|目标值?|红线|依据|条例|办法|通知|意见|限定支付|考核要求|上限|不超过|合规|"
    r"policy|regulation|rule|target|requirement"
)
_MEETS_TARGET = re.compile(r"达标|符合|满足|超标|合规|达到(?:了)?(?:目标|要求)|meets?|on target|complian")
_EXPLAIN = re.compile(
    r"口径|怎么算|如何计算|计算公式|公式|定义|什么意思|是什么指标|指什么|含义|how is .* (?:calculated|computed)|definition|define"
)
_LIST_INDICATORS = re.compile(
    r"(?:有|包括|包含)?哪些指标|指标(?:目录|清单|列表)|能查(?:哪些|什么)|what indicators|which indicators|list (?:of )?indicators"
)
_LIST_DIMENSION = re.compile(r"(?:有|包括)哪些(科室|院区|医生|医保类型)|(科室|院区|医生)(?:列表|清单|名单)")
_YOY = re.compile(
    r"同比|比去年|较去年|上年同期|去年同期|同期相比|增长|增幅|增减|涨了|降了|变化|升了|上升|下降|year[- ]over[- ]year|yoy|compared (?:with|to) last year|growth|change"
)
_MOM = re.compile(
    r"环比|比上月|较上月|比上个月|比上季度|较上季度|month[- ]over[- ]month|mom\b|vs\.? last month"
)
_GROUPS = [
    (
        "department",
        r"按科室|各科室|分科室|各个科室|每个科室|科室(?:分布|对比|排名|排行)|哪个科室|哪些科室|by department|per department|each department|which department",
    ),
    (
        "campus",
        r"按院区|各院区|分院区|各个院区|每个院区|院区(?:分布|对比)|哪个院区|by campus|each campus|which campus",
    ),
    ("doctor", r"按医生|各医生|每个医生|医生(?:排名|排行)|哪个医生|哪位医生|by doctor|which doctor"),
    ("insurance", r"按医保|各医保|分医保|医保类型(?:分布|对比)|by insurance"),
    ("visit_type", r"门诊(?:和|与|、)急诊(?:和|与|、)?住院?分别|按就诊类型|by visit type"),
    ("quarter", r"按季度?|每个?季度|各个?季度|分季度|逐季|by quarter|quarterly"),
    ("month", r"每个月|每月|按月|逐月|分月|月度|各月|by month|monthly|each month"),
    ("year", r"每年|按年|逐年|各年|历年|分年度|by year|yearly|annual"),
]
_TREND = re.compile(r"趋势|走势|变化情况|trend")
_TOP = re.compile(r"(?:排名|排行)?前\s*(?P<n>[0-9一二两三四五六七八九十]+)\s*(?:名|位|个)?|top\s*(?P<en>\d+)")
_BOTTOM = re.compile(
    r"(?:倒数|后)\s*(?P<n>[0-9一二两三四五六七八九十]+)\s*(?:名|位|个)?|bottom\s*(?P<en>\d+)"
)
_HIGHEST = re.compile(r"最高|最多|最大|最长|highest|most|largest|longest")
_LOWEST = re.compile(r"最低|最少|最小|最短|lowest|least|smallest|shortest")
_RANKING = re.compile(r"排个?名|排行|排序|rank")
_WHOLE_HOSPITAL = re.compile(r"全院|整个医院|全医院|whole hospital|hospital-wide|overall")
_REPLACE = re.compile(r"换成|改成|换为|改为|看看|switch to|instead")
_FIGURE = re.compile(
    r"多少|是多少|几|怎么样|如何|情况|数据|水平|高不高|达到|统计|查询|查一下|看一下|how much|how many|what (?:is|was|were)"
)
_OPERATIONS = re.compile(
    r"指标|科室|院区|医院|医保|收入|费用|病床|床位|手术|住院|门诊|出院|药|耗材|DRG|DIP|国考|评审|考核|医生",
    re.I,
)
_ENGLISH_PERIODS = [
    (re.compile(r"\bthis year\b|\bytd\b|year to date"), "今年"),
    (re.compile(r"\blast year\b|\bprevious year\b"), "去年"),
    (re.compile(r"\bthis month\b"), "本月"),
    (re.compile(r"\blast month\b|\bprevious month\b"), "上个月"),
    (re.compile(r"\bthis quarter\b"), "本季度"),
    (re.compile(r"\blast quarter\b|\bprevious quarter\b"), "上季度"),
    (re.compile(r"\b(?:past|last) (?:12|twelve) months\b"), "近12个月"),
    (re.compile(r"\b(?:past|last) (?:three|3) years\b"), "近三年"),
    (re.compile(r"\bq([1-4]) (\d{4})\b"), r"\2年第\1季度"),
    (re.compile(r"\b(?:first half|h1) (?:of )?(\d{4})\b"), r"\1年上半年"),
    (re.compile(r"\b(?:first half|h1) (?:of )?last year\b"), "去年上半年"),
    (re.compile(r"\b(?:first half|h1) (?:of )?(?:this year)?\b"), "上半年"),
    (re.compile(r"\b(?:in |for )?(20\d{2})\b"), r"\1年"),
]


class RulesPlanner:
    name = "rules"

    def __init__(self, catalog: Catalog, dimensions: DimensionIndex, as_of: date, data_start: date) -> None:
        self.catalog = catalog
        self.lexicon = Lexicon(catalog, dimensions)
        self.as_of = as_of
        self.data_start = data_start

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan:
        text = normalise(question.strip())
        for category, pattern, message in _REFUSALS:
            if re.search(pattern, text, flags=re.I):
                return Plan(refusal=Refusal(category=category, message=message))
        mentions = self.lexicon.find(text)
        previous = _previous_query(history)
        ambiguous = self._ambiguity(mentions)
        if ambiguous:
            return Plan(clarification=ambiguous)

        if _LIST_INDICATORS.search(text):
            system = next((s for s in ("二级国考", "国考", "三级医院评审", "基础运营") if s in text), None)
            return Plan(calls=[ListIndicatorsCall(arguments=ListIndicatorsArgs(query="", system=system))])
        listed = _LIST_DIMENSION.search(text)
        if listed:
            word = listed.group(1) or listed.group(2)
            dim = {"科室": "department", "院区": "campus", "医生": "doctor", "医保类型": "insurance"}[word]
            return Plan(calls=[ListDimensionValuesCall(arguments=ListDimensionValuesArgs(dimension=dim))])

        names = list(dict.fromkeys(m.canonical for m in mentions if m.kind == "indicator"))
        wants_policy = bool(_POLICY.search(text))
        if not names and previous is None:
            if wants_policy:
                return Plan(calls=[_policy_call(question)])
            return self._unknown_indicator(text, mentions)
        if names and _EXPLAIN.search(text) and not _FIGURE.search(text):
            return Plan(
                calls=[ExplainIndicatorCall(arguments=ExplainIndicatorArgs(indicator=n)) for n in names]
            )
        unavailable = [n for n in names if self.catalog.get(n).status == "not_available"]
        if unavailable:
            return Plan(
                calls=[ExplainIndicatorCall(arguments=ExplainIndicatorArgs(indicator=n)) for n in unavailable]
            )
        if names and wants_policy and not _FIGURE.search(text) and not _MEETS_TARGET.search(text):
            return Plan(calls=[_policy_call(question)])

        query = self._query(text, names, mentions, previous)
        calls: list = [QueryIndicatorCall(arguments=query)]
        if wants_policy and _MEETS_TARGET.search(text):
            calls.append(_policy_call(" ".join(query.indicators) + " 政策要求 目标"))
        return Plan(calls=calls)

    # ------------------------------------------------------------------ parts
    def _query(
        self, text: str, names: list[str], mentions: list[Mention], previous: IndicatorQuery | None
    ) -> IndicatorQuery:
        base = (
            previous
            if previous is not None and (not names or _REPLACE.search(text) or _follow_up(text))
            else None
        )
        rest = _english_periods(text)
        period = resolve_period(rest, self.as_of, self.data_start)
        if period:
            rest = rest.replace(period.text, " ")
        for m in mentions:
            if m.kind == "indicator":
                rest = rest.replace(m.text, " ")  # 增幅 in 医疗收入增幅, 比 in 药占比 are not comparisons

        filters = base.filters.model_copy(deep=True) if base else Filters()
        if _WHOLE_HOSPITAL.search(text):
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

        group_by = list(base.group_by) if base and period is None else []
        for key, pattern in _GROUPS:
            if re.search(pattern, rest) and key not in group_by:
                group_by.append(key)
        for key, values in filters.active().items():
            if len(values) > 1 and key not in group_by:
                group_by.insert(0, key)  # 心内科和呼吸科对比: one row each
        if not any(g in group_by for g in ("year", "quarter", "month")):
            if period and period.grain:
                group_by.append(period.grain)  # 近三年 → by year, 近12个月 → by month
            elif _TREND.search(rest):
                group_by.append("month")

        compare = list(base.compare) if base else []
        if _YOY.search(rest) and "yoy" not in compare and not _MOM.search(rest.replace("同比和环比", "")):
            compare.append("yoy")
        if ("同比" in rest or re.search(r"last year", rest)) and "yoy" not in compare:
            compare.append("yoy")
        if _MOM.search(rest) and "mom" not in compare:
            compare.append("mom")
        compare = [c for c in ("yoy", "mom") if c in compare]

        rank = self._rank(rest, group_by) or (base.rank if base and period is None else None)
        if rank and not any(g in group_by for g in ("department", "doctor", "campus", "insurance")):
            group_by.insert(
                0,
                "doctor" if re.search(r"医生|doctor", rest) else "campus" if "院区" in rest else "department",
            )

        if period:
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

    def _rank(self, text: str, group_by: list[str]) -> Ranking | None:
        for pattern, order in ((_TOP, "desc"), (_BOTTOM, "asc")):
            m = pattern.search(text)
            if m:
                return Ranking(order=order, limit=max(1, min(100, number(m["n"] or m["en"]))))
        count = re.search(r"(?P<n>[0-9一二两三四五六七八九十]+)\s*(?:个|名|位|家)", text)
        limit = number(count["n"]) if count else 1
        if _HIGHEST.search(text):
            return Ranking(order="desc", limit=limit)
        if _LOWEST.search(text):
            return Ranking(order="asc", limit=limit)
        if _RANKING.search(text):
            return Ranking(order="desc", limit=10)
        return None

    def _ambiguity(self, mentions: list[Mention]) -> Clarification | None:
        for m in mentions:
            if m.kind == "department_group":
                options = self.lexicon.departments_by_group.get(m.canonical, [])
                return Clarification(
                    slot="department",
                    question=f"“{m.text}”包含多个科室，请问是哪一个？",
                    options=options,
                )
        return None

    def _unknown_indicator(self, text: str, mentions: list[Mention]) -> Plan:
        if not _OPERATIONS.search(text):
            return Plan(refusal=Refusal(category="out_of_scope", message=_OUT_OF_SCOPE))
        phrase = re.sub(r"[，。？！,.?!\s]|是多少|多少|怎么样|情况|医院|全院|本年|今年|去年|的", "", text)
        labels = [i.name for i in self.catalog.indicators.values() if i.status != "not_available"]
        options = close_matches(phrase, labels, limit=5, cutoff=50) if phrase else []
        return Plan(
            clarification=Clarification(
                slot="indicator",
                question="没有找到您说的指标，请问是下面哪一个？也可以问“有哪些指标”查看全部。",
                options=options,
            )
        )


def _policy_call(question: str) -> SearchPolicyCall:
    return SearchPolicyCall(arguments=SearchPolicyArgs(query=question.strip()[:500], k=3))


def _follow_up(text: str) -> bool:
    return bool(re.search(r"呢[？?]?$|那|再|换成|改成|按.*看|也|同样|还有|what about|and ", text))


def _visit_type(text: str, names: list[str]) -> list[str]:
    """门诊/急诊/住院 is a filter only when no chosen indicator already says it (门诊次均费用 does)."""
    if any(word in n for n in names for word in ("门诊", "急诊", "住院", "门急诊", "出院")):
        return []
    found = [v for v in ("门诊", "急诊", "住院") if re.search(v + r"(?:患者|病人|部分|的)?", text)]
    return found if len(found) == 1 else []


def _english_periods(text: str) -> str:
    for pattern, replacement in _ENGLISH_PERIODS:
        text = pattern.sub(replacement, text)
    return text


def _previous_query(history: Sequence[Turn]) -> IndicatorQuery | None:
    """What a follow-up builds on: the last query, or the query a clarification left pending."""
    for plan in (turn.plan for turn in reversed(history)):
        if plan.clarification and plan.clarification.pending:
            return plan.clarification.pending
        if plan.indicator_calls:
            return plan.indicator_calls[-1].arguments
    return None
