"""Planted data-quality defects (docs/data-defects.md), and their exact counts for meta_defects.

Defects are planted while rows are generated, from their own random streams, so the clean
rows are the same with or without them. Counts that a query can establish exactly are counted
by that query on the finished warehouse (it is the detection query of the docs); the others
are counted as they are planted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from indicators.demo.dimensions import FEE_CLASS_CODES, ORTHOPEDICS, PEDIATRICS
from indicators.demo.fees import CONFUSED_CLASS

AGE_ZERO_RATE = 0.002  # of adult encounters outside 儿科
CLASS_MISMATCH_RATE = 0.001  # of fee lines
ORTHO_HV_YEAR = 2022
ORTHO_HV_DUPLICATE = 0.75  # chance that a high-value line of an 骨科 stay that year is billed twice
OUTLIER_COUNT = (15, 25)  # outpatient 西药 lines at 50-100 times their quantity
OUTLIER_FACTOR = (50, 100)
NULL_LEVEL_COUNT = (30, 60)  # operations without 手术级别, at scale 1
_F13 = FEE_CLASS_CODES.index("F13")

_AGE_ZERO_SQL = """SELECT count(*) FROM {table} t JOIN dim_department d ON d.dept_code = t.dept_code
                   WHERE t.patient_age = 0 AND d.dept_name <> '儿科'"""
_MISMATCH_SQL = """SELECT count(*) FROM {table} f JOIN dim_charge_item c ON c.item_code = f.item_code
                   WHERE f.fee_class_code <> c.fee_class_code"""
DEFECTS = (
    ("D1.outpatient", "fact_outpatient_visit", "patient_age = 0 on adult visits outside 儿科", _AGE_ZERO_SQL),
    ("D1.inpatient", "fact_inpatient_stay", "patient_age = 0 on adult stays outside 儿科", _AGE_ZERO_SQL),
    ("D2", "fact_inpatient_fee",
     f"骨科 high-value material lines billed twice on stays discharged in {ORTHO_HV_YEAR} (the extra lines)", None),
    ("D3", "fact_outpatient_fee", "outpatient 西药 lines at 50-100 times the usual quantity and amount", None),
    ("D4.outpatient", "fact_outpatient_fee", "fee_class_code differs from dim_charge_item.fee_class_code", _MISMATCH_SQL),
    ("D4.inpatient", "fact_inpatient_fee", "fee_class_code differs from dim_charge_item.fee_class_code", _MISMATCH_SQL),
    ("D5", "fact_operation", "op_level NULL (手术级别 missing on the 首页)",
     "SELECT count(*) FROM {table} WHERE op_level IS NULL"),
)  # fmt: skip


@dataclass
class DefectLog:
    planted: dict[str, int] = field(default_factory=lambda: {"D2": 0, "D3": 0})

    def rows(self, con: duckdb.DuckDBPyConnection) -> dict[str, list[object]]:
        """meta_defects columns: SQL counts where a query is exact, planted counts otherwise."""
        counts = [
            self.planted[d] if sql is None else con.execute(sql.format(table=t)).fetchall()[0][0]
            for d, t, _, sql in DEFECTS
        ]
        return {
            "defect_id": [d[0] for d in DEFECTS], "table_name": [d[1] for d in DEFECTS],
            "description": [d[2] for d in DEFECTS], "row_count": counts,
        }  # fmt: skip


def zero_ages(rng: np.random.Generator, age: np.ndarray, dept: np.ndarray) -> np.ndarray:
    """D1: some adults outside 儿科 recorded as age 0 (a default value left in the form)."""
    hit = (age >= 18) & (dept != PEDIATRICS) & (rng.random(len(age)) < AGE_ZERO_RATE)
    return np.where(hit, 0, age)


def confuse_classes(rng: np.random.Generator, fee_class: np.ndarray) -> np.ndarray:
    """D4: a few lines billed under a neighbouring fee class."""
    hit = rng.random(len(fee_class)) < CLASS_MISMATCH_RATE
    return np.where(hit, CONFUSED_CLASS[fee_class], fee_class)


def outlier_days(rng: np.random.Generator, first: int, last: int) -> np.ndarray:
    """D3: the days that get one outlier prescription each."""
    k = min(int(rng.integers(OUTLIER_COUNT[0], OUTLIER_COUNT[1] + 1)), last - first + 1)
    return np.sort(rng.choice(np.arange(first, last + 1), size=k, replace=False))


def inflate_prescriptions(
    rng: np.random.Generator, days: np.ndarray, line_day: np.ndarray, line_class: np.ndarray,
    quantity: np.ndarray, log: DefectLog,
) -> np.ndarray:  # fmt: skip
    """D3: one 西药 line on each of ``days`` gets 50-100 times its quantity; returns quantities."""
    quantity = quantity.copy()
    for day in days:
        candidates = np.flatnonzero((line_day == day) & (line_class == _F13))
        if len(candidates):
            pick = candidates[rng.integers(len(candidates))]
            quantity[pick] *= rng.integers(OUTLIER_FACTOR[0], OUTLIER_FACTOR[1] + 1)
            log.planted["D3"] += 1
    return quantity


def orthopedic_duplicates(
    rng: np.random.Generator, high_value: np.ndarray, dept: np.ndarray, discharge_year: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """D2: indexes of lines to bill a second time (high-value, 骨科, discharged that year)."""
    eligible = high_value & (dept == ORTHOPEDICS) & (discharge_year == ORTHO_HV_YEAR)
    return np.flatnonzero(eligible & (rng.random(len(dept)) < ORTHO_HV_DUPLICATE))


def null_levels(rng: np.random.Generator, n_operations: int, scale: float) -> np.ndarray:
    """D5: which operations lose their level (a few dozen at scale 1, at least a few)."""
    k = max(3, round(int(rng.integers(NULL_LEVEL_COUNT[0], NULL_LEVEL_COUNT[1] + 1)) * min(1.0, scale)))
    mask = np.zeros(n_operations, bool)
    mask[rng.choice(n_operations, size=min(k, n_operations), replace=False)] = True
    return mask
