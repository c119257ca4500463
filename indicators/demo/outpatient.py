"""门急诊: visits and their fee lines, one calendar month per call.

A visit's budget is drawn around the year's cost-per-visit target (calibration.py) scaled by
its department's cost level; the drug part of it follows the year's drug share scaled by the
department's drug level. Registration (挂号/诊察) is one fixed line by the doctor's title.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.calibration import (
    CLINIC_VISITS_PER_DAY,
    EMERGENCY_VISITS_PER_DAY,
    OUTPATIENT_GROWTH,
    target_series,
)
from indicators.demo.charge_items import ITEM_BY_NAME
from indicators.demo.context import Context
from indicators.demo.dimensions import DEPARTMENTS
from indicators.demo.fees import Lines, fixed_lines, flexible_lines
from indicators.demo.sampling import bounded_normal, expand_counts, lognormal_mean1
from indicators.demo.volumes import unit_rates

MAX_UNITS = 6.0  # a line holds at most this many times its class's typical quantity
EMERGENCY_COST = 1.3  # an emergency visit costs more than a clinic visit of the same department
_AGE = np.array([d.age for d in DEPARTMENTS])
_MALE = np.array([d.male for d in DEPARTMENTS])
_COST = np.array([d.cost for d in DEPARTMENTS])
_DRUG = np.array([d.drug for d in DEPARTMENTS])
_HAS_DRUG = np.clip(0.35 + 0.4 * _DRUG, 0.3, 0.95)  # share of visits with a prescription
_REGISTRATION = ("主任医师门诊诊察费", "副主任医师门诊诊察费", "普通门诊诊察费", "普通门诊诊察费")


@dataclass
class OutpatientMonth:
    day: np.ndarray  # per visit
    emergency: np.ndarray
    unit: np.ndarray
    doctor: np.ndarray
    patient: np.ndarray
    age: np.ndarray
    insurance: np.ndarray
    lines: Lines  # enc = visit index within the month


def _mix_norms(ctx: Context) -> tuple[float, float]:
    """Mean cost level and revenue-weighted drug level of the visit mix (so that targets hold)."""
    u = ctx.units
    w_em = EMERGENCY_VISITS_PER_DAY / (CLINIC_VISITS_PER_DAY + EMERGENCY_VISITS_PER_DAY)
    weight = np.r_[(1 - w_em) * u.clinic, w_em * u.emergency]
    cost = np.r_[_COST[u.dept], EMERGENCY_COST * _COST[u.dept]]
    drug = np.r_[_DRUG[u.dept], _DRUG[u.dept]]
    cost_norm = float((weight * cost).sum())
    return cost_norm, float((weight * cost * drug).sum() / cost_norm)


def daily_rates(ctx: Context, days: np.ndarray) -> np.ndarray:
    """[day, 2 × units] expected visits: clinic units first, then emergency units."""
    u = ctx.units
    clinic = unit_rates(days, u, u.clinic, CLINIC_VISITS_PER_DAY * ctx.scale, OUTPATIENT_GROWTH, "clinic")
    emergency = unit_rates(
        days, u, u.emergency, EMERGENCY_VISITS_PER_DAY * ctx.scale, OUTPATIENT_GROWTH, "emergency", 0.5
    )
    return np.hstack([clinic, emergency])


def outpatient_month(ctx: Context, days: np.ndarray, rng: np.random.Generator) -> OutpatientMonth:
    n_units = len(ctx.units)
    cell = expand_counts(rng.poisson(daily_rates(ctx, days)))
    day = days[cell // (2 * n_units)]
    emergency = (cell % (2 * n_units)) >= n_units
    unit = cell % n_units
    dept = ctx.units.dept[unit]
    n = len(day)

    doctor = ctx.staff.outpatient.sample(unit, rng)
    a = _AGE[dept]
    age = bounded_normal(rng, a[:, 0], a[:, 1], a[:, 2], a[:, 3] + 0.999)
    male = rng.random(n) < _MALE[dept]
    patient, exact_age = ctx.pool.pick(day, age, male)
    insurance = ctx.pool.insurance[patient]

    # Budget: the year's cost per visit × the department's level × log-normal spread.
    cost_norm, drug_norm = _mix_norms(ctx)
    level = _COST[dept] * np.where(emergency, EMERGENCY_COST, 1.0) / cost_norm
    budget = target_series(day, "outpatient_cost") * level * lognormal_mean1(rng, 0.85, n)
    drug_share = target_series(day, "outpatient_drug_share") * _DRUG[dept] / drug_norm
    has_drug = rng.random(n) < _HAS_DRUG[dept]
    drug_budget = np.where(has_drug, np.minimum(0.9, drug_share / _HAS_DRUG[dept]) * budget, 0.0)

    book = ctx.book
    reg = np.array([ITEM_BY_NAME[name] for name in _REGISTRATION])[ctx.staff.title[doctor]]
    reg[emergency] = ITEM_BY_NAME["急诊诊察费"]
    registration = fixed_lines(book, np.arange(n), reg, np.ones(n), day)
    other_budget = np.maximum(budget - drug_budget - registration.amount, 0.0)

    # Large budgets get more lines rather than absurd quantities (60 boxes of one drug).
    n_drug = has_drug * (1 + rng.poisson(0.9, n) + drug_budget // 300).astype(np.int64)
    n_other = (other_budget >= 5) * (1 + rng.poisson(0.8, n) + other_budget // 600).astype(np.int64)
    max_units = np.full(n, MAX_UNITS)
    parts = [registration]
    for part_budget, count, sampler in (
        (drug_budget, n_drug, ctx.op_drug_classes),
        (other_budget, n_other, ctx.op_other_classes),
    ):
        enc, item, qty = flexible_lines(rng, book, part_budget, count, sampler, dept, dept, max_units)
        parts.append(fixed_lines(book, enc, item, qty, day[enc]))
    lines = Lines.concat(parts).sort_by_encounter()
    return OutpatientMonth(day, emergency, unit, doctor, patient, exact_age, insurance, lines)
