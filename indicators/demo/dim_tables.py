"""The dimension tables as columns ready for the writer."""

from __future__ import annotations

from datetime import date

import numpy as np

from indicators.demo.calendar import to_day
from indicators.demo.calibration import target_series, targets_for
from indicators.demo.case_types import CASE_ADRG, CASE_LOS, CASE_TYPES, case_mix_weights
from indicators.demo.casemix import OPERATIONS
from indicators.demo.charge_items import ITEMS
from indicators.demo.context import Context
from indicators.demo.dimensions import CAMPUSES, DEPARTMENTS, FEE_CLASSES, INSURANCE
from indicators.demo.drg import SEVERITY_LOS, SEVERITY_SHARES
from indicators.demo.hospital import TITLES
from indicators.demo.inpatient import dept_admission_share, los_scale

# The regional norms describe the region in this year (the middle of the default data range).
NORM_YEAR = 2021


def _column(rows: list[tuple], i: int) -> list:
    return [r[i] for r in rows]


def region_norms(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(region_avg_cost, region_avg_los) per DRG group: the hospital's expectation × deviation."""
    drgs = ctx.drgs
    mix = case_mix_weights(dept_admission_share(ctx))[:, None] * SEVERITY_SHARES[None, :]
    group = drgs.by_adrg[CASE_ADRG]  # [case, severity]
    mid_year = np.array([to_day(date(NORM_YEAR, 7, 1))])
    trend = target_series(mid_year, "los")[0] / targets_for(2019).los
    los = CASE_LOS[:, None] * los_scale(ctx) * trend * SEVERITY_LOS[None, :]
    n = len(drgs.code)
    expected_los = np.bincount(group.ravel(), (mix * los).ravel(), n) / np.bincount(
        group.ravel(), mix.ravel(), n
    )
    cmi = (mix * drgs.weight[group]).sum()
    cost = targets_for(NORM_YEAR).inpatient_cost * drgs.weight / cmi
    return np.round(cost * drgs.cost_deviation, 2), np.round(expected_los * drgs.los_deviation, 2)


def dimension_tables(ctx: Context) -> dict[str, dict[str, object]]:
    staff, units, drgs = ctx.staff, ctx.units, ctx.drgs
    region_cost, region_los = region_norms(ctx)
    diagnoses = {c.dx_code: (c.dx_name, DEPARTMENTS[c.dept].code) for c in CASE_TYPES}
    return {
        "dim_campus": {"campus_code": _column(CAMPUSES, 0), "campus_name": _column(CAMPUSES, 1),
                       "opened_on": np.array([to_day(c[2]) for c in CAMPUSES])},
        "dim_department": {
            "dept_code": [d.code for d in DEPARTMENTS], "dept_name": [d.name for d in DEPARTMENTS],
            "dept_group": [d.group for d in DEPARTMENTS],
            "dept_type": ["临床" if d.clinical else "医技" for d in DEPARTMENTS],
            "is_surgical": np.array([d.surgical for d in DEPARTMENTS]),
            "has_inpatient": np.array([d.inpatient for d in DEPARTMENTS]),
        },
        "dim_doctor": {
            "doctor_code": staff.code, "doctor_name": staff.name,
            "dept_code": [DEPARTMENTS[units.dept[u]].code for u in staff.unit],
            "campus_code": [CAMPUSES[units.campus[u]][0] for u in staff.unit],
            "title": [TITLES[t] for t in staff.title],
        },
        "dim_insurance": {"insurance_code": _column(INSURANCE, 0), "insurance_name": _column(INSURANCE, 1)},
        "dim_fee_class": {"fee_class_code": _column(FEE_CLASSES, 0), "fee_class_name": _column(FEE_CLASSES, 1),
                          "record_class": _column(FEE_CLASSES, 2), "revenue_group": _column(FEE_CLASSES, 3)},
        "dim_charge_item": {
            "item_code": [i.code for i in ITEMS], "item_name": [i.name for i in ITEMS],
            "fee_class_code": [i.fee_class for i in ITEMS], "unit_price": np.array([i.price for i in ITEMS]),
            "is_high_value_material": np.array([i.high_value for i in ITEMS]),
            "is_antibiotic": np.array([i.antibiotic for i in ITEMS]),
            "ddd_per_unit": np.ma.masked_invalid(ctx.book.ddd_per_unit),
        },
        "dim_drg": {
            "drg_code": drgs.code, "drg_name": drgs.name, "mdc_code": drgs.mdc, "relative_weight": drgs.weight,
            "is_low_risk": drgs.low_risk, "region_avg_cost": region_cost, "region_avg_los": region_los,
        },
        "dim_diagnosis": {"dx_code": list(diagnoses), "dx_name": [v[0] for v in diagnoses.values()],
                          "dept_code": [v[1] for v in diagnoses.values()]},
        "dim_operation": {
            "op_code": [o.code for o in OPERATIONS], "op_name": [o.name for o in OPERATIONS],
            "op_level": np.array([o.level for o in OPERATIONS]),
            "is_minimally_invasive": np.array([o.minimally_invasive for o in OPERATIONS]),
            "is_interventional": np.array([o.interventional for o in OPERATIONS]),
        },
    }  # fmt: skip


def ward_table(ctx: Context, approved_beds: np.ndarray) -> dict[str, object]:
    unit = ctx.wards.unit
    return {
        "ward_code": ctx.wards.code, "ward_name": ctx.wards.name,
        "dept_code": [DEPARTMENTS[d].code for d in ctx.units.dept[unit]],
        "campus_code": [CAMPUSES[c][0] for c in ctx.units.campus[unit]],
        "approved_beds": approved_beds,
    }  # fmt: skip
