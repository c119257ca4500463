"""住院收费明细: the fee lines of each stay, spread over its days.

A stay's budget is the year's cost-per-stay target × its DRG weight ÷ the expected CMI, with
log-normal spread and a longer-stays-cost-more factor, so 费用消耗指数 sits near 1 by design.
Bed, 诊查 and nursing lines follow the days; operations bring their 手术费, 麻醉费 and
high-value materials; antibiotic courses are billed as given; the rest of the budget is split
into drug and other flexible lines by the department's profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.calibration import target_series
from indicators.demo.case_types import CASE_ADRG, CASE_DEPT, CASE_OP, case_mix_weights
from indicators.demo.casemix import OPERATIONS
from indicators.demo.charge_items import ITEM_BY_NAME
from indicators.demo.context import Context
from indicators.demo.dimensions import DEPARTMENTS, DEPT_INDEX
from indicators.demo.drg import SEVERITY_SHARES
from indicators.demo.fees import Lines, fixed_lines, flexible_lines
from indicators.demo.inpatient import LOS_SIGMA, Courses, Operations, Stays, dept_admission_share
from indicators.demo.sampling import lognormal_mean1, repeat_with_position

COST_SIGMA = 0.35
# Operation fees and implants are billed at list price whatever the budget, so implant-heavy stays
# (PCI, joint replacement) overrun their non-drug budget; the flexible non-drug lines get this
# share of it to compensate (measured at scale 1: yearly cost per stay then lands on target).
NON_DRUG_BUDGET = 0.915
LOS_ELASTICITY = 0.5  # cost grows with the square root of LOS relative to the expected LOS
_DRUG = np.array([d.drug for d in DEPARTMENTS])
_OPERATED_DRUG = np.array([1.1, 0.7])  # drug share of medical vs operated stays, relative
_ICU = DEPT_INDEX["重症医学科"]
SEGMENT_DAYS = 7  # bed, 诊查 and nursing are billed weekly


def _items(*names: str) -> np.ndarray:
    return np.array([ITEM_BY_NAME[n] for n in names], dtype=np.int64)


_BED = _items("普通病房床位费(三人间)", "普通病房床位费(双人间)", "重症监护病房床位费")
_NURSING = _items("二级护理", "一级护理", "特级护理")
_WARD_ROUND = ITEM_BY_NAME["住院诊查费"]
_SURGERY_FEE = _items("一级手术费", "二级手术费", "三级手术费", "四级手术费")
_INTERVENTION_FEE = ITEM_BY_NAME["介入治疗费"]
_ANAESTHESIA = {"L": ITEM_BY_NAME["局部麻醉"], "S": ITEM_BY_NAME["椎管内麻醉"], "G": ITEM_BY_NAME["全身麻醉"]}
_OP_FEE = np.array(
    [_INTERVENTION_FEE if op.interventional else _SURGERY_FEE[op.level - 1] for op in OPERATIONS]
)
_OP_ANAESTHESIA = np.array([_ANAESTHESIA[op.anaesthesia] for op in OPERATIONS])
_MAT_COUNT = np.array([len(op.materials) for op in OPERATIONS])
_MAT_START = np.r_[0, np.cumsum(_MAT_COUNT)[:-1]]
_MAT_ITEM = _items(*(m[0] for op in OPERATIONS for m in op.materials))
_MAT_LO = np.array([m[1] for op in OPERATIONS for m in op.materials])
_MAT_HI = np.array([m[2] for op in OPERATIONS for m in op.materials])


@dataclass(frozen=True)
class Budgets:
    total: np.ndarray
    drug: np.ndarray


def stay_budgets(ctx: Context, stays: Stays, rng: np.random.Generator) -> Budgets:
    drgs = ctx.drgs
    mix = case_mix_weights(dept_admission_share(ctx))
    case_rw = (drgs.weight[drgs.by_adrg[CASE_ADRG]] * SEVERITY_SHARES).sum(axis=1)
    cmi = (mix * case_rw).sum()
    case_drug = _DRUG[CASE_DEPT] * _OPERATED_DRUG[(CASE_OP >= 0).astype(np.int64)]
    drug_norm = (mix * case_rw * case_drug).sum() / (mix * case_rw).sum()

    n = len(stays.los)
    rw = drgs.weight[drgs.by_adrg[CASE_ADRG[stays.case], stays.severity]]
    los_factor = (stays.los / stays.expected_los) ** LOS_ELASTICITY
    los_factor /= np.exp(-0.5 * LOS_ELASTICITY * (1 - LOS_ELASTICITY) * LOS_SIGMA**2)  # its mean
    level = target_series(stays.admit, "inpatient_cost") * rw / cmi
    total = level * lognormal_mean1(rng, COST_SIGMA, n) * los_factor
    share = target_series(stays.admit, "inpatient_drug_share") * case_drug[stays.case] / drug_norm
    return Budgets(total, np.minimum(0.85, share * lognormal_mean1(rng, 0.25, n)) * total)


def _daily_lines(ctx: Context, stays: Stays, rows: np.ndarray, rng: np.random.Generator) -> Lines:
    """Bed, 诊查 and nursing lines, one of each per started week."""
    los = stays.los[rows]
    enc, k = repeat_with_position(-(-los // SEGMENT_DAYS))
    start = stays.admit[rows][enc] + SEGMENT_DAYS * k
    days = np.minimum(SEGMENT_DAYS, los[enc] - SEGMENT_DAYS * k)
    days = np.minimum(days, ctx.as_of - start + 1)  # still in hospital: billed up to the as-of date
    icu = stays.dept[rows] == _ICU
    bed = np.where(icu, _BED[2], np.where(rng.random(len(rows)) < 0.3, _BED[1], _BED[0]))
    nursing = np.where(icu, _NURSING[2], np.where(rng.random(len(rows)) < 0.35, _NURSING[1], _NURSING[0]))
    parts = [fixed_lines(ctx.book, enc, item[enc], days, start) for item in (bed, nursing)]
    parts.append(fixed_lines(ctx.book, enc, np.full(len(enc), _WARD_ROUND), days, start))
    return Lines.concat(parts)


def _operation_lines(ctx: Context, ops: Operations, local: np.ndarray, rng: np.random.Generator) -> Lines:
    """手术费 (or 介入治疗费), 麻醉费 and the operation's high-value materials."""
    one = np.ones(len(local))
    parts = [fixed_lines(ctx.book, local, _OP_FEE[ops.op], one, ops.day),
             fixed_lines(ctx.book, local, _OP_ANAESTHESIA[ops.op], one, ops.day)]  # fmt: skip
    rep, position = repeat_with_position(_MAT_COUNT[ops.op])
    mat = _MAT_START[ops.op[rep]] + position
    qty = rng.integers(_MAT_LO[mat], _MAT_HI[mat] + 1)
    used = qty > 0
    parts.append(fixed_lines(ctx.book, local[rep][used], _MAT_ITEM[mat][used], qty[used], ops.day[rep][used]))
    return Lines.concat(parts)


