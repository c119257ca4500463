"""The time mapper: every time expression of the question, resolved by the conventions' resolver."""

from __future__ import annotations

import re
from datetime import date

from serving.planner import patterns as P
from serving.planner.context import TimeExpression, Understanding
from serving.planner.timeexpr import resolve_period

_CLAUSE = re.compile(r"[，,；;。]|以及|另外|同时|和|与|及")


class TimeMapper:
    name = "time"

    def __init__(self, as_of: date, data_start: date) -> None:
        self.as_of = as_of
        self.data_start = data_start

    def map(self, ctx: Understanding) -> None:
        # clause by clause: in 今年的药占比和去年的耗占比, 和去年 starts a clause, it is no comparison
        text = P.english_periods(ctx.text)
        found: list[TimeExpression] = []
        start = 0
        for sep in [*_CLAUSE.finditer(text), None]:
            end = sep.start() if sep else len(text)
            found += [t for t in find_periods(text[start:end], self.as_of, self.data_start) if t not in found]
            start = sep.end() if sep else start
        ctx.times = found


def find_periods(text: str, as_of: date, data_start: date, limit: int = 4) -> list[TimeExpression]:
    """The time expressions in reading order: the first is resolved, blanked out, and so on."""
    found: list[tuple[int, TimeExpression]] = []
    rest = text
    for _ in range(limit):
        period = resolve_period(rest, as_of, data_start)
        if period is None or not period.text:
            break
        at = rest.find(period.text)
        found.append(
            (at, TimeExpression(text=period.text, start=period.start, end=period.end, grain=period.grain))
        )
        rest = rest[:at] + " " * len(period.text) + rest[at + len(period.text) :] if at >= 0 else rest
        if at < 0:
            break
    return [t for _, t in sorted(found, key=lambda pair: pair[0])]
