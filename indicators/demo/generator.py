"""Generate the demo warehouse: dimensions, then outpatient months, stays and their fees, beds.

Memory stays bounded at any scale: outpatient data are made and written a month at a time,
inpatient fee lines per admission month (buffered until their dates are complete); only the
stays themselves (about 110 thousand per unit of scale) are held whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from indicators.demo import defects as d
from indicators.demo.beds import bed_day_columns, bed_days
from indicators.demo.calendar import check_supported, month_spans, year_month_day
from indicators.demo.case_types import CASE_TYPES
from indicators.demo.casemix import OPERATIONS
from indicators.demo.context import Context, build_context
from indicators.demo.dim_tables import dimension_tables, ward_table
from indicators.demo.dimensions import CAMPUS_CODES, DEPARTMENTS, FEE_CLASS_CODES, INSURANCE_CODES
from indicators.demo.fees import Lines, fund_amounts
from indicators.demo.inpatient import (
    DEATH,
    OUTCOMES,
    Courses,
    Operations,
    Stays,
    admit_all,
    antibiotic_courses,
    operations,
)
from indicators.demo.inpatient_fees import stay_budgets, stay_lines
from indicators.demo.outpatient import outpatient_month
from indicators.demo.patients import patient_table
from indicators.demo.sampling import ADMISSIONS, DEFECTS, INPATIENT_FEES, OUTPATIENT, rng_for
from indicators.demo.writer import DateOrderedBuffer, Warehouse, codes

GENERATOR_VERSION = "1.1.0"  # 1.1: fact_operation.is_level4_managed
DEPT_CODES = [dept.code for dept in DEPARTMENTS]
_OP_LEVEL = np.array([op.level for op in OPERATIONS])
_OP_MI = np.array([op.minimally_invasive for op in OPERATIONS])
_OP_IV = np.array([op.interventional for op in OPERATIONS])
_OP_L4M = np.array([op.level4_managed for op in OPERATIONS])


@dataclass(frozen=True)
class GenerationReport:
    path: Path
    row_counts: dict[str, int]
    seconds: float
    rows_per_second: float


def generate_demo_warehouse(
    path: str | Path, *, scale: float = 1.0, seed: int = 20230908, as_of: date = date(2023, 9, 8),
    start: date = date(2019, 1, 1), progress: bool = True,
) -> GenerationReport:  # fmt: skip
    """Write the synthetic demo warehouse to ``path`` (replacing any file there).

    Args:
        path: DuckDB file to write; it appears only when complete (written to a temporary
            file next to it, then renamed).
        scale: volume factor; 1.0 is about 800 visits and 60 discharges a day.
        seed: random seed; the same arguments give the same tables.
        as_of: last day of data.
        start: first day of data.
        progress: show a progress bar.

    Returns:
        The path, rows per table, seconds taken and rows per second.

    Raises:
        ValueError: for a non-positive scale or dates outside the supported calendar.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    check_supported(start, as_of)
    started = time.perf_counter()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    ctx = build_context(seed, scale, start, as_of)
    warehouse = Warehouse(target)
    try:
        with _progress_bar(progress) as bar:
            _write_all(ctx, warehouse, bar)
            _write_meta(warehouse, ctx, scale, start, as_of)
        rows = dict(warehouse.rows)
        warehouse.commit()
    except BaseException:
        warehouse.abort()
        raise
    seconds = time.perf_counter() - started
    return GenerationReport(target, rows, seconds, sum(rows.values()) / seconds)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Progress]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not enabled, transient=False) as bar:
        yield bar


