"""Generated SQL per engine, compared with checked-in snapshots (set OPSBRAIN_UPDATE_SNAPSHOTS=1 to rewrite).

A change to the compiler shows up here as a readable diff of the SQL that hospitals will run.
"""

import os
from datetime import date
from pathlib import Path

import pytest
from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import postgresql

from indicators import default_catalog
from indicators.query.compiler import SourceQuery, compile_source_query, render_sql
from indicators.query.periods import Period

SNAPSHOTS = Path(__file__).parent / "snapshots"
DIALECTS = {"duckdb": DuckDBDialect(), "postgresql": postgresql.dialect()}

CASES = {
    # 药占比, 2023 year to date, one department, by month
    "drug_ratio_dept_month": (
        ["drug_revenue", "medical_revenue"],
        Period(date(2023, 1, 1), date(2023, 9, 8)),
        {"department": ("NK04",)},
        (),
        "month",
    ),
    # 床位使用率 across a year boundary with edge days on both sides, by campus
    "bed_occupancy_campus_edges": (
        ["occupied_bed_days", "open_bed_days"],
        Period(date(2021, 11, 15), date(2022, 2, 10)),
        {},
        ("campus",),
        None,
    ),
    # DRG组数 for one doctor over a few days (daily table only)
    "drg_groups_doctor_days": (
        ["drg_groups"],
        Period(date(2020, 2, 27), date(2020, 3, 2)),
        {"doctor": ("D0001",)},
        (),
        None,
    ),
}


def compiled(case: str, dialect: str) -> str:
    names, period, filters, dims, grain = CASES[case]
    catalog = default_catalog()
    measures = tuple(catalog.measures[n] for n in names)
    source = catalog.sources[measures[0].source]
    stmt, _ = compile_source_query(SourceQuery(source, measures, period, filters, dims, grain))
    return render_sql(stmt, DIALECTS[dialect]) + "\n"


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("case", list(CASES))
def test_sql_matches_snapshot(case: str, dialect: str) -> None:
    path = SNAPSHOTS / f"{case}.{dialect}.sql"
    sql = compiled(case, dialect)
    if os.environ.get("OPSBRAIN_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8")


def test_user_values_are_bound_parameters_not_sql_text() -> None:
    names, period, _, dims, grain = CASES["drug_ratio_dept_month"]
    catalog = default_catalog()
    measures = tuple(catalog.measures[n] for n in names)
    hostile = "x'); DROP TABLE agg_fee_daily; --"
    stmt, _ = compile_source_query(
        SourceQuery(catalog.sources["fee"], measures, period, {"department": (hostile,)}, dims, grain)
    )
    compiled_stmt = stmt.compile(dialect=postgresql.dialect())
    assert hostile not in str(compiled_stmt)
    assert hostile in [v for p in compiled_stmt.params.values() for v in (p if isinstance(p, list) else [p])]
