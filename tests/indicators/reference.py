"""Independent reference implementation of the catalog's indicators, from the RAW warehouse tables.

Written from the specification only (docs/warehouse-schema.md, the catalog YAML, docs/indicators.md),
without reading the query engine or the pre-aggregations, so that the tests comparing the two catch
mistakes on either side. Only ``fact_*``, ``dim_*`` and ``meta_warehouse`` are read, never ``agg_*``.

The catalog YAML is read only for each indicator's *structure* (kind, numerator/denominator measure
names, scale, versions, growth base). What every *measure* means is written by hand below
(``MEASURES``), from the schema and the project's 口径 decisions, so that a wrong filter in
``measures.yaml`` shows up as a difference.

Public functions:
- ``reference_measure(con, measure, start, end, filters)`` -> float
- ``reference_indicator(con, indicator, start, end, filters, version, group_by)`` -> {key: value}
- ``reference_rows(...)``: the same with numerator and denominator (``RefRow``)
- ``yoy_period``, ``mom_period``, ``bucket_mom_period``, ``growth_base_period``, ``buckets``: periods.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

CATALOG_DIR = Path(__file__).resolve().parents[2] / "indicators" / "catalog"

DIMENSIONS = ("campus", "department", "doctor", "insurance", "visit_type")
TIME_GRAINS = ("year", "quarter", "month", "day")


class UnsupportedInReference(ValueError):
    """A filter or grouping the indicator's sources cannot be cut by."""


# ---------------------------------------------------------------------------------------------
# Base relations: one row per fact, placed on its period date `d`, with the dimension NAMES the
# filters and groupings use. Built once per connection as temp tables.
# ---------------------------------------------------------------------------------------------

_NAMES = """
    LEFT JOIN dim_campus c ON c.campus_code = x.campus_code
    LEFT JOIN dim_department dp ON dp.dept_code = x.dept_code
    LEFT JOIN dim_doctor dr ON dr.doctor_code = x.doctor_code
    LEFT JOIN dim_insurance ins ON ins.insurance_code = x.insurance_code
"""
_NAME_COLS = (
    "c.campus_name AS campus, dp.dept_name AS department, dr.doctor_name AS doctor, "
    "ins.insurance_name AS insurance"
)

# Fee lines: outpatient lines on their visit's date with the visit's codes; inpatient lines (all of
# them, whatever their fee_date) on the stay's discharge date with the stay's codes; stays not yet
# discharged are left out. High-value flag from the charge-item dictionary of the line's item.
REF_FEE = f"""
CREATE OR REPLACE TEMP TABLE ref_fee AS
SELECT x.d, {_NAME_COLS}, x.visit_type, x.fee_class_code,
       coalesce(ci.is_high_value_material, false) AS is_hv,
       CAST(x.amount AS DOUBLE) AS amount, CAST(x.fund_amount AS DOUBLE) AS fund_amount
FROM (
    SELECT v.visit_date AS d, v.campus_code, v.dept_code, v.doctor_code, v.insurance_code,
           v.visit_type, f.fee_class_code, f.item_code, f.amount, f.fund_amount
    FROM fact_outpatient_fee f JOIN fact_outpatient_visit v ON v.visit_id = f.visit_id
    UNION ALL
    SELECT s.discharge_date, s.campus_code, s.dept_code, s.doctor_code, s.insurance_code,
           '住院', f.fee_class_code, f.item_code, f.amount, f.fund_amount
    FROM fact_inpatient_fee f JOIN fact_inpatient_stay s ON s.stay_id = f.stay_id
    WHERE s.discharge_date IS NOT NULL
) x
LEFT JOIN dim_charge_item ci ON ci.item_code = x.item_code
{_NAMES}
"""

REF_VISIT = f"""
CREATE OR REPLACE TEMP TABLE ref_visit AS
SELECT x.visit_date AS d, {_NAME_COLS}, x.visit_type, x.visit_id
FROM fact_outpatient_visit x
{_NAMES}
"""

