"""Multi-turn items: follow-ups that switch one thing of the turn before, and three-turn dialogues.

Mixed into ``QuestionGenerator`` (training/data/questions.py). A follow-up's gold plan is the first
turn's query with one argument changed (``copy_query``), so what it keeps is right by construction;
the history holds the earlier turns with their gold plans, as the server's history holds them.
"""

from __future__ import annotations

from typing import Any

from indicators import Filters, Indicator, IndicatorQuery
from serving.tools import Plan, QueryIndicatorCall, Turn
from training.data.items import Item, Scope, copy_query, explain
from training.data.periods import Period


class FollowUpQuestions:
    """Generators of the multi-turn categories (``_<category>``, as ``make`` calls them)."""

    rng: Any
    catalog: Any
    phrasings: dict[str, Any]
    departments: list[str]
    indicators: list[Any]
    plain_periods: list[Any]
    last_year: Any
    ytd: Any
    _period: Any
    _scope: Any
    _say: Any
    _say_department: Any
    _indicator: Any
    _figure_text: Any
    _clarify_department: Any
    query: Any

    def _first_turn(self, ind: Indicator, plain_period: bool = True) -> tuple[str, QueryIndicatorCall]:
        period, when = self._period(plain=plain_period)
        scope = self._scope(ind) if self.rng.random() < 0.5 else Scope("")
        compare = ["yoy"] if self.rng.random() < 0.2 else []
        text = self._figure_text(when, scope, self._say(ind))
        if compare:
            text = text.rstrip("？") + self.rng.choice(["，同比呢", "，和去年比"])
        return text, self.query([ind.name], period, scope, compare=compare)

    def _follow_switch(self) -> Item | None:
        """那门诊呢 after 住院次均费用 → 门诊次均费用, everything else kept."""
        entry = self.rng.choice(self.phrasings["switches"])
        first_q, first = self._first_turn(self.catalog.get(entry["from"]))
        step = self._switch_step(first.arguments, entry)
        if step is None:
            return None
        text, query = step
        turn = Turn(question=first_q, plan=Plan(calls=[first]))
        plan = Plan(calls=[QueryIndicatorCall(arguments=query)])
        return Item(text, plan, (turn,), ("multi-turn", "follow:switch", "everyday:switch"))

    def _switch_step(self, q: IndicatorQuery, entry: dict[str, Any]) -> tuple[str, IndicatorQuery] | None:
        target = self.catalog.get(entry["to"])
        if any(dim not in self.catalog.dimensions_of(target) for dim in q.filters.active()):
            return None
        return self.rng.choice(entry["say"]), copy_query(q, indicators=[target.name])

    def _follow_breakdown(self) -> Item | None:
        """按月看 / 各院区呢 after a figure: the breakdown added, the rest kept."""
        ind = self._indicator()
        first_q, first = self._first_turn(ind)
        step = self._breakdown_step(first.arguments)
        if step is None:
            return None
        text, query = step
        turn = Turn(question=first_q, plan=Plan(calls=[first]))
        plan = Plan(calls=[QueryIndicatorCall(arguments=query)])
        return Item(text, plan, (turn,), ("multi-turn", "follow:breakdown"))

    def _breakdown_step(self, q: IndicatorQuery) -> tuple[str, IndicatorQuery] | None:
        months = (q.end.year - q.start.year) * 12 + q.end.month - q.start.month + 1
        dims = self.catalog.dimensions_of(self.catalog.get(q.indicators[0]))
        options = [k for k in ("month", "quarter") if months >= {"month": 3, "quarter": 6}[k]]
        options += [d for d in ("department", "campus") if d in dims and not getattr(q.filters, d)]
        options = [o for o in options if o not in q.group_by]
        if not options or q.group_by:
            return None
        key = self.rng.choice(options)
        return self.rng.choice(self.phrasings["breakdown_follow_ups"][key]), copy_query(q, group_by=[key])

    def _dialogue(self) -> Item | None:
        """Three turns, each switching one thing of the one before (turn by turn, gold history)."""
        switches = {e["from"]: e for e in self.phrasings["switches"]}
        ind = self.catalog.get(self.rng.choice(sorted(switches)))
        first_q, first = self._first_turn(ind)
        turns = [Turn(question=first_q, plan=Plan(calls=[first]))]
        q = first.arguments
        kinds = ["switch", "breakdown", "last_year", "yoy", "department", "whole"]
        self.rng.shuffle(kinds)
        for kind in kinds:
            step = None
            if kind == "switch" and q.indicators[0] in switches:
                step = self._switch_step(q, switches[q.indicators[0]])
            elif kind == "breakdown":
                step = self._breakdown_step(q)
            elif kind == "last_year" and (q.start, q.end) != (self.last_year.start, self.last_year.end):
                step = (
                    self.rng.choice(["那去年呢", "去年呢", "去年的呢"]),
                    copy_query(q, start=self.last_year.start, end=self.last_year.end),
                )
            elif kind == "yoy" and "yoy" not in q.compare:
                step = (
                    self.rng.choice(["同比呢", "跟去年比呢", "比上一年怎么样"]),
                    copy_query(q, compare=["yoy", *q.compare]),
                )
            elif kind == "department" and q.filters.department:
                other = self.rng.choice([d for d in self.departments if d not in q.filters.department])
                filters = q.filters.model_copy(update={"department": [other]})
                step = (f"{self._say_department(other)}呢", copy_query(q, filters=filters))
            elif kind == "whole" and (q.filters.department or q.filters.campus):
                step = (self.rng.choice(["全院的呢", "全院呢"]), copy_query(q, filters=Filters()))
            if step is None:
                continue
            text, q = step
            turns.append(Turn(question=text, plan=Plan(calls=[QueryIndicatorCall(arguments=q)])))
            if len(turns) == 3:
                break
        if len(turns) < 3:
            return None
        last = turns.pop()
        return Item(last.question, last.plan, tuple(turns), ("multi-turn", "follow:dialogue"))

    # ------------------------------------------------------------------ follow-ups
    def _follow_up(self) -> Item | None:
        kind = self.rng.choice(
            [
                "yoy",
                "by_department",
                "last_year",
                "department",
                "replace",
                "whole",
                "add",
                "after_explain",
                "clarified",
            ]
        )
        if kind == "clarified":
            return self._clarified()
        ind = self._indicator("department")
        period, when = self._period()
        scope = Scope("")
        if kind in ("department", "whole") or self.rng.random() < 0.3:
            dept = self.rng.choice(self.departments)
            scope = Scope(dept, {"department": [dept]}, "department")
        first_q = self._figure_text(when, scope, self._say(ind))
        first = self.query([ind.name], period, scope)
        if kind == "after_explain":
            turn = Turn(question=f"{self._say(ind)}怎么算", plan=Plan(calls=[explain(ind.name)]))
            return Item(
                "那去年是多少",
                Plan(calls=[self.query([ind.name], self.last_year)]),
                (turn,),
                ("multi-turn", "follow:after_explain"),
            )
        args = first.arguments
        follow: tuple[str, IndicatorQuery] | None = None
        if kind == "yoy":
            follow = (
                self.rng.choice(["同比呢", "和去年比呢", "同比变化呢"]),
                args.model_copy(update={"compare": ["yoy"]}),
            )
        elif kind == "by_department" and not scope.filters:
            follow = (
                self.rng.choice(["按科室看", "分科室呢", "各科室呢"]),
                args.model_copy(update={"group_by": ["department"]}),
            )
        elif kind == "last_year" and period.tag != "去年":
            y = self.last_year
            follow = (
                self.rng.choice(["那去年呢", "去年呢", "上一年呢"]),
                args.model_copy(update={"start": y.start, "end": y.end}),
            )
        elif kind == "department" and scope.filters:
            other = self.rng.choice([d for d in self.departments if d != scope.filters["department"][0]])
            said = self._say_department(other)
            follow = (
                f"{said}呢",
                args.model_copy(update={"filters": args.filters.model_copy(update={"department": [other]})}),
            )
        elif kind == "whole" and scope.filters:
            follow = (
                self.rng.choice(["全院的呢", "全院呢"]),
                args.model_copy(update={"filters": Filters()}),
            )
        elif kind == "replace":
            other = self.rng.choice([i for i in self.indicators if i.name != ind.name])
            follow = (f"换成{self._say(other)}", args.model_copy(update={"indicators": [other.name]}))
        elif kind == "add":
            other = self.rng.choice([i for i in self.indicators if i.name != ind.name])
            verb = self.rng.choice(["也看", "加上", "和{}一起看"])
            text = verb.format(self._say(other)) if "{}" in verb else f"{verb}{self._say(other)}"
            follow = (text, args.model_copy(update={"indicators": [ind.name, other.name]}))
        if follow is None:
            return None
        text, query = follow
        query = IndicatorQuery.model_validate(query.model_dump())  # re-validate the updated copy
        turn = Turn(question=first_q, plan=Plan(calls=[first]))
        return Item(
            text, Plan(calls=[QueryIndicatorCall(arguments=query)]), (turn,), ("multi-turn", f"follow:{kind}")
        )

    def _clarified(self) -> Item | None:
        """A department group asked about, and answered: the plan is the first question's, completed."""
        first = self._clarify_department()
        if first is None or first.plan.clarification is None:
            return None
        options = first.plan.clarification.options
        chosen = self.rng.choice(options)
        # rebuild the first question's query with the chosen department (same indicator and period)
        ind, period = self._parse_back(first.question)
        if ind is None or period is None:
            return None
        plan = Plan(
            calls=[self.query([ind.name], period, Scope(chosen, {"department": [chosen]}, "department"))]
        )
        said = self._say_department(chosen)
        return Item(
            said, plan, (Turn(question=first.question, plan=first.plan),), ("multi-turn", "follow:clarified")
        )

    def _parse_back(self, question: str) -> tuple[Indicator | None, Period | None]:
        # the generator wrote the question, so the longest name and period words in it are its own
        labels = sorted(
            ((label, i) for i in self.indicators for label in (i.name, *i.aliases)), key=lambda x: -len(x[0])
        )
        ind = next((i for label, i in labels if label in question), None)
        words = sorted(((w, p) for p in self.plain_periods for w in p.words if w), key=lambda x: -len(x[0]))
        period = next((p for w, p in words if w in question), self.ytd)
        return ind, period
