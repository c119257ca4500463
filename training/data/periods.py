"""The time expressions of docs/question-conventions.md, resolved against a warehouse's dates.

Each entry pairs the words a user may write with the period the conventions give them, so a gold
plan's dates are right by construction. Everything is computed from the as-of date and the data's
start: another warehouse gets its own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CHINESE_NUMBERS = "一二三四"


@dataclass(frozen=True)
class Period:
    words: tuple[str, ...]  # "" = no time given
    start: date
    end: date
    group_by: tuple[str, ...] = ()  # the breakdown the expression implies (近三年 → year)
    tag: str = ""
    english: tuple[str, ...] = ()


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def periods(as_of: date, data_start: date) -> list[Period]:
    y, cut = as_of.year, as_of
    month_start = as_of.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    q_start = date(y, 3 * ((as_of.month - 1) // 3) + 1, 1)
    last_q_end = q_start - timedelta(days=1)
    last_q_start = date(last_q_end.year, last_q_end.month - 2, 1)
    twelve = date(y - 1, as_of.month, 1) + timedelta(days=32)
    six = date(y, as_of.month, 1) - timedelta(days=1)
    for _ in range(4):
        six = six.replace(day=1) - timedelta(days=1)
    six = six.replace(day=1)

    found = [
        Period(
            ("", "今年", "本年", "本年度", "今年以来", "年初至今"),
            date(y, 1, 1),
            cut,
            tag="今年",
            english=("this year", "year to date"),
        ),
        Period(
            ("去年", "上年", "上一年"),
            date(y - 1, 1, 1),
            date(y - 1, 12, 31),
            tag="去年",
            english=("last year",),
        ),
        Period(("前年",), date(y - 2, 1, 1), date(y - 2, 12, 31), tag="前年"),
        Period(("本月", "这个月"), month_start, cut, tag="本月", english=("this month",)),
        Period(
            ("上个月", "上月"),
            last_month_end.replace(day=1),
            last_month_end,
            tag="上月",
            english=("last month",),
        ),
        Period(("本季度",), q_start, cut, tag="本季度", english=("this quarter",)),
        Period(("上季度", "上个季度"), last_q_start, last_q_end, tag="上季度", english=("last quarter",)),
        Period(("上半年", "今年上半年"), date(y, 1, 1), min(date(y, 6, 30), cut), tag="上半年"),
        Period(("去年上半年",), date(y - 1, 1, 1), date(y - 1, 6, 30), tag="去年上半年"),
        Period(("去年下半年",), date(y - 1, 7, 1), date(y - 1, 12, 31), tag="去年下半年"),
        Period(("去年前三季度",), date(y - 1, 1, 1), date(y - 1, 9, 30), tag="去年前三季度"),
        Period(("去年同期",), date(y - 1, 1, 1), as_of.replace(year=y - 1), tag="去年同期"),
        Period(("近三年", "最近三年", "近3年"), date(y - 2, 1, 1), cut, ("year",), tag="近三年"),
        Period(("近12个月", "最近一年按月"), twelve.replace(day=1), cut, ("month",), tag="近12个月"),
        Period(("近半年", "近6个月"), six, cut, ("month",), tag="近半年"),
        Period(("历年", "各年度"), data_start, cut, ("year",), tag="历年"),
    ]
    for year in range(data_start.year, y):
        found.append(
            Period(
                (f"{year}年", f"{year}年度", f"{year % 100}年"),
                date(year, 1, 1),
                date(year, 12, 31),
                tag="年份",
                english=(f"in {year}",),
            )
        )
        for q in range(1, 5):
            start = date(year, 3 * q - 2, 1)
            words = (
                f"{year}年第{CHINESE_NUMBERS[q - 1]}季度",
                f"{year}年{CHINESE_NUMBERS[q - 1]}季度",
                f"{year}年Q{q}",
            )
            found.append(Period(words, start, _month_end(year, 3 * q), tag="某年季度"))
    for month in range(1, as_of.month):
        found.append(
            Period(
                (f"{y}年{month}月", f"今年{month}月", f"{month}月份"),
                date(y, month, 1),
                _month_end(y, month),
                tag="某月",
            )
        )
    for q in range(1, (as_of.month - 1) // 3 + 1):
        found.append(
            Period(
                (f"今年{CHINESE_NUMBERS[q - 1]}季度", f"{CHINESE_NUMBERS[q - 1]}季度"),
                date(y, 3 * q - 2, 1),
                _month_end(y, 3 * q),
                tag="今年季度",
            )
        )
    if as_of.month > 6:
        found.append(
            Period(
                (f"{y}年1-6月", f"{y}年1月至6月", "今年1到6月"), date(y, 1, 1), date(y, 6, 30), tag="月份范围"
            )
        )
    return found