# One row per discharged stay with everything the discharge measures need.
REF_STAY = f"""
CREATE OR REPLACE TEMP TABLE ref_stay AS
WITH ops AS (
    SELECT stay_id,
           count(*) AS n_ops,
           count(*) FILTER (WHERE is_minimally_invasive) AS n_mi,
           count(*) FILTER (WHERE op_level = 3) AS n_l3,
           count(*) FILTER (WHERE op_level = 4) AS n_l4,
           count(*) FILTER (WHERE op_level = 4 OR (op_level IN (1, 2, 3) AND is_interventional AND is_level4_managed)) AS n_l4i
    FROM fact_operation GROUP BY stay_id
), fees AS (
    SELECT stay_id, sum(CAST(amount AS DOUBLE)) AS total_fee FROM fact_inpatient_fee GROUP BY stay_id
), abx AS (
    SELECT stay_id, sum(ddd_count) AS ddd FROM fact_antibiotic_use GROUP BY stay_id
)
SELECT x.discharge_date AS d, {_NAME_COLS},
       x.stay_id, x.los_days, coalesce(x.is_death, false) AS is_death, x.drg_code,
       g.relative_weight AS rw, coalesce(g.is_low_risk, false) AS is_low_risk,
       g.region_avg_los, CAST(g.region_avg_cost AS DOUBLE) AS region_avg_cost,
       coalesce(ops.n_ops, 0) AS n_ops, coalesce(ops.n_mi, 0) AS n_mi, coalesce(ops.n_l3, 0) AS n_l3,
       coalesce(ops.n_l4, 0) AS n_l4, coalesce(ops.n_l4i, 0) AS n_l4i,
       coalesce(fees.total_fee, 0) AS total_fee, coalesce(abx.ddd, 0) AS ddd
FROM fact_inpatient_stay x
LEFT JOIN dim_drg g ON g.drg_code = x.drg_code
LEFT JOIN ops ON ops.stay_id = x.stay_id
LEFT JOIN fees ON fees.stay_id = x.stay_id
LEFT JOIN abx ON abx.stay_id = x.stay_id
{_NAMES}
WHERE x.discharge_date IS NOT NULL
"""

REF_BED = """
CREATE OR REPLACE TEMP TABLE ref_bed AS
SELECT x.stat_date AS d, c.campus_name AS campus, dp.dept_name AS department,
       x.open_beds, x.occupied_beds
FROM fact_bed_day x
LEFT JOIN dim_campus c ON c.campus_code = x.campus_code
LEFT JOIN dim_department dp ON dp.dept_code = x.dept_code
"""

RELATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # relation -> (temp table, dimensions it can be filtered / grouped by)
    "fee": ("ref_fee", DIMENSIONS),
    "visit": ("ref_visit", DIMENSIONS),
    "stay": ("ref_stay", ("campus", "department", "doctor", "insurance")),
    "bed": ("ref_bed", ("campus", "department")),
}

DRUG = "fee_class_code IN ('F13', 'F14', 'F15')"  # 西药 + 中成药 + 中草药
OUTPATIENT = "visit_type IN ('门诊', '急诊')"
INPATIENT = "visit_type = '住院'"
MATERIAL = "fee_class_code IN ('F21', 'F22', 'F23')"  # 检查用/治疗用/手术用一次性医用材料


def _sum(expr: str, cond: str | None = None) -> str:
    return f"sum({expr})" if cond is None else f"sum(CASE WHEN {cond} THEN {expr} END)"


@dataclass(frozen=True)
class RefMeasure:
    relation: str
    sql: str  # aggregate expression over the relation's rows
    per_day: bool = False  # divide by the number of days of the period


