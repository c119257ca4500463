"""The intent stage: what the question asks for, decided from the mapped candidates and the words,
with the reason recorded.

Intents: figure, definition, policy, target_check, catalog, not_available, clarify, refuse. The
order of the checks is the order of precedence: a refusal first (patient data, clinical advice,
instruction overrides), then a list of the catalog or of a dimension, an ambiguous name, and then
what the words around the names ask (口径, 政策, a figure). A question that names no indicator the
mappers trust goes to the knowledge base when it asks about rules or facts, and is asked back with
the closest indicators only when it clearly asks for a figure of something that sounds like one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from indicators import Catalog
from serving.planner import patterns as P
from serving.planner.clarify import Ambiguity, Clarifier
from serving.planner.context import Candidate, Decision, Understanding
from serving.planner.timeexpr import resolve_period
from serving.tools import Clarification, Plan, Refusal

# a candidate the rules parser uses as a name; embedding guesses need this much to be used alone
TRUSTED = 0.85
# an embedding guess this strong and this far ahead of the next is read as the question's indicator
GUESS, GUESS_MARGIN = 0.6, 0.25
# an embedding guess good enough to offer as an option in a clarification
OFFERED = 0.25
# an offered indicator must be this close to be worth a clarification (else: the knowledge base)
CLOSE = 0.45
# how well the knowledge base answers a question (its best statement's score, serving/assistant/
# policy_answer.py) for a question with no indicator to be asked back or refused as off-topic; at
# least this much sends it to the knowledge base instead (tuned on evals/datasets/policy_dev.jsonl)
KNOWN = 0.64
Knowledge = Callable[[str], float]
# an indicator candidate this close is what a question asks for, even if not trusted as its name
NAMED = 0.78
# a figure asked for in so many words (多少 alone also asks how many parts a document has)
STRONG_FIGURE = re.compile(
    r"多少[啊呀呢吗？?]*$|是多少|有多少|多少(?:人|钱|元|次|例|台|张|天)|多少了|怎么样|高不高|多不多|情况|水平|数据|统计|趋势|同比|环比"
)
# a ranking asks for figures: 哪个科室最快
RANKED = re.compile(
    r"哪个科室|哪些科室|哪个院区|哪位医生|哪个医生|最高|最低|最快|最慢|最多|最少|排名|排行|前\d+名"
)
# the country, a province or hospitals in general, not this hospital: national statistics and rules
NATIONAL = re.compile(
    r"全国|全省|全市|各省|各地|国家层面|统计公报|三明|(?<![本我该])(?:三级|二级)(?:公立)?医院(?:的|平均|整体|一般|大概|总体)|"
    r"(?<![本我该])公立医院(?:的|平均|整体|一般|大概|总体)|全国医院|"
    # hospitals of a level as a class, with a statistic after them (2023年三级医院病床使用率)
    r"(?<![本我该们])(?:三级|二级)?(?:公立)?医院(?!评审|绩效|等级)(?=(?:出院者|医师)?(?:人均|次均|病床|日均|平均住院))|"
    # the statistics bulletin's own words for a change
    r"名义增长|可比价格|按当年价格"
)
# words that ask for a rule or a fact, not a figure: 分几部分, 从哪几个方面, 多久, 什么时候
FACT = re.compile(
    r"哪几个?方面|哪些方面|几部分|哪几部分|几个部分|哪几类|几类|哪几种|几种|几个维度|哪些维度|多少个指标|几个指标|"
    r"什么时候|何时|哪一年|哪年|多久|多长时间|几天的量|开几天|有效期|期限|怎么规定|如何规定|规定了?什么|有什么规定|"
    r"是什么|是啥|什么是|指的是|包括哪些|包含哪些|有哪些|分为|分哪|区别|不同|谁来|谁可以|能不能|可不可以|是否|要不要|需不需要|"
    r"依据|出处|文件|文号|附件|条款|条例|办法|通知|意见|标准|政策|规定|要求|考核|评审|评价|分级|等级|(?:一共|总共|共|分|要达到|要到)几级|准入|集采|零加成|"
    r"分母|分子|口径|怎么算|如何计算|统计哪些|包括什么|渠道|哪套|哪个部门|哪个机构|哪一级|维度|属于|归哪|导向|"
    r"什么情况|才能|报销|能报|走医保|几倍|多少个(?!科室|医生|院区)|多少家|多少组|多少项|几个城市|几周|哪天|哪一天|印发|发布|"
    r"\bwhen\b|which document|how long"
)


@dataclass
class Reading:
    """What the words around the names say, read once and shared by the intent stage and the parser."""

    names: list[str]  # indicators the rules trust, in question order
    free: str  # the question with the indicator names blanked out
    wants_policy: bool
    wants_explain: bool
    wants_figure: bool
    has_period: bool
    follows: bool = False  # builds on the previous query (a follow-up)
    ambiguous: Ambiguity | None = None
    offered: list[str] = field(default_factory=list)  # closest indicators when none is trusted
    unavailable_family: list[str] = field(default_factory=list)


class IntentStage:
    def __init__(
        self,
        catalog: Catalog,
        clarifier: Clarifier,
        as_of: date,
        data_start: date,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.catalog = catalog
        self.knowledge = knowledge
        self.clarifier = clarifier
        self.as_of = as_of
        self.data_start = data_start
        self.families = unavailable_families(catalog)

    # ------------------------------------------------------------------ refusals first
    def guard(self, ctx: Understanding) -> Plan | None:
        """A refusal that no parser may overrule: patient data, clinical advice, injection, off-topic."""
        for category, pattern, message in P.REFUSALS:
            hit = re.search(pattern, ctx.text, flags=re.I)
            if hit:
                ctx.intent = Decision(value="refuse", reason=f"{category}：问题含“{hit.group(0)}”")
                return Plan(refusal=Refusal(category=category, message=message))
        hit = P.OFF_TOPIC.search(ctx.text)
        if hit:
            ctx.intent = Decision(value="refuse", reason=f"out_of_scope：问题含“{hit.group(0)}”")
            return Plan(refusal=Refusal(category="out_of_scope", message=P.OUT_OF_SCOPE))
        return None

    # ------------------------------------------------------------------ reading
    def read(self, ctx: Understanding) -> Reading:
        trusted = trusted_names(ctx)
        names = list(dict.fromkeys(c.value for c in trusted if c.kind == "indicator"))
        free = _blank(ctx.text, [c for c in trusted if c.kind == "indicator"])
        departments = ctx.previous.filters.department if ctx.previous else ()
        reading = Reading(
            names=names,
            free=free,
            wants_policy=bool(P.POLICY.search(free)),
            wants_explain=bool(P.EXPLAIN.search(free)),
            wants_figure=bool(P.FIGURE.search(P.EXPLAIN.sub(" ", free))),
            has_period=bool(ctx.times),
            ambiguous=self.clarifier.ambiguity(ctx.text, trusted, departments),
        )
        reading.follows = follows_previous(ctx, ctx.text, names, self._doctor_of_previous(ctx, trusted))
        if not names:
            reading.offered = offered(ctx)
            reading.unavailable_family = self._unavailable_family(ctx.text)
        return reading

    def _doctor_of_previous(self, ctx: Understanding, trusted: list[Candidate]) -> bool:
        """陈浩博的时间消耗指数 right after 骨科: one of the department's doctors, so a follow-up."""
        doctors = [c.value for c in trusted if c.kind == "doctor"]
        departments = ctx.previous.filters.department if ctx.previous else []
        return bool(doctors and departments) and all(
            self.clarifier.doctor_department.get(d) in departments for d in doctors
        )

    def rewrite(self, ctx: Understanding, reading: Reading) -> str | None:
        """The question with a name the question itself settles written out (出院患者的次均费用 →
        住院次均费用); None when nothing is to be rewritten."""
        found = reading.ambiguous
        if found and len(found.clarification.options) == 1 and found.text in ctx.text:
            return ctx.text.replace(found.text, found.clarification.options[0], 1)
        return None

    # ------------------------------------------------------------------ deciding
    def decide(self, ctx: Understanding, reading: Reading) -> Decision:
        text, free = ctx.text, reading.free
        if P.LIST_INDICATORS.search(text):
            return Decision(value="catalog", reason="问的是有哪些指标")
        ranking = (
            P.HIGHEST.search(text) or P.LOWEST.search(text) or P.TOP.search(text) or P.BOTTOM.search(text)
        )
        if not reading.names and not ranking and P.LIST_DIMENSION.search(text) and not reading.wants_policy:
            return Decision(value="catalog", reason="问的是有哪些科室/院区/医生等维度取值")
        figure_besides_target = bool(P.FIGURE.search(P.TARGET_VALUE.sub(" ", free))) or reading.has_period
        if reading.ambiguous:
            if (
                reading.ambiguous.clarification.slot == "indicator"
                and reading.wants_policy
                and not (P.FIGURE.search(P.TARGET_VALUE.sub(" ", free)) or P.MEETS_TARGET.search(free))
            ):
                return Decision(
                    value="policy", reason=f"问“{reading.ambiguous.text}”的政策要求，由文件说明是哪个指标"
                )
            return Decision(value="clarify", reason=f"“{reading.ambiguous.text}”对应多个取值")
        if not reading.names and ctx.previous is None:
            return self._nameless(ctx, reading)
        national = NATIONAL.search(text)
        if national and not reading.follows:
            return Decision(
                value="policy", reason=f"问的是“{national.group(0)}”层面的统计或规定，不是本院数据：查知识库"
            )
        outside = self._outside_data(ctx)
        if outside and not reading.follows and self.knowledge is not None:
            known = self.knowledge(ctx.question)
            if known >= KNOWN:
                return Decision(
                    value="policy",
                    reason=f"{outside}不在数据仓库的时间范围内，知识库有直接相关的条文（相关度 {known:.2f}）",
                )
        if reading.wants_explain and not reading.wants_figure:
            return Decision(value="definition", reason="问口径、定义或计算方法")
        unavailable = [n for n in reading.names if self.catalog.get(n).status == "not_available"]
        if unavailable and (reading.wants_policy or FACT.search(free)):
            return Decision(value="policy", reason=f"问{'、'.join(unavailable)}的规定或事实")
        if unavailable:
            return Decision(
                value="not_available", reason=f"{'、'.join(unavailable)}在目录中但无法从数据仓库计算"
            )
        if reading.wants_policy and not figure_besides_target and not P.MEETS_TARGET.search(free):
            return Decision(value="policy", reason="问政策要求或目标，没有问数值")
        if reading.wants_policy:
            return Decision(value="target_check", reason="问数值，也问是否符合要求")
        subject = "、".join(reading.names) or "上一轮的指标"
        return Decision(value="figure", reason=f"问{subject}的数值")

    def _nameless(self, ctx: Understanding, reading: Reading) -> Decision:
        """No trusted indicator and nothing to follow up: a rule or fact, a not-computable family,
        the closest indicators offered back, or out of scope. Before a question is asked back or
        refused, the knowledge base is asked whether it answers it (MDCP是啥 is no indicator, but the
        DRG documents say what it is)."""
        decision = self._nameless_by_words(ctx, reading)
        # a name spelled or meant like a catalog entry (DRG入组率 ~ DRG组数), or a period of the
        # warehouse's (检验收入上月), asks for a figure: that is asked back, not looked up
        best = ctx.best_indicators(1)
        named = bool(best) and (best[0].mapper.startswith("near") or best[0].score >= NAMED)
        in_data = bool(ctx.times) and not self._outside_data(ctx)
        asked_back = decision.value == "clarify" and not named and not in_data
        if (asked_back or decision.value == "refuse") and self.knowledge is not None:
            known = self.knowledge(ctx.question)
            if known >= KNOWN:
                return Decision(
                    value="policy", reason=f"没有对应的指标，知识库有直接相关的条文（相关度 {known:.2f}）"
                )
        return decision

    def _nameless_by_words(self, ctx: Understanding, reading: Reading) -> Decision:
        facts = FACT.search(ctx.text)
        if reading.unavailable_family and not facts:
            family = "、".join(reading.unavailable_family)
            return Decision(value="not_available", reason=f"只对应不可计算的指标：{family}")
        # 现场检查主要看哪些内容 right after a question on the 评审标准 is still about the regulations
        policy_talk = bool(ctx.history) and any(c.tool == "search_policy" for c in ctx.history[-1].plan.calls)
        if not (P.DOMAIN.search(ctx.text) or reading.wants_policy or policy_talk):
            return Decision(value="refuse", reason="out_of_scope：与医院运营无关")
        national = NATIONAL.search(ctx.text)
        if national:
            return Decision(
                value="policy", reason=f"问的是“{national.group(0)}”层面的统计或规定，不是本院数据：查知识库"
            )
        close = bool(reading.offered) and max(c.score for c in ctx.best_indicators(1)) >= CLOSE
        figure = reading.has_period or bool(STRONG_FIGURE.search(reading.free))
        if reading.offered and figure and close and not facts and not reading.wants_policy:
            return Decision(
                value="clarify", reason=f"没有直接对应的指标，最接近的是{'、'.join(reading.offered[:3])}"
            )
        return Decision(value="policy", reason="没有对应的指标，问的是规定或事实：查政策知识库")

    def _outside_data(self, ctx: Understanding) -> str:
        """The question's first period when it lies wholly outside the warehouse's data (2010年,
        2024年 with data to 2023-09): such a figure is a national statistic or none at all."""
        if not ctx.times:
            return ""
        first = ctx.times[0]
        if first.end < self.data_start or first.start > self.as_of:
            return first.text
        return ""

    def clarification(self, reading: Reading) -> Clarification:
        """The question to ask back: the ambiguous name's options, or the closest indicators."""
        if reading.ambiguous:
            return reading.ambiguous.clarification
        options = reading.offered[:4]
        return Clarification(
            slot="indicator",
            question="没有找到与问题直接对应的指标，请问是下面哪一个？也可以问“有哪些指标”查看全部。",
            options=options,
        )

    def _unavailable_family(self, text: str) -> list[str]:
        for term in sorted(self.families, key=len, reverse=True):
            if term in text:
                return self.families[term]
        return []

    def has_period(self, text: str) -> bool:
        return resolve_period(P.english_periods(text), self.as_of, self.data_start) is not None


