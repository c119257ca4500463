"""The time expressions of docs/question-conventions.md, resolved against a warehouse's dates.

Each entry pairs the words a user may write with the period the conventions give them. The dates
come from the one implementation of the conventions, `serving.planner.timeexpr.resolve_period`
(itself tested against hand-written gold plans), so training data, the planners and the prompt
cannot disagree. Another warehouse (as-of date, data start) gets its own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from serving.planner.timeexpr import resolve_period

CHINESE_NUMBERS = "一二三四"


@dataclass(frozen=True)
class Period:
    words: tuple[str, ...]  # "" = no time given
    start: date
    end: date
    group_by: tuple[str, ...] = ()  # the breakdown the expression implies (近三年 → year)
    tag: str = ""
    english: tuple[str, ...] = ()


def periods(as_of: date, data_start: date) -> list[Period]:
    y = as_of.year

    def period(words: tuple[str, ...], tag: str, english: tuple[str, ...] = ()) -> Period:
        said = next((w for w in words if w), "今年")  # "" = no time given, which means this year
        found = resolve_period(said, as_of, data_start)
        if found is None:
            raise ValueError(f"the time parser does not read {said!r}")
        group_by = (found.grain,) if found.grain else ()
        return Period(words, found.start, found.end, group_by, tag, english)

    found = [
        period(("", "今年", "本年", "本年度", "今年以来", "年初至今"), "今年", ("this year", "year to date")),
        period(("去年", "上年", "上一年"), "去年", ("last year",)),
        period(("前年",), "前年"),
        period(("本月", "这个月"), "本月", ("this month",)),
        period(("上个月", "上月"), "上月", ("last month",)),
        period(("本季度",), "本季度", ("this quarter",)),
        period(("上季度", "上个季度"), "上季度", ("last quarter",)),
        period(("上半年", "今年上半年"), "上半年"),
        period(("去年上半年",), "去年上半年"),
        period(("去年下半年",), "去年下半年"),
        period(("去年前三季度",), "去年前三季度"),
        period(("去年同期",), "去年同期"),
        period(("近三年", "最近三年", "近3年"), "近三年"),
        period(("近12个月", "最近一年按月"), "近12个月"),
        period(("近半年", "近6个月"), "近半年"),
        period(("历年", "各年度"), "历年"),
    ]
    for year in range(data_start.year, y):
        found.append(period((f"{year}年", f"{year}年度", f"{year % 100}年"), "年份", (f"in {year}",)))
        for q in range(1, 5):
            n = CHINESE_NUMBERS[q - 1]
            found.append(period((f"{year}年第{n}季度", f"{year}年{n}季度", f"{year}年Q{q}"), "某年季度"))
    for month in range(1, as_of.month):
        found.append(period((f"{y}年{month}月", f"今年{month}月", f"{month}月份"), "某月"))
    for q in range(1, (as_of.month - 1) // 3 + 1):
        n = CHINESE_NUMBERS[q - 1]
        found.append(period((f"今年{n}季度", f"{n}季度"), "今年季度"))
    if as_of.month > 6:
        found.append(period((f"{y}年1-6月", f"{y}年1月至6月", "今年1到6月"), "月份范围"))
    return found