# Every measure of measures.yaml, written by hand from the schema and the 口径 decisions.
MEASURES: dict[str, RefMeasure] = {
    # revenue
    "medical_revenue": RefMeasure("fee", _sum("amount")),
    "outpatient_revenue": RefMeasure("fee", _sum("amount", OUTPATIENT)),
    "inpatient_revenue": RefMeasure("fee", _sum("amount", INPATIENT)),
    "drug_revenue": RefMeasure("fee", _sum("amount", DRUG)),
    "drug_revenue_excl_herbal": RefMeasure("fee", _sum("amount", "fee_class_code IN ('F13', 'F14')")),
    "medical_revenue_excl_herbal": RefMeasure("fee", _sum("amount", "fee_class_code <> 'F15'")),
    "non_drug_revenue": RefMeasure("fee", _sum("amount", f"NOT ({DRUG})")),
    "outpatient_drug_revenue": RefMeasure("fee", _sum("amount", f"{OUTPATIENT} AND {DRUG}")),
    "inpatient_drug_revenue": RefMeasure("fee", _sum("amount", f"{INPATIENT} AND {DRUG}")),
    "material_revenue": RefMeasure("fee", _sum("amount", MATERIAL)),
    "high_value_material_revenue": RefMeasure("fee", _sum("amount", f"{MATERIAL} AND is_hv")),
    # 医疗服务: 挂号/诊察/床位, 治疗操作, 护理, 其他医疗服务, 非手术治疗, 手术治疗, 康复, 中医治疗
    "service_revenue": RefMeasure(
        "fee", _sum("amount", "fee_class_code IN ('F01', 'F02', 'F03', 'F04', 'F09', 'F10', 'F11', 'F12')")
    ),
    # 检查 (F05 病理, F07 影像, F08 临床诊断项目) + 化验 (F06 实验室)
    "exam_lab_revenue": RefMeasure("fee", _sum("amount", "fee_class_code IN ('F05', 'F06', 'F07', 'F08')")),
    "fund_revenue": RefMeasure("fee", _sum("fund_amount")),
    "outpatient_fund_revenue": RefMeasure("fee", _sum("fund_amount", OUTPATIENT)),
    "inpatient_fund_revenue": RefMeasure("fee", _sum("fund_amount", INPATIENT)),
    # outpatient volume
    "visits": RefMeasure("visit", "count(visit_id)"),
    "clinic_visits": RefMeasure("visit", "count(visit_id) FILTER (WHERE visit_type = '门诊')"),
    "emergency_visits": RefMeasure("visit", "count(visit_id) FILTER (WHERE visit_type = '急诊')"),
    # discharges (one row per discharged stay)
    "discharges": RefMeasure("stay", "count(stay_id)"),
    "los_days": RefMeasure("stay", _sum("los_days")),
    "deaths": RefMeasure("stay", "count(*) FILTER (WHERE is_death)"),
    "operated_patients": RefMeasure("stay", "count(*) FILTER (WHERE n_ops > 0)"),
    "operations": RefMeasure("stay", _sum("n_ops")),
    "mi_operations": RefMeasure("stay", _sum("n_mi")),
    "level3_operations": RefMeasure("stay", _sum("n_l3")),
    "level4_operations": RefMeasure("stay", _sum("n_l4")),
    "level4_or_interventional_operations": RefMeasure("stay", _sum("n_l4i")),
    "drg_cases": RefMeasure("stay", "count(drg_code)"),
    "rw_sum": RefMeasure("stay", _sum("rw", "drg_code IS NOT NULL")),
    "time_index_sum": RefMeasure("stay", _sum("los_days / region_avg_los", "drg_code IS NOT NULL")),
    "cost_index_sum": RefMeasure("stay", _sum("total_fee / region_avg_cost", "drg_code IS NOT NULL")),
    "low_risk_cases": RefMeasure("stay", "count(*) FILTER (WHERE drg_code IS NOT NULL AND is_low_risk)"),
    "low_risk_deaths": RefMeasure(
        "stay", "count(*) FILTER (WHERE drg_code IS NOT NULL AND is_low_risk AND is_death)"
    ),
    "ddd_sum": RefMeasure("stay", _sum("ddd")),
    "drg_groups": RefMeasure("stay", "count(DISTINCT drg_code)"),
    # beds (daily census rows)
    "open_bed_days": RefMeasure("bed", _sum("open_beds")),
    "occupied_bed_days": RefMeasure("bed", _sum("occupied_beds")),
    "average_open_beds": RefMeasure("bed", _sum("open_beds"), per_day=True),
}