def stay_lines(
    ctx: Context, stays: Stays, budgets: Budgets, rows: np.ndarray, ops: Operations, courses: Courses,
    rng: np.random.Generator,
) -> Lines:  # fmt: skip
    """All fee lines of the stays ``rows`` (enc = position in ``rows``), up to the as-of date.

    ``ops`` and ``courses`` must be those of these stays, with ``stay`` already mapped to positions.
    """
    fixed_other = Lines.concat(
        [_daily_lines(ctx, stays, rows, rng), _operation_lines(ctx, ops, ops.stay, rng)]
    )
    fixed_drug = fixed_lines(ctx.book, courses.stay, courses.item, courses.units, courses.day)
    n = len(rows)
    total, drug = budgets.total[rows], budgets.drug[rows]
    spent_other = np.bincount(fixed_other.enc, fixed_other.amount, minlength=n)
    spent_drug = np.bincount(fixed_drug.enc, fixed_drug.amount, minlength=n)
    flexible_drug = np.maximum(drug - spent_drug, 0.02 * total)
    flexible_other = np.maximum(NON_DRUG_BUDGET * (total - drug) - spent_other, 0.08 * total)

    los = stays.los[rows]
    dept = stays.dept[rows]
    operated = (CASE_OP[stays.case[rows]] >= 0).astype(np.int64)
    max_units = 4.0 + los  # a stay's line sums several days' use
    parts = [fixed_other, fixed_drug]
    for budget, base, per_day, sampler, profile in (
        (flexible_drug, 3, 0.45, ctx.ip_drug_classes, dept),
        (flexible_other, 4, 0.65, ctx.ip_other_classes, dept + len(DEPARTMENTS) * operated),
    ):
        count = base + rng.poisson(per_day * los**0.8)
        enc, item, qty = flexible_lines(rng, ctx.book, budget, count, sampler, profile, dept, max_units)
        day = stays.admit[rows][enc] + np.floor(rng.random(len(enc)) * (los[enc] + 1)).astype(np.int64)
        parts.append(fixed_lines(ctx.book, enc, item, qty, day))
    lines = Lines.concat(parts)
    return lines.take(lines.day <= ctx.as_of).sort_by_encounter()