def follows_previous(ctx: Understanding, text: str, names: list[str], doctor_of_previous: bool) -> bool:
    """Whether the query builds on the previous one: no new indicator, or words that say so (呢,
    那, 换成, 也看), or a doctor of the department just asked about."""
    if ctx.previous is None:
        return False
    if not names or P.ADD_INDICATOR.search(text) or P.REPLACE.search(text) or is_follow_up(text):
        return True
    # a new indicator said without a period carries on the conversation's period and filters
    if not ctx.times:
        return True
    return doctor_of_previous


def is_follow_up(text: str) -> bool:
    return bool(
        re.search(
            r"呢[？?]?$|那|再|换成|改成|按.*看|也|同样|还有|一起|what about|and |same for|how about", text
        )
    )


def offered(ctx: Understanding) -> list[str]:
    """The indicators to offer back when none is trusted: those spelled closest (入院人次 → 出院人次),
    else the embedding's best guesses, only the ones near the best (at most three)."""
    near = [c for c in ctx.best_indicators() if c.mapper.startswith("near")]
    pool = near or [c for c in ctx.best_indicators() if c.score >= OFFERED]
    if not pool:
        return []
    top = max(c.score for c in pool)
    return [c.value for c in pool if c.score >= top - (0.07 if near else 0.05)][:3]


