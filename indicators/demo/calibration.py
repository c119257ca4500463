"""Calibration targets: what the whole demo hospital should look like, year by year.

Levels follow facts.md §5 for a tertiary public hospital (三级公立): about 330–360 yuan per
outpatient visit, 13,000–14,000 yuan per discharged stay, average LOS falling from 9.0 days, bed
occupancy above 90 % outside the COVID year, and drug shares falling under 集采 and the 药占比
policy. The generator draws encounter budgets from these targets, so yearly figures land on them
up to sampling noise; the values between mid-years are linearly interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from indicators.demo.calendar import fractional_year


@dataclass(frozen=True)
class YearTargets:
    outpatient_cost: float  # 门急诊次均费用 (元)
    inpatient_cost: float  # 住院次均费用 (元)
    outpatient_drug_share: float  # (F13+F14+F15) ÷ outpatient fees
    inpatient_drug_share: float  # (F13+F14+F15) ÷ inpatient fees
    los: float  # 出院者平均住院日
    antibiotic_intensity: float  # 抗菌药物使用强度, DDDs per 100 bed-days
    occupancy: float  # 病床使用率 outside the COVID dip


# Overall 药占比 comes out at about 42 % (2019) → 36 % (2023): outpatient revenue is about a
# quarter of the total, so the outpatient share sits ~10 points above it and inpatient ~3 below.
TARGETS: dict[int, YearTargets] = {
    2019: YearTargets(330.0, 13300.0, 0.515, 0.39, 9.0, 42.0, 0.92),
    2020: YearTargets(348.0, 13900.0, 0.50, 0.38, 8.9, 41.0, 0.92),
    2021: YearTargets(345.0, 13700.0, 0.485, 0.365, 8.6, 39.0, 0.92),
    2022: YearTargets(352.0, 13800.0, 0.47, 0.345, 8.4, 37.5, 0.925),
    2023: YearTargets(360.0, 13600.0, 0.455, 0.33, 8.2, 36.0, 0.925),
}
# Yearly change used beyond the table (a later --as-of): costs creep up, shares and LOS drift down.
_TREND = YearTargets(7.0, 50.0, -0.008, -0.006, -0.1, -0.8, 0.0)
_FLOOR = YearTargets(0.0, 0.0, 0.3, 0.22, 7.0, 25.0, 0.85)


def targets_for(year: int) -> YearTargets:
    first, last = min(TARGETS), max(TARGETS)
    if year <= last:
        return TARGETS[max(year, first)]
    base, n = TARGETS[last], year - last
    return YearTargets(
        **{
            f.name: max(getattr(base, f.name) + n * getattr(_TREND, f.name), getattr(_FLOOR, f.name))
            for f in fields(YearTargets)
        }
    )


def target_series(days: np.ndarray, name: str) -> np.ndarray:
    """Daily value of one target, interpolated between mid-year anchors."""
    years = np.arange(2016, 2028)
    anchors = np.array([getattr(targets_for(int(y)), name) for y in years])
    return np.interp(fractional_year(days), years + 0.5, anchors)


# Volumes at scale 1 in mid-2019, yearly growth, and the insurance fund's share of a fee.
CLINIC_VISITS_PER_DAY = 712.0
EMERGENCY_VISITS_PER_DAY = 70.0
OUTPATIENT_GROWTH = 0.04
ADMISSIONS_PER_DAY = 57.5
INPATIENT_GROWTH = 0.035
