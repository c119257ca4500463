"""Day numbers and the demand calendar: weekdays, holidays, 春节, the 2020 COVID dip, growth.

Every date inside the generator is an ``int`` day number (days since 1970-01-01) so that whole
months of visits can be handled as numpy arrays; conversion to ``date`` happens only at the edges.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)

# 春节 (lunar new year's day). Demand is shaped by it for about a week either side.
SPRING_FESTIVAL = {
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
}
FIRST_YEAR, LAST_YEAR = 2017, 2026  # years the calendar can shape (the table reaches a year beyond)

# Clinic demand relative to a normal day, by offset from 春节: people avoid hospitals in the week
# before, almost nobody comes in the first days of the new year, then demand recovers.
_SF_OFFSETS = np.arange(-7, 8)
_SF_CLINIC = np.array([0.92, 0.88, 0.8, 0.7, 0.6, 0.45, 0.35, 0.2, 0.22, 0.28, 0.4, 0.55, 0.7, 0.85, 0.95])

# (month, day, length, clinic factor): 元旦, 劳动节, 国庆. Lunar holidays other than 春节 are left
# out; their effect on monthly figures is small.
_FIXED_HOLIDAYS = ((1, 1, 1, 0.55), (5, 1, 3, 0.55), (10, 1, 7, 0.45))

# COVID-19 in 2020: (date, clinic/outpatient factor, admissions factor), linear in between.
_COVID_KNOTS = (
    (date(2020, 1, 20), 1.0, 1.0),
    (date(2020, 2, 5), 0.25, 0.45),
    (date(2020, 2, 29), 0.35, 0.52),
    (date(2020, 3, 31), 0.6, 0.68),
    (date(2020, 4, 30), 0.75, 0.8),
    (date(2020, 6, 30), 0.85, 0.87),
    (date(2020, 9, 30), 0.92, 0.91),
    (date(2020, 12, 31), 0.95, 0.94),
    (date(2021, 3, 31), 1.0, 1.0),
)


def to_day(d: date) -> int:
    return (d - EPOCH).days


def from_day(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def day_span(first: date, last: date) -> np.ndarray:
    """Day numbers from ``first`` through ``last`` inclusive."""
    return np.arange(to_day(first), to_day(last) + 1, dtype=np.int64)


def month_spans(first: int, last: int) -> list[np.ndarray]:
    """Day numbers ``first``..``last`` cut at calendar month boundaries."""
    out, d = [], from_day(first)
    while to_day(d) <= last:
        following = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        out.append(np.arange(to_day(d), min(to_day(following) - 1, last) + 1, dtype=np.int64))
        d = following
    return out


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 … Sunday = 6 (day 0, 1970-01-01, was a Thursday)."""
    return (days + 3) % 7


def year_month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def fractional_year(days: np.ndarray) -> np.ndarray:
    """Calendar year as a real number (2019.5 is about 2019-07-02)."""
    return 1970.0 + np.asarray(days, dtype=np.float64) / 365.2425


def age_in_years(birth_days: np.ndarray, at_days: np.ndarray) -> np.ndarray:
    by, bm, bd = year_month_day(birth_days)
    ay, am, ad = year_month_day(at_days)
    before_birthday = (am * 100 + ad) < (bm * 100 + bd)
    return (ay - by - before_birthday).astype(np.int64)


def check_supported(start: date, as_of: date) -> None:
    """Raise ValueError naming the supported range when the calendar cannot shape the dates."""
    if start > as_of:
        raise ValueError(f"start {start} is after as_of {as_of}")
    if start.year < FIRST_YEAR + 1 or as_of.year > LAST_YEAR:
        raise ValueError(
            f"the demo calendar covers {FIRST_YEAR + 1}-01-01 to {LAST_YEAR}-12-31; got {start} to {as_of}"
        )


def spring_festival_factor(days: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Demand factor around 春节; ``strength`` < 1 softens the trough (emergencies still come)."""
    factor = np.ones(len(days))
    for sf in SPRING_FESTIVAL.values():
        offset = days - to_day(sf)
        near = np.abs(offset) <= 7
        factor[near] = 1.0 - strength * (1.0 - _SF_CLINIC[offset[near] + 7])
    return factor


def fixed_holiday_factor(days: np.ndarray, strength: float = 1.0) -> np.ndarray:
    _, month, day = year_month_day(days)
    factor = np.ones(len(days))
    for m, d, length, f in _FIXED_HOLIDAYS:
        hit = (month == m) & (day >= d) & (day < d + length)
        factor[hit] = 1.0 - strength * (1.0 - f)
    return factor


def covid_factor(days: np.ndarray, admissions: bool = False) -> np.ndarray:
    knots = np.array([to_day(k[0]) for k in _COVID_KNOTS], dtype=np.float64)
    values = np.array([k[2] if admissions else k[1] for k in _COVID_KNOTS])
    return np.interp(days.astype(np.float64), knots, values, left=1.0, right=1.0)


def growth(days: np.ndarray, rate: float) -> np.ndarray:
    """Compound growth, 1.0 in mid-2019."""
    return (1.0 + rate) ** (fractional_year(days) - 2019.5)


def winter_season(days: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """Per-day × per-department factor 1 + a·cos(phase), peaking in mid-January; mean 1 over a year.

    ``amplitude`` has one entry per department (negative: summer peak, e.g. 皮肤科).
    """
    phase = 2.0 * np.pi * (fractional_year(days) - np.floor(fractional_year(days)) - 0.04)
    return 1.0 + np.cos(phase)[:, None] * np.asarray(amplitude)[None, :]


# Weekday profiles (Monday first). Clinics run a reduced weekend service; emergencies do not
# drop at weekends; elective admissions are booked on weekdays.
_WEEKDAY = {
    "clinic": np.array([1.22, 1.12, 1.1, 1.08, 1.08, 0.6, 0.52]),
    "emergency": np.array([1.0, 0.97, 0.97, 0.97, 1.0, 1.05, 1.04]),
    "admission": np.array([1.3, 1.18, 1.12, 1.1, 1.0, 0.62, 0.68]),
}
# How strongly holidays reach each kind of demand (1 = the full clinic trough).
_HOLIDAY_STRENGTH = {"clinic": 1.0, "emergency": 0.25, "admission": 0.8}


def _raw_pattern(days: np.ndarray, kind: str) -> np.ndarray:
    strength = _HOLIDAY_STRENGTH[kind]
    return (
        _WEEKDAY[kind][weekday(days)]
        * spring_festival_factor(days, strength)
        * fixed_holiday_factor(days, strength)
    )


def demand_pattern(days: np.ndarray, kind: str) -> np.ndarray:
    """Weekday × holiday factor for ``kind`` (clinic / emergency / admission), divided by its mean
    over each whole calendar year so that a base rate stays the true yearly daily average."""
    out = _raw_pattern(days, kind)
    years = year_month_day(days)[0]
    for y in np.unique(years):
        whole = day_span(date(int(y), 1, 1), date(int(y), 12, 31))
        out[years == y] /= _raw_pattern(whole, kind).mean()
    return out
