"""Expected daily volumes per department × campus unit: base × growth × weekday and holidays ×
COVID × the department's season × the unit's share."""

from __future__ import annotations

import numpy as np

from indicators.demo.calendar import covid_factor, demand_pattern, growth, winter_season
from indicators.demo.dimensions import DEPARTMENTS
from indicators.demo.hospital import Units

_SEASON = np.array([d.season for d in DEPARTMENTS])


def unit_rates(
    days: np.ndarray, units: Units, share: np.ndarray, per_day: float, growth_rate: float, kind: str,
    covid_strength: float = 1.0,
) -> np.ndarray:  # fmt: skip
    """[day, unit] expected counts; ``covid_strength`` < 1 softens the 2020 dip (emergencies)."""
    covid = 1.0 - covid_strength * (1.0 - covid_factor(days, admissions=kind == "admission"))
    daily = per_day * growth(days, growth_rate) * demand_pattern(days, kind) * covid
    return daily[:, None] * winter_season(days, _SEASON[units.dept]) * share[None, :]