# ---------------------------------------------------------------------------------------------
# Catalog structure (kinds, versions) from the YAML
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def catalog_indicators() -> dict[str, dict[str, Any]]:
    """code -> raw YAML entry, for every indicator file."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("indicators", []) or []:
            out[entry["code"]] = entry
    return out


def available_indicators() -> list[str]:
    return [c for c, e in catalog_indicators().items() if e.get("status") != "not_available"]


def resolve_code(indicator: str) -> str:
    inds = catalog_indicators()
    if indicator in inds:
        return indicator
    for code, entry in inds.items():
        if indicator == entry.get("name") or indicator in (entry.get("aliases") or []):
            return code
    raise KeyError(indicator)


def version_entry(indicator: str, version: str | None = None) -> dict[str, Any]:
    entry = catalog_indicators()[resolve_code(indicator)]
    versions = entry["versions"]
    if version is None:
        return versions[-1]  # the default is the last version listed
    for v in versions:
        if str(v["version"]) == str(version):
            return v
    raise KeyError(f"{indicator} has no version {version}")


def indicator_measures(indicator: str, version: str | None = None) -> list[str]:
    code = resolve_code(indicator)
    kind = catalog_indicators()[code]["kind"]
    v = version_entry(code, version)
    if kind == "simple":
        return [v["measure"]]
    if kind == "ratio":
        return [v["numerator"], v["denominator"]]
    return indicator_measures(v["base"])


def indicator_relations(indicator: str, version: str | None = None) -> set[str]:
    return {MEASURES[m].relation for m in indicator_measures(indicator, version)}


def supported_dimensions(indicator: str, version: str | None = None) -> set[str]:
    dims = set(DIMENSIONS)
    for rel in indicator_relations(indicator, version):
        dims &= set(RELATIONS[rel][1])
    return dims


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(d: date, months: int, *, keep_month_end: bool) -> date:
    """Shift by whole months; the day is clipped to the month's length, and a month's last day
    stays on the last day when keep_month_end."""
    idx = d.year * 12 + d.month - 1 + months
    y, m = divmod(idx, 12)
    m += 1
    if keep_month_end and d == last_day(d.year, d.month):
        return last_day(y, m)
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def yoy_period(start: date, end: date) -> tuple[date, date]:
    """同比: one calendar year back; Feb 29 -> Feb 28; an end on a month's last day stays last day."""
    return add_months(start, -12, keep_month_end=False), add_months(end, -12, keep_month_end=True)


def growth_base_period(start: date, end: date) -> tuple[date, date]:
    """The 'same period one year earlier' of growth (增幅) indicators: taken to be the 同比 period."""
    return yoy_period(start, end)


def is_whole_months(start: date, end: date) -> bool:
    return start.day == 1 and end == last_day(end.year, end.month)


def mom_period(start: date, end: date) -> tuple[date, date]:
    """环比 without time grouping: the equally long period right before."""
    if is_whole_months(start, end):
        n = (end.year - start.year) * 12 + end.month - start.month + 1
        return add_months(start, -n, keep_month_end=False), start - timedelta(days=1)
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


GRAIN_MONTHS = {"year": 12, "quarter": 3, "month": 1}


def bucket_mom_period(start: date, end: date, grain: str) -> tuple[date, date]:
    """环比 of one time bucket (possibly partial): the same days one grain back."""
    if grain == "day":
        return start - timedelta(days=1), end - timedelta(days=1)
    n = GRAIN_MONTHS[grain]
    return add_months(start, -n, keep_month_end=False), add_months(end, -n, keep_month_end=True)


def bucket_label(d: date, grain: str) -> str:
    if grain == "year":
        return f"{d.year}"
    if grain == "quarter":
        return f"{d.year}Q{(d.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{d.year}-{d.month:02d}"
    return d.isoformat()


