from datetime import date

import pytest

from indicators.query.periods import (
    Period,
    bucket_period,
    previous_bucket_period,
    previous_period,
    shift_label,
    split_months,
    year_over_year,
)


def p(a: str, b: str) -> Period:
    return Period(date.fromisoformat(a), date.fromisoformat(b))


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (p("2023-01-01", "2023-09-08"), p("2022-01-01", "2022-09-08")),
        (p("2024-02-01", "2024-02-29"), p("2023-02-01", "2023-02-28")),  # leap month end
        (p("2024-02-29", "2024-02-29"), p("2023-02-28", "2023-02-28")),
        (p("2023-02-01", "2023-02-28"), p("2022-02-01", "2022-02-28")),
        (p("2021-11-15", "2022-02-10"), p("2020-11-15", "2021-02-10")),
    ],
)
def test_year_over_year(period: Period, expected: Period) -> None:
    assert year_over_year(period) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (p("2023-04-01", "2023-06-30"), p("2023-01-01", "2023-03-31")),  # quarter -> previous quarter
        (p("2023-03-01", "2023-03-31"), p("2023-02-01", "2023-02-28")),
        (p("2023-01-01", "2023-12-31"), p("2022-01-01", "2022-12-31")),
        (p("2023-01-01", "2023-01-01"), p("2022-12-31", "2022-12-31")),
        (p("2023-03-10", "2023-03-19"), p("2023-02-28", "2023-03-09")),  # 10 days -> 10 days before
    ],
)
def test_previous_period(period: Period, expected: Period) -> None:
    assert previous_period(period) == expected


def test_previous_bucket_period_keeps_month_ends() -> None:
    assert previous_bucket_period(p("2023-01-01", "2023-04-30"), "month") == p("2022-12-01", "2023-03-31")
    assert previous_bucket_period(p("2023-01-01", "2023-09-08"), "month") == p("2022-12-01", "2023-08-08")
    assert previous_bucket_period(p("2023-01-01", "2023-06-30"), "quarter") == p("2022-10-01", "2023-03-31")


@pytest.mark.parametrize(
    ("grain", "label", "kind", "expected"),
    [
        ("month", "2023-01", "mom", "2022-12"),
        ("month", "2023-03", "yoy", "2022-03"),
        ("quarter", "2023Q1", "mom", "2022Q4"),
        ("quarter", "2023Q3", "yoy", "2022Q3"),
        ("year", "2023", "yoy", "2022"),
        ("day", "2024-02-29", "yoy", "2023-02-28"),
        ("day", "2023-03-01", "mom", "2023-02-28"),
    ],
)
def test_shift_label(grain: str, label: str, kind: str, expected: str) -> None:
    assert shift_label(grain, label, kind) == expected


def test_bucket_period() -> None:
    assert bucket_period("quarter", "2024Q1") == p("2024-01-01", "2024-03-31")
    assert bucket_period("month", "2024-02") == p("2024-02-01", "2024-02-29")


def test_split_months_uses_whole_months_and_edge_days() -> None:
    months, edges = split_months(p("2022-11-15", "2023-02-10"))
    assert months == p("2022-12-01", "2023-01-31")
    assert edges == [p("2022-11-15", "2022-11-30"), p("2023-02-01", "2023-02-10")]
    assert split_months(p("2023-03-05", "2023-03-20")) == (None, [p("2023-03-05", "2023-03-20")])
    assert split_months(p("2023-01-01", "2023-12-31")) == (p("2023-01-01", "2023-12-31"), [])
