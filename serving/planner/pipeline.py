"""The understanding pipeline: one declared chain from a question to a plan.

    guard → clarification answers → mappers → intent → router → parser → correctors

Stages share one context (serving/planner/context.py). The chain is declared here, in order, the
way SuperSonic chains its mappers, parsers and correctors: a new kind of question is one new
mapper, parser rule or corrector. The deterministic path needs no model; with an LLM parser the
router hands it the questions the mapping does not fully explain, and the rules parser catches a
model that gives no valid plan.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date

from indicators import Catalog, IndicatorQuery
from indicators.errors import UnknownIndicatorError
from indicators.query.dimensions import DimensionIndex
from retrieval.embeddings import Embedder
from retrieval.text import normalise
from serving.planner.clarify import Clarifier
from serving.planner.context import Decision, Understanding
from serving.planner.correctors import CORRECTORS, Corrector, read_words
from serving.planner.explained import content_size, residue
from serving.planner.intent import IntentStage, Knowledge, Reading
from serving.planner.lexicon import Lexicon
from serving.planner.mappers import Mapper
from serving.planner.mappers.described import DescriptionMapper
from serving.planner.mappers.dictionary import DictionaryMapper
from serving.planner.mappers.dimensions import DimensionMapper
from serving.planner.mappers.formula import FormulaMapper
from serving.planner.mappers.near import NearNameMapper
from serving.planner.mappers.switch import SwitchMapper
from serving.planner.mappers.time import TimeMapper
from serving.planner.parsers import Parser
from serving.planner.parsers.rules import RulesParser
from serving.tools import ExplainIndicatorCall, Plan, QueryIndicatorCall, SearchPolicyCall, Turn

log = logging.getLogger("opsbrain.planner")
_MAX_REWRITES = 3


class Pipeline:
    """Plans questions; ``understand`` returns the whole context, ``plan`` only the plan."""

    def __init__(
        self,
        catalog: Catalog,
        dimensions: DimensionIndex,
        as_of: date,
        data_start: date,
        embedder: Embedder | None = None,
        llm: Parser | None = None,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.catalog = catalog
        self.as_of = as_of
        self.data_start = data_start
        self.lexicon = Lexicon(catalog, dimensions)
        self.clarifier = Clarifier(catalog, dimensions, self.lexicon)
        self.mappers: list[Mapper] = [
            DictionaryMapper(self.lexicon),
            FormulaMapper(catalog),
            DescriptionMapper(catalog),
            DimensionMapper(self.lexicon),
            TimeMapper(as_of, data_start),
            SwitchMapper(catalog),
            NearNameMapper(catalog),
        ]
        if embedder is not None:
            from serving.planner.mappers.embedding import EmbeddingMapper

            self.mappers.append(EmbeddingMapper(catalog, embedder))
        self.intents = IntentStage(catalog, self.clarifier, as_of, data_start, knowledge)
        self.rules = RulesParser(catalog, self.clarifier, self.intents)
        self.llm = llm
        self.correctors: tuple[Corrector, ...] = CORRECTORS
        # evaluation of the model alone: every question goes to the LLM parser, the guard's refusals
        # included, so a turn the model did not plan itself counts as its miss
        self.model_only = False
        self._local = threading.local()

    @property
    def name(self) -> str:
        """The parser of the last plan made in this thread (the Assistant's older interface)."""
        return getattr(self._local, "parser", "llm" if self.llm else "rules")

    def plan(self, question: str, history: Sequence[Turn] = ()) -> Plan:
        return self.understand(question, history).plan

    def understand(self, question: str, history: Sequence[Turn] = ()) -> Understanding:
        ctx = self._understand(question, list(history))
        self._local.parser = ctx.parser
        return ctx

    # ------------------------------------------------------------------ the chain
    def prepare(self, question: str, history: Sequence[Turn] = ()) -> tuple[Understanding, Reading | None]:
        """The question mapped and its intent decided, before any parser runs: what the LLM parser
        (and its training data) sees. The reading is None when the guard refused the question (the
        context then holds the refusal as its plan)."""
        history = list(history)
        ctx = Understanding(question=question, text=normalise(question.strip()), history=history)
        refusal = None if self.model_only and self.llm is not None else self.intents.guard(ctx)
        if refusal:
            self._done(ctx, refusal, "rules", Decision(value="rules", reason="拒绝由规则判定"))
            return ctx, None
        if history and history[-1].plan.clarification:
            resolved = self.clarifier.resolve(ctx.text, history[-1].question, history[-1].plan.clarification)
            if resolved:  # 心内科 after “内科包含多个科室”: the first question with the choice in it
                answered, reading = self.prepare(resolved, history[:-1])
                answered.question = question
                return answered, reading
        ctx.previous = self.previous_query(history)
        reading = self._map(ctx)
        ctx.intent = self.intents.decide(ctx, reading)
        ctx.route = self._route(ctx, reading)
        return ctx, reading

    def _understand(self, question: str, history: list[Turn]) -> Understanding:
        ctx, reading = self.prepare(question, history)
        if reading is None:
            return ctx
        plan = None
        if ctx.route.value == "llm" and self.llm is not None:
            plan = self.llm.parse(ctx, reading)
            ctx.parser = "llm" if plan is not None else "llm→rules"
        if plan is None:
            plan = self.rules.parse(ctx, reading)
            ctx.parser = ctx.parser or "rules"
        ctx.plan = self.correct(plan, ctx, reading)
        if ctx.parser == "llm":
            ctx.intent = Decision(
                value=intent_of(ctx.plan), reason=f"模型的计划；规则判断为 {ctx.intent.value}"
            )
        return ctx

    def _map(self, ctx: Understanding) -> Reading:
        for _ in range(_MAX_REWRITES):
            ctx.candidates, ctx.times = [], []
            for mapper in self.mappers:
                mapper.map(ctx)
            reading = self.intents.read(ctx)
            rewritten = self.intents.rewrite(ctx, reading)
            if rewritten is None or rewritten == ctx.text:
                return reading
            ctx.text = rewritten  # the question settles the name: read it again written out
        return reading

    def _route(self, ctx: Understanding, reading: Reading) -> Decision:
        if self.model_only and self.llm is not None:
            return Decision(value="llm", reason="评测：所有问题交给模型")
        left = residue(ctx)
        explained = content_size(left) < 2
        if explained:
            return Decision(value="rules", reason="问题的词语都已由目录名称、维度、时间和固定说法解释")
        if self.llm is None:
            return Decision(value="rules", reason=f"未解释的词语“{left}”；未配置模型，由规则解析")
        return Decision(value="llm", reason=f"未解释的词语“{left}”，交给模型")

    def correct(self, plan: Plan, ctx: Understanding, reading: Reading) -> Plan:
        """The plan after every corrector, in order; the context records which changed it."""
        if not plan.indicator_calls:
            return plan
        words = read_words(ctx, reading, self.as_of, self.data_start)
        calls = []
        for call in plan.calls:
            if isinstance(call, QueryIndicatorCall):
                query = call.arguments
                for corrector in self.correctors:
                    fixed = corrector(query, words)
                    if fixed != query:
                        ctx.corrections.append(corrector.__name__)
                    query = fixed
                call = call.model_copy(update={"arguments": query})
            calls.append(call)
        return plan.model_copy(update={"calls": calls})

    def _done(self, ctx: Understanding, plan: Plan, parser: str, route: Decision) -> Understanding:
        ctx.plan, ctx.parser, ctx.route = plan, parser, route
        return ctx

    # ------------------------------------------------------------------ history
    def previous_query(self, history: Sequence[Turn]) -> IndicatorQuery | None:
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


def intent_of(plan: Plan) -> str:
    """The intent a plan carries out (for plans a model wrote)."""
    if plan.refusal:
        return "refuse"
    if plan.clarification:
        return "clarify"
    tools = {c.tool for c in plan.calls}
    if "query_indicator" in tools:
        return "target_check" if "search_policy" in tools else "figure"
    if tools & {"list_indicators", "list_dimension_values"}:
        return "catalog"
    if "explain_indicator" in tools:
        return "definition"
    return "policy"