def _write_all(ctx: Context, wh: Warehouse, bar: Progress) -> None:
    log = d.DefectLog()
    for table, columns in dimension_tables(ctx).items():
        wh.append(table, columns)
    months = month_spans(ctx.start, ctx.as_of)
    task = bar.add_task("门急诊 outpatient", total=len(months))
    outliers = d.outlier_days(rng_for(ctx.seed, DEFECTS), ctx.start, ctx.as_of)
    next_visit = 1
    for days in months:
        next_visit = _write_outpatient_month(ctx, wh, days, outliers, next_visit, log)
        bar.advance(task)

    stays = admit_all(ctx)
    _write_stays(ctx, wh, stays)
    ops = operations(ctx, stays, rng_for(ctx.seed, ADMISSIONS, 0, 1))
    _write_operations(ctx, wh, ops)
    courses = antibiotic_courses(ctx, stays, rng_for(ctx.seed, ADMISSIONS, 0, 2))
    wh.append("fact_antibiotic_use", {
        "use_id": np.arange(1, len(courses.stay) + 1), "stay_id": courses.stay + 1, "use_date": courses.day,
        "item_code": codes(courses.item, ctx.book.code), "ddd_count": courses.ddd,
    })  # fmt: skip
    _write_inpatient_fees(ctx, wh, stays, ops, courses, log, bar)

    beds = bed_days(ctx, stays)
    wh.append("dim_ward", ward_table(ctx, beds.approved_beds))
    cols = bed_day_columns(ctx, beds)
    wh.append("fact_bed_day", {
        "stat_date": cols["stat_date"], "campus_code": codes(cols["campus"], CAMPUS_CODES),
        "dept_code": codes(cols["dept"], DEPT_CODES), "ward_code": codes(cols["ward"], ctx.wards.code),
        "open_beds": cols["open_beds"], "occupied_beds": cols["occupied_beds"],
    })  # fmt: skip
    wh.append("dim_patient", patient_table(ctx.pool, ctx.seed))
    wh.append("meta_defects", log.rows(wh.con))


def _write_outpatient_month(
    ctx: Context, wh: Warehouse, days: np.ndarray, outliers: np.ndarray, first_id: int, log: d.DefectLog
) -> int:
    month = outpatient_month(ctx, days, rng_for(ctx.seed, OUTPATIENT, int(days[0])))
    rng = rng_for(ctx.seed, DEFECTS, 1, int(days[0]))
    book, lines, n = ctx.book, month.lines, len(month.day)
    dept = ctx.units.dept[month.unit]
    fee_class = book.fee_class[lines.item]
    in_month = outliers[(outliers >= days[0]) & (outliers <= days[-1])]
    quantity = d.inflate_prescriptions(rng, in_month, lines.day, fee_class, lines.quantity, log)
    amount = np.round(quantity * book.price[lines.item], 2)
    visit_id = np.arange(first_id, first_id + n)
    wh.append("fact_outpatient_visit", {
        "visit_id": visit_id, "visit_date": month.day,
        "visit_type": codes(month.emergency.astype(np.int64), ("门诊", "急诊")),
        "campus_code": codes(ctx.units.campus[month.unit], CAMPUS_CODES), "dept_code": codes(dept, DEPT_CODES),
        "doctor_code": codes(month.doctor, ctx.staff.code), "insurance_code": codes(month.insurance, INSURANCE_CODES),
        "patient_id": pc.take(ctx.pool.ids, month.patient), "patient_age": d.zero_ages(rng, month.age, dept),
    })  # fmt: skip
    start_fee = wh.rows["fact_outpatient_fee"] + 1
    wh.append("fact_outpatient_fee", {
        "fee_id": np.arange(start_fee, start_fee + len(amount)), "visit_id": visit_id[lines.enc],
        "fee_date": lines.day, "item_code": codes(lines.item, book.code),
        "fee_class_code": codes(d.confuse_classes(rng, fee_class), FEE_CLASS_CODES),
        "exec_dept_code": codes(np.where(book.exec_dept[lines.item] >= 0, book.exec_dept[lines.item], dept[lines.enc]), DEPT_CODES),
        "quantity": quantity, "amount": amount,
        "fund_amount": fund_amounts(book, lines.item, amount, month.insurance[lines.enc], inpatient=False),
    })  # fmt: skip
    return first_id + n


def _write_stays(ctx: Context, wh: Warehouse, stays: Stays) -> None:
    out = stays.discharge > ctx.as_of  # still in hospital on the as-of date
    rng = rng_for(ctx.seed, DEFECTS, 3)
    wh.append("fact_inpatient_stay", {
        "stay_id": np.arange(1, len(stays.los) + 1), "patient_id": pc.take(ctx.pool.ids, stays.patient),
        "patient_age": d.zero_ages(rng, stays.age, stays.dept),
        "campus_code": codes(ctx.units.campus[stays.unit], CAMPUS_CODES),
        "admit_dept_code": codes(stays.admit_dept, DEPT_CODES), "dept_code": codes(stays.dept, DEPT_CODES),
        "doctor_code": codes(stays.doctor, ctx.staff.code), "ward_code": codes(stays.ward, ctx.wards.code),
        "insurance_code": codes(stays.insurance, INSURANCE_CODES), "admit_date": stays.admit,
        "discharge_date": np.ma.masked_array(stays.discharge, out), "los_days": np.ma.masked_array(stays.los, out),
        "principal_dx_code": codes(stays.case, [c.dx_code for c in CASE_TYPES]),
        "drg_code": codes(np.maximum(stays.drg, 0), ctx.drgs.code, null=out | (stays.drg < 0)),
        "discharge_outcome": codes(stays.outcome, OUTCOMES, null=out),
        "is_death": (stays.outcome == DEATH) & ~out,
    })  # fmt: skip


