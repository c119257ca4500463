"""床位日报: the midnight census of each ward and the beds it had open.

The census is computed from the stays exactly as the contract defines it (admit_date ≤ day <
discharge_date, or not discharged). Open beds are set once a year per ward from that year's
census and the year's occupancy target, as a hospital adjusts its beds to demand; in the COVID
year the beds stay at their normal level, so occupancy dips. A ward that is full opens 加床
(extra beds) on most such days, and those count as open that day; on the other days the census
exceeds the open beds (patients in the corridor), which happens on a few percent of ward-days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.calendar import covid_factor, day_span, from_day, year_month_day
from indicators.demo.calibration import targets_for
from indicators.demo.context import Context
from indicators.demo.dimensions import DEPARTMENTS
from indicators.demo.inpatient import Stays
from indicators.demo.sampling import BEDS, rng_for

_OCCUPANCY = np.array([d.occupancy for d in DEPARTMENTS])
EXTRA_BEDS_OPENED = 0.75  # share of over-full ward-days on which 加床 are opened and counted


@dataclass(frozen=True)
class BedDays:
    days: np.ndarray
    census: np.ndarray  # [ward, day]
    open_beds: np.ndarray  # [ward, day]

    regular_beds: np.ndarray  # [ward, day] open beds without 加床

    @property
    def approved_beds(self) -> np.ndarray:
        return self.regular_beds.max(axis=1)


def census(ctx: Context, stays: Stays) -> np.ndarray:
    n_days = ctx.as_of - ctx.start + 1
    n_wards = len(ctx.wards.code)
    first = np.maximum(stays.admit, ctx.start) - ctx.start
    last = np.minimum(stays.discharge, ctx.as_of + 1) - ctx.start  # exclusive
    width = n_days + 1
    delta = np.bincount(stays.ward * width + first, minlength=n_wards * width)
    delta -= np.bincount(stays.ward * width + last, minlength=n_wards * width)
    return np.cumsum(delta.reshape(n_wards, width), axis=1)[:, :n_days]


def _beds_for_target(census: np.ndarray, extra: np.ndarray, target: float) -> int:
    """Regular beds of one ward-year whose occupancy, 加床 included, is closest to ``target``."""
    guess = census.mean() / target
    beds = np.arange(max(1, int(guess * 0.8)), int(guess * 1.3) + 2)[:, None]
    opened = np.where(extra[None, :] & (census[None, :] > beds), census[None, :], beds)
    occupancy = census.sum() / opened.sum(axis=1)
    return int(beds[np.argmin(np.abs(occupancy - target)), 0])


def bed_days(ctx: Context, stays: Stays) -> BedDays:
    days = day_span(from_day(ctx.start), from_day(ctx.as_of))
    occupied = census(ctx, stays)
    ward_dept = ctx.units.dept[ctx.wards.unit]
    relative = _OCCUPANCY[ward_dept] / np.average(_OCCUPANCY[ward_dept], weights=occupied.sum(axis=1) + 1)
    extra = rng_for(ctx.seed, BEDS).random(occupied.shape) < EXTRA_BEDS_OPENED
    years = year_month_day(days)[0]
    regular = np.zeros_like(occupied)
    for y in np.unique(years):
        cols = years == y
        # COVID: beds stay about as in a normal year, so occupancy falls with the missing demand.
        target = targets_for(int(y)).occupancy * covid_factor(days[cols], admissions=True).mean() ** 0.85
        for w in range(len(regular)):
            regular[w, cols] = _beds_for_target(occupied[w, cols], extra[w, cols], target * relative[w])
    open_beds = np.where(extra & (occupied > regular), occupied, regular)
    return BedDays(days, occupied, open_beds, regular)


def bed_day_columns(ctx: Context, beds: BedDays) -> dict[str, np.ndarray]:
    """Rows ordered by date, then ward."""
    n_wards, n_days = beds.census.shape
    ward = np.tile(np.arange(n_wards), n_days)
    unit = ctx.wards.unit[ward]
    return {
        "stat_date": np.repeat(beds.days, n_wards),
        "campus": ctx.units.campus[unit],
        "dept": ctx.units.dept[unit],
        "ward": ward,
        "open_beds": beds.open_beds.T.ravel(),
        "occupied_beds": beds.census.T.ravel(),
    }
