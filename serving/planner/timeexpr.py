"""Chinese time expressions → a concrete period, relative to the warehouse's as-of date.

The meanings are the project's conventions (docs/question-conventions.md): a planner and the gold
plans of the evaluation agree on them. Chinese numerals (二〇二二年, 三季度, 近三年) are read with
cn2an; the patterns themselves are the conventions table, most specific first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import cn2an
from dateutil.relativedelta import relativedelta

_N = r"[0-9〇零一二两三四五六七八九十]+"
_SEP = r"(?:至|到|-|~|—|－|～)"
# "比去年(同期)", "较上季度", "和去年比" name the comparison (同比, 环比), not the period; "药占比去年"
# is not one of them
_COMPARISON = re.compile(
    r"(?:(?<!占)比|较|与|和|跟|相比|对比)(?:上年|去年|上一?个?季度|上一?个?月|上期)(?:同期)?"
)


def _year_pattern(g: str) -> str:
    """2022年 / 二〇二二年 / 22年度 / 今年 / 去年 …, captured as ``g`` (digits) or ``g``rel (words)."""
    return rf"(?:(?P<{g}>\d{{4}}|[〇零一二三四五六七八九]{{4}}|\d{{2}})年度?|(?P<{g}rel>今年|本年度?|去年|上一?年|前年))"


Y1, Y2 = _year_pattern("y"), _year_pattern("y2")


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    grain: str | None  # a breakdown the expression implies: 近三年 → year, 近12个月 → month
    text: str  # the words that said it, so the rest of the question can be read without them


def number(text: str) -> int:
    """2 / 二 / 两 / 十二 / 二〇二二 → int."""
    if text.isdigit():
        return int(text)
    return int(cn2an.cn2an(text, "smart"))


def _year(m: re.Match, group: str, as_of: date) -> int | None:
    rel = m.groupdict().get(group + "rel")
    if rel:
        return (
            as_of.year
            - {"今年": 0, "本年": 0, "本年度": 0, "去年": 1, "上年": 1, "上一年": 1, "前年": 2}[rel]
        )
    raw = m.groupdict().get(group)
    if raw is None:
        return None
    value = number(raw)
    return 2000 + value if value < 100 else value


def _month_end(year: int, month: int) -> date:
    return date(year, month, 1) + relativedelta(months=1) - timedelta(days=1)


def _quarter(year: int, q: int) -> tuple[date, date]:
    return date(year, 3 * q - 2, 1), _month_end(year, 3 * q)


def _recent_year(month: int, as_of: date) -> int:
    """A month named without a year: this year's, unless it has not begun yet."""
    return as_of.year if month <= as_of.month else as_of.year - 1


def resolve_period(text: str, as_of: date, data_start: date) -> Period | None:
    """The first time expression in ``text`` as a period cut at ``as_of``; None when there is none."""
    text = _COMPARISON.sub(" ", unicodedata.normalize("NFKC", text))
    for pattern, build in _RULES:
        m = pattern.search(text)
        if m:
            found = build(m, as_of, data_start)
            if found is None:
                continue
            start, end, grain = found
            return Period(start=max(start, data_start), end=min(end, as_of), grain=grain, text=m.group(0))
    return None


def _month_range(m: re.Match, as_of: date, _: date):
    m1, m2 = number(m["m1"]), number(m["m2"])
    if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
        return None
    y1 = _year(m, "y", as_of) or as_of.year
    y2 = _year(m, "y2", as_of) or (y1 if m2 >= m1 else y1 + 1)
    return date(y1, m1, 1), _month_end(y2, m2), None


def _any_quarter(m: re.Match, as_of: date, data_start: date):
    q = m["q"] or m["qq"]
    year = _year(m, "y", as_of) or as_of.year
    value = number(q)
    if not 1 <= value <= 4:
        return None
    return (*_quarter(year, value), None)


def _half(m: re.Match, as_of: date, _: date):
    year = _year(m, "y", as_of) or as_of.year
    part = m["part"]
    if part == "上半年":
        return date(year, 1, 1), date(year, 6, 30), None
    if part == "下半年":
        return date(year, 7, 1), date(year, 12, 31), None
    return date(year, 1, 1), date(year, 9, 30), None  # 前三季度