def _write_operations(ctx: Context, wh: Warehouse, ops: Operations) -> None:
    missing = d.null_levels(rng_for(ctx.seed, DEFECTS, 4), len(ops.op), ctx.scale)
    wh.append("fact_operation", {
        "operation_id": np.arange(1, len(ops.op) + 1), "stay_id": ops.stay + 1, "operation_date": ops.day,
        "op_code": codes(ops.op, [op.code for op in OPERATIONS]),
        "op_level": np.ma.masked_array(_OP_LEVEL[ops.op], missing),
        "is_minimally_invasive": _OP_MI[ops.op], "is_interventional": _OP_IV[ops.op],
        # the grading is one record on the 首页: where the level is lost, so is the level-4 mark
        "is_level4_managed": np.ma.masked_array(_OP_L4M[ops.op], missing),
        "surgeon_code": codes(ops.surgeon, ctx.staff.code),
    })  # fmt: skip


def _write_inpatient_fees(
    ctx: Context,
    wh: Warehouse,
    stays: Stays,
    ops: Operations,
    courses: Courses,
    log: d.DefectLog,
    bar: Progress,
) -> None:
    book = ctx.book

    def render(rows: dict[str, np.ndarray]) -> dict[str, object]:
        return {**rows, "item_code": codes(rows["item"], book.code),
                "fee_class_code": codes(rows["fee_class"], FEE_CLASS_CODES),
                "exec_dept_code": codes(rows["exec_dept"], DEPT_CODES)}  # fmt: skip

    buffer = DateOrderedBuffer(wh, "fact_inpatient_fee", "fee_date", "fee_id", render)
    budgets = stay_budgets(ctx, stays, rng_for(ctx.seed, ADMISSIONS, 0, 3))
    discharge_year = np.where(stays.discharge <= ctx.as_of, year_month_day(stays.discharge)[0], 0)
    months = month_spans(ctx.first_admission, ctx.as_of)
    task = bar.add_task("住院 inpatient", total=len(months))
    for days in months:
        lo, hi = np.searchsorted(stays.admit, [days[0], days[-1] + 1])
        rows = np.arange(lo, hi)
        op_rows = (ops.stay >= lo) & (ops.stay < hi)
        course_rows = (courses.stay >= lo) & (courses.stay < hi)
        block_ops = Operations(
            ops.stay[op_rows] - lo, ops.op[op_rows], ops.day[op_rows], ops.surgeon[op_rows]
        )
        block_courses = Courses(
            *(getattr(courses, f)[course_rows] for f in ("stay", "item", "day", "units", "ddd"))
        )
        block_courses.stay -= lo
        lines = stay_lines(
            ctx,
            stays,
            budgets,
            rows,
            block_ops,
            block_courses,
            rng_for(ctx.seed, INPATIENT_FEES, int(days[0])),
        )
        rng = rng_for(ctx.seed, DEFECTS, 2, int(days[0]))
        stay = rows[lines.enc]
        extra = d.orthopedic_duplicates(
            rng, book.high_value[lines.item], stays.dept[stay], discharge_year[stay]
        )
        log.planted["D2"] += len(extra)
        lines = Lines.concat([lines, lines.take(extra)])
        stay = rows[lines.enc]
        buffer.add({
            "stay_id": stay + 1, "fee_date": lines.day, "item": lines.item,
            "fee_class": d.confuse_classes(rng, book.fee_class[lines.item]),
            "exec_dept": np.where(book.exec_dept[lines.item] >= 0, book.exec_dept[lines.item], stays.dept[stay]),
            "quantity": lines.quantity, "amount": lines.amount,
            "fund_amount": fund_amounts(book, lines.item, lines.amount, stays.insurance[stay], inpatient=True),
        })  # fmt: skip
        buffer.flush(before=int(days[-1]) + 1)
        bar.advance(task)
    buffer.flush()


def _write_meta(wh: Warehouse, ctx: Context, scale: float, start: date, as_of: date) -> None:
    meta = {
        "as_of_date": as_of.isoformat(), "start_date": start.isoformat(), "seed": str(ctx.seed),
        "scale": repr(float(scale)), "generator_version": GENERATOR_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    wh.append("meta_warehouse", {"key": list(meta), "value": list(meta.values())})