def asks_figure(ctx: Understanding) -> bool:
    """A period or a figure word, and no word asking for a rule or a fact."""
    figure = bool(ctx.times) or bool(P.FIGURE.search(ctx.text)) or bool(RANKED.search(ctx.text))
    return figure and not FACT.search(ctx.text) and not P.POLICY.search(ctx.text)


def trusted_names(ctx: Understanding) -> list[Candidate]:
    """The candidates the rules read as names: every mapper's but the embedding guesses, unless a
    guess is the only indicator reading and a strong one."""
    trusted = [c for c in ctx.candidates if c.score >= TRUSTED and not c.mapper.startswith("embedding")]
    if not any(c.kind == "indicator" for c in trusted):
        guesses = ctx.best_indicators(2)
        top = guesses[0] if guesses else None
        margin = top.score - guesses[1].score if len(guesses) > 1 else 1.0
        # a guess stands alone when it is strong, or clearly ahead of the next one
        strong = (
            top
            and top.mapper.startswith("embedding")
            and ((top.score >= TRUSTED and margin >= 0.1) or (top.score >= GUESS and margin >= GUESS_MARGIN))
        )
        if strong and asks_figure(ctx):
            trusted.append(top)
    return sorted(trusted, key=lambda c: c.start)


def unavailable_families(catalog: Catalog) -> dict[str, list[str]]:
    """Words that only not-computable indicators share (满意度, 能耗): a question naming one is
    answered with those indicators, each said to be not computable."""
    names: dict[str, set[str]] = {}
    for ind in catalog.indicators.values():
        for label in (ind.name, *ind.aliases):
            for size in range(2, len(label)):
                names.setdefault(label[-size:], set()).add(ind.name)
    order = list(catalog.indicators)
    families = {}
    for term, owners in names.items():
        members = [catalog.get(n) for n in owners]
        if re.fullmatch(r"[\u4e00-\u9fff]{2,}", term) and all(m.status == "not_available" for m in members):
            families[term] = sorted(
                (m.name for m in members), key=lambda n: order.index(catalog.get(n).code)
            )[:3]
    # a term inside a longer one of the same members adds nothing (意度 inside 满意度)
    return {
        t: m for t, m in families.items() if not any(t != o and t in o and families[o] == m for o in families)
    }


def _blank(text: str, candidates: list[Candidate]) -> str:
    for c in candidates:
        text = text[: c.start] + " " * (c.end - c.start) + text[c.end :]
    return text
