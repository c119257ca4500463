"""The time expressions of docs/question-conventions.md, resolved against the demo as-of date."""

from datetime import date

import pytest

from serving.planner.timeexpr import resolve_period

A, S = date(2023, 9, 8), date(2019, 1, 1)


@pytest.mark.parametrize(
    ("text", "start", "end", "grain"),
    [
        ("今年", "2023-01-01", "2023-09-08", None),
        ("本年度", "2023-01-01", "2023-09-08", None),
        ("去年", "2022-01-01", "2022-12-31", None),
        ("前年", "2021-01-01", "2021-12-31", None),
        ("2021年", "2021-01-01", "2021-12-31", None),
        ("本月", "2023-09-01", "2023-09-08", None),
        ("上个月", "2023-08-01", "2023-08-31", None),
        ("3月份", "2023-03-01", "2023-03-31", None),
        ("12月", "2022-12-01", "2022-12-31", None),
        ("本季度", "2023-07-01", "2023-09-08", None),
        ("上季度", "2023-04-01", "2023-06-30", None),
        ("2022年第四季度", "2022-10-01", "2022-12-31", None),
        ("二〇二二年二季度", "2022-04-01", "2022-06-30", None),
        ("2022年q4", "2022-10-01", "2022-12-31", None),
        ("今年一季度", "2023-01-01", "2023-03-31", None),
        ("上半年", "2023-01-01", "2023-06-30", None),
        ("去年下半年", "2022-07-01", "2022-12-31", None),
        ("前三季度", "2023-01-01", "2023-09-08", None),
        ("去年前三季度", "2022-01-01", "2022-09-30", None),
        ("2023年1-6月", "2023-01-01", "2023-06-30", None),
        ("2022年5月至2023年2月", "2022-05-01", "2023-02-28", None),
        ("近三年", "2021-01-01", "2023-09-08", "year"),
        ("近12个月", "2022-10-01", "2023-09-08", "month"),
        ("近半年", "2023-04-01", "2023-09-08", "month"),
        ("历年", "2019-01-01", "2023-09-08", "year"),
        ("去年同期", "2022-01-01", "2022-09-08", None),
    ],
)
def test_conventions(text: str, start: str, end: str, grain: str | None) -> None:
    period = resolve_period(text, A, S)
    assert period is not None
    assert (period.start.isoformat(), period.end.isoformat(), period.grain) == (start, end, grain)


@pytest.mark.parametrize("text", ["药占比是多少", "较去年同期增长多少", "与去年同期相比"])
def test_no_period(text: str) -> None:
    assert resolve_period(text, A, S) is None  # "较去年同期" names the comparison, not the period