def buckets(start: date, end: date, grain: str) -> list[tuple[str, date, date]]:
    """(label, bucket start ∩ period, bucket end ∩ period) for every bucket the period touches."""
    out = []
    d = start
    while d <= end:
        if grain == "day":
            b_end = d
        elif grain == "month":
            b_end = last_day(d.year, d.month)
        elif grain == "quarter":
            q_last_month = ((d.month - 1) // 3) * 3 + 3
            b_end = last_day(d.year, q_last_month)
        else:
            b_end = date(d.year, 12, 31)
        b_end = min(b_end, end)
        out.append((bucket_label(d, grain), d, b_end))
        d = b_end + timedelta(days=1)
    return out


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------

Key = tuple[str, ...]
Filters = dict[str, list[str]]


@dataclass(frozen=True)
class RefRow:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


class Reference:
    """Holds the prepared temp tables of one connection and a cache of aggregated results."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        for ddl in (REF_FEE, REF_VISIT, REF_STAY, REF_BED):
            con.execute(ddl)
        meta = dict(con.execute("SELECT key, value FROM meta_warehouse").fetchall())
        self.data_start = date.fromisoformat(meta["start_date"])
        self.as_of = date.fromisoformat(meta["as_of_date"])
        self._cache: dict[tuple, dict[Key, dict[str, float]]] = {}

    # -- measures -------------------------------------------------------------------------------
    def _relation_sums(
        self, relation: str, start: date, end: date, filters: Filters, dims: tuple[str, ...]
    ) -> dict[Key, dict[str, float]]:
        """All measures of a relation in one statement: {group key: {measure: value}}."""
        cache_key = (relation, start, end, tuple(sorted((k, tuple(v)) for k, v in filters.items())), dims)
        if cache_key in self._cache:
            return self._cache[cache_key]
        table, supported = RELATIONS[relation]
        for dim in (*filters, *dims):
            if dim not in supported:
                raise UnsupportedInReference(f"{relation} cannot be cut by {dim}")
        names = [m for m, spec in MEASURES.items() if spec.relation == relation]
        where = ["d BETWEEN ? AND ?"]
        params: list[Any] = [start, end]
        for dim, values in filters.items():
            where.append(f"{dim} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
        select = [*dims, *(f"{MEASURES[m].sql} AS {m}" for m in names)]
        sql = f"SELECT {', '.join(select)} FROM {table} WHERE {' AND '.join(where)}"
        if dims:
            sql += f" GROUP BY {', '.join(dims)}"
        out: dict[Key, dict[str, float]] = {}
        n_days = (end - start).days + 1
        for rec in self.con.execute(sql, params).fetchall():
            # ungrouped: always one row (sums over no rows are NULL -> 0); grouped: a group with no
            # row of the relation after filtering is absent
            key = tuple(rec[: len(dims)])
            vals = {}
            for m, v in zip(names, rec[len(dims) :], strict=True):
                v = float(v or 0)
                vals[m] = v / n_days if MEASURES[m].per_day else v
            out[key] = vals
        self._cache[cache_key] = out
        return out

    def measure(
        self,
        measure: str,
        start: date,
        end: date,
        filters: Filters | None = None,
        dims: tuple[str, ...] = (),
    ) -> dict[Key, float]:
        spec = MEASURES[measure]
        sums = self._relation_sums(spec.relation, start, end, dict(filters or {}), dims)
        return {k: v[measure] for k, v in sums.items()}

    # -- indicators -----------------------------------------------------------------------------
    def rows(
        self,
        indicator: str,
        start: date,
        end: date,
        filters: Filters | None = None,
        version: str | None = None,
        group_by: list[str] | tuple[str, ...] | None = None,
    ) -> dict[Key, RefRow]:
        group_by = tuple(group_by or ())
        grains = [g for g in group_by if g in TIME_GRAINS]
        dims = tuple(g for g in group_by if g not in TIME_GRAINS)
        if len(grains) > 1:
            raise UnsupportedInReference("at most one time grain")
        filters = dict(filters or {})
        supported = supported_dimensions(indicator, version)
        for dim in (*filters, *dims):
            if dim not in supported:
                raise UnsupportedInReference(f"{indicator} cannot be cut by {dim}")
        if not grains:
            return self._rows_no_time(indicator, start, end, filters, version, dims)
        grain = grains[0]
        pos = group_by.index(grain)
        out: dict[Key, RefRow] = {}
        for label, b_start, b_end in buckets(start, end, grain):
            for key, row in self._rows_no_time(indicator, b_start, b_end, filters, version, dims).items():
                out[(*key[:pos], label, *key[pos:])] = row
        return out

    def _rows_no_time(
        self,
        indicator: str,
        start: date,
        end: date,
        filters: Filters,
        version: str | None,
        dims: tuple[str, ...],
    ) -> dict[Key, RefRow]:
        code = resolve_code(indicator)
        kind = catalog_indicators()[code]["kind"]
        v = version_entry(code, version)
        if kind == "simple":
            return {k: RefRow(x) for k, x in self.measure(v["measure"], start, end, filters, dims).items()}
        if kind == "ratio":
            scale = float(v.get("scale", 1) or 1)
            num = self.measure(v["numerator"], start, end, filters, dims)
            den = self.measure(v["denominator"], start, end, filters, dims)
            out = {}
            for key in num.keys() | den.keys():
                n, d = num.get(key, 0.0), den.get(key, 0.0)
                out[key] = RefRow(n / d * scale if d else None, n, d)
            return out
        if kind == "growth":
            base = v["base"]
            cur = self._rows_no_time(base, start, end, filters, None, dims)
            p_start, p_end = growth_base_period(start, end)
            if p_start < self.data_start:
                return {k: RefRow(None) for k in cur}
            prev = self._rows_no_time(base, p_start, p_end, filters, None, dims)
            # a group without rows: a simple base is 0 there, a ratio base has no value
            empty = RefRow(0.0 if catalog_indicators()[resolve_code(base)]["kind"] == "simple" else None)
            out = {}
            for key in cur.keys() | prev.keys():
                c = cur.get(key, empty).value
                p = prev.get(key, empty).value
                value = (c / p - 1) * 100 if c is not None and p else None
                out[key] = RefRow(value, c, p)
            return out
        raise ValueError(f"unknown kind {kind}")

    def value(
        self,
        indicator: str,
        start: date,
        end: date,
        filters: Filters | None = None,
        version: str | None = None,
    ) -> float | None:
        """The ungrouped value, None where the period begins before the data (no comparison)."""
        if start < self.data_start:
            return None
        return self.rows(indicator, start, end, filters, version).get((), RefRow(None)).value


_REFERENCES: dict[int, Reference] = {}


def reference_for(con: duckdb.DuckDBPyConnection) -> Reference:
    ref = _REFERENCES.get(id(con))
    if ref is None or ref.con is not con:
        ref = _REFERENCES[id(con)] = Reference(con)
    return ref


def reference_measure(
    con: duckdb.DuckDBPyConnection,
    measure_name: str,
    start: date,
    end: date,
    filters: Filters | None = None,
) -> float:
    return reference_for(con).measure(measure_name, start, end, filters).get((), 0.0)


def reference_rows(
    con: duckdb.DuckDBPyConnection,
    indicator_code: str,
    start: date,
    end: date,
    filters: Filters | None = None,
    version: str | None = None,
    group_by: list[str] | None = None,
) -> dict[Key, RefRow]:
    return reference_for(con).rows(indicator_code, start, end, filters, version, group_by)


def reference_indicator(
    con: duckdb.DuckDBPyConnection,
    indicator_code: str,
    start: date,
    end: date,
    filters: Filters | None = None,
    version: str | None = None,
    group_by: list[str] | None = None,
) -> dict[Key, float | None]:
    rows = reference_rows(con, indicator_code, start, end, filters, version, group_by)
    return {k: r.value for k, r in rows.items()}
