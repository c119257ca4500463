"""Calendar arithmetic for indicator periods: comparisons, time buckets, month/day splits."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def overlap(self, other: Period) -> Period | None:
        lo, hi = max(self.start, other.start), min(self.end, other.end)
        return Period(lo, hi) if lo <= hi else None

    def __str__(self) -> str:
        return f"{self.start.isoformat()}~{self.end.isoformat()}"


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def is_month_end(d: date) -> bool:
    return d == month_end(d)


def shift_months(p: Period, months: int) -> Period:
    """Shift both ends by whole months; an end on a month's last day stays on the last day."""
    start = p.start + relativedelta(months=months)
    end = p.end + relativedelta(months=months)
    if is_month_end(p.end):
        end = month_end(end)
    return Period(start, end)


def year_over_year(p: Period) -> Period:
    """同比: the same dates one calendar year earlier (29 Feb maps to 28 Feb)."""
    return shift_months(p, -12)


def previous_period(p: Period) -> Period:
    """环比 without time grouping: the period of equal length right before.

    Whole calendar months (a month, a quarter, a year, 1-6月) step back by the same number of
    months, so that 2023Q2 compares with 2023Q1 although the day counts differ; any other period
    steps back by its number of days.
    """
    if p.start.day == 1 and is_month_end(p.end):
        months = (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1
        return shift_months(p, -months)
    return Period(p.start - timedelta(days=p.days), p.start - timedelta(days=1))


GRAIN_MONTHS = {"year": 12, "quarter": 3, "month": 1}


def previous_bucket_period(p: Period, grain: str) -> Period:
    """环比 with time grouping: every bucket is compared with the bucket one grain earlier."""
    if grain == "day":
        return Period(p.start - timedelta(days=1), p.end - timedelta(days=1))
    return shift_months(p, -GRAIN_MONTHS[grain])


def bucket_label(grain: str, year: int, sub: int | None = None, day: date | None = None) -> str:
    if grain == "year":
        return f"{year}"
    if grain == "quarter":
        return f"{year}Q{sub}"
    if grain == "month":
        return f"{year}-{sub:02d}"
    assert day is not None
    return day.isoformat()


def bucket_period(grain: str, label: str) -> Period:
    """The calendar span of a bucket label such as 2023, 2023Q1, 2023-03 or 2023-03-05."""
    if grain == "year":
        y = int(label)
        return Period(date(y, 1, 1), date(y, 12, 31))
    if grain == "quarter":
        y, q = int(label[:4]), int(label[5:])
        first = date(y, 3 * q - 2, 1)
        return Period(first, month_end(first + relativedelta(months=2)))
    if grain == "month":
        first = date(int(label[:4]), int(label[5:7]), 1)
        return Period(first, month_end(first))
    d = date.fromisoformat(label)
    return Period(d, d)


def shift_label(grain: str, label: str, kind: str) -> str:
    """The bucket a row is compared with: 同比 one year back, 环比 one grain back."""
    span = bucket_period(grain, label)
    if grain == "day":
        prev = span.start - relativedelta(years=1) if kind == "yoy" else span.start - timedelta(days=1)
        return prev.isoformat()
    months = 12 if kind == "yoy" else GRAIN_MONTHS[grain]
    first = span.start - relativedelta(months=months)
    if grain == "year":
        return bucket_label(grain, first.year)
    if grain == "quarter":
        return bucket_label(grain, first.year, (first.month - 1) // 3 + 1)
    return bucket_label(grain, first.year, first.month)


def split_months(p: Period) -> tuple[Period | None, list[Period]]:
    """Split a period into whole months (read from monthly tables) and edge days (daily tables)."""
    first_full = p.start if p.start.day == 1 else month_end(p.start) + timedelta(days=1)
    last_full = p.end if is_month_end(p.end) else p.end.replace(day=1) - timedelta(days=1)
    if first_full > last_full:
        return None, [p]
    edges = []
    if p.start < first_full:
        edges.append(Period(p.start, first_full - timedelta(days=1)))
    if last_full < p.end:
        edges.append(Period(last_full + timedelta(days=1), p.end))
    return Period(first_full, last_full), edges