def _this_quarter(m: re.Match, as_of: date, _: date):
    q = (as_of.month - 1) // 3 + 1
    if m["which"] in ("上", "上个", "上一"):
        start = _quarter(as_of.year, q)[0] - relativedelta(months=3)
        return start, start + relativedelta(months=3) - timedelta(days=1), None
    return (*_quarter(as_of.year, q), None)


def _month(m: re.Match, as_of: date, _: date):
    month = number(m["m"])
    if not 1 <= month <= 12:
        return None
    year = _year(m, "y", as_of) or _recent_year(month, as_of)
    return date(year, month, 1), _month_end(year, month), None


def _this_month(m: re.Match, as_of: date, _: date):
    first = as_of.replace(day=1)
    if m["which"] in ("上", "上个", "上一个"):
        first -= relativedelta(months=1)
    return first, _month_end(first.year, first.month), None


def _recent_years(m: re.Match, as_of: date, _: date):
    n = number(m["n"])
    if n == 1:  # 近一年 means the last twelve months, by month
        return as_of.replace(day=1) - relativedelta(months=11), as_of, "month"
    return date(as_of.year - n + 1, 1, 1), as_of, "year"


def _recent_months(m: re.Match, as_of: date, _: date):
    n = 6 if m.group(0).endswith("半年") else number(m["n"])
    return as_of.replace(day=1) - relativedelta(months=n - 1), as_of, "month"


def _all_years(m: re.Match, as_of: date, data_start: date):
    return data_start, as_of, "year"


def _same_period_last_year(m: re.Match, as_of: date, _: date):
    return date(as_of.year - 1, 1, 1), as_of - relativedelta(years=1), None


def _whole_year(m: re.Match, as_of: date, _: date):
    year = _year(m, "y", as_of)
    if year is None:
        year = as_of.year
    return date(year, 1, 1), date(year, 12, 31), None


def _year_range(m: re.Match, as_of: date, _: date):
    first, last = _year(m, "y", as_of), _year(m, "y2", as_of)
    if first is None or last is None or last < first:
        return None
    return date(first, 1, 1), date(last, 12, 31), None


def _iso_range(m: re.Match, as_of: date, _: date):
    try:
        return date.fromisoformat(m["a"]), date.fromisoformat(m["b"]), None
    except ValueError:
        return None


_RULES = [
    (re.compile(r"(?P<a>\d{4}-\d{2}-\d{2})\s*" + _SEP + r"\s*(?P<b>\d{4}-\d{2}-\d{2})"), _iso_range),
    (re.compile(rf"{Y1}{_SEP}{Y2}(?!\d|[一二三四五六七八九十]+月)"), _year_range),
    (re.compile(rf"{Y1}?(?P<m1>{_N})月?份?{_SEP}{Y2}?(?P<m2>{_N})月份?"), _month_range),
    (re.compile(rf"{Y1}?(?P<part>上半年|下半年|前三季度)"), _half),
    (re.compile(rf"{Y1}?(?:第?(?P<q>[1-4一二三四])季度|[Qq](?P<qq>[1-4]))"), _any_quarter),
    (re.compile(r"(?P<which>本|这个|当|上个|上一|上)季度"), _this_quarter),
    (re.compile(r"(?P<which>本|这个|当|上个|上一个|上)月(?!份)"), _this_month),
    (re.compile(rf"{Y1}?(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月份?"), _month),
    (re.compile(rf"(?:近|最近|过去)(?P<n>{_N})个?年"), _recent_years),
    (re.compile(rf"(?:近|最近|过去)(?:(?P<n>{_N})个月|半年)"), _recent_months),
    (re.compile(r"历年|每年|各年度?|逐年|历史各年"), _all_years),
    (re.compile(r"(?<![比较与和同])去年同期"), _same_period_last_year),
    (re.compile(rf"{Y1}(?:以来)?|年初至今|今年以来"), _whole_year),
]
