"""The same indicator queries on PostgreSQL give the same answers as on DuckDB."""

import os
from datetime import date

import pytest
import sqlalchemy as sa

from indicators import IndicatorQuery, Warehouse, default_catalog
from indicators.warehouse.transfer import copy_to_postgres

PG_URL = os.environ.get("OPSBRAIN_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not PG_URL, reason="no PostgreSQL server: set OPSBRAIN_TEST_POSTGRES_URL (.ci/run starts one)"
    ),
]


@pytest.fixture(scope="module")
def pg_warehouse(raw_con):
    copy_to_postgres(raw_con, PG_URL)
    wh = Warehouse(PG_URL)
    yield wh
    wh.close()


def test_raw_tables_copied_completely(pg_warehouse, warehouse) -> None:
    for table in ["fact_outpatient_fee", "fact_inpatient_stay", "agg_fee_monthly", "agg_discharge_daily"]:
        counts = []
        for wh in (warehouse, pg_warehouse):
            with wh.engine.connect() as conn:
                counts.append(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar())
        assert counts[0] == counts[1] > 0, table


@pytest.mark.parametrize(
    "code", [i.code for i in default_catalog().indicators.values() if i.status == "active"]
)
def test_every_indicator_agrees_between_engines(pg_warehouse, warehouse, code: str) -> None:
    q = IndicatorQuery(
        indicators=[code],
        start=date(2022, 11, 15),
        end=date(2023, 9, 8),
        group_by=["quarter"],
        compare=["yoy"],
    )
    a, b = warehouse.query(q).results[0], pg_warehouse.query(q).results[0]
    assert [r.keys for r in a.rows] == [r.keys for r in b.rows]
    for ra, rb in zip(a.rows, b.rows, strict=True):
        assert ra.value == pytest.approx(rb.value, rel=1e-9, nan_ok=True)
        assert ra.comparisons["yoy"].value == pytest.approx(rb.comparisons["yoy"].value, rel=1e-9)
    assert "agg_" in b.sql[0]


def test_filters_and_errors_on_postgres(pg_warehouse) -> None:
    q = IndicatorQuery(
        indicators=["药占比"],
        start=date(2023, 1, 1),
        end=date(2023, 9, 8),
        filters={"department": ["心血管内科"], "insurance": ["职工医保"]},
        group_by=["month"],
    )
    rows = pg_warehouse.query(q).results[0].rows
    assert len(rows) == 9 and all(r.value is not None for r in rows)


def test_scope_and_small_cells_on_postgres(pg_warehouse, demo_db_path) -> None:
    """The data scope and the small-cell counts compile to the same results on both engines."""
    from indicators.query.access import DataAccess

    code = pg_warehouse.dimensions.resolve("department", ["心血管内科"])[0].code
    scope = DataAccess(label="心血管内科", department=(code,))
    q = IndicatorQuery(
        indicators=["出院人次", "药占比"], start=date(2022, 1, 1), end=date(2022, 12, 31), group_by=["doctor"]
    )
    duck = Warehouse(demo_db_path, min_cell=5)
    pg = Warehouse(pg_warehouse.url, min_cell=5)
    try:
        on_duck, on_pg = duck.query(q, scope), pg.query(q, scope)
        for a, b in zip(on_duck.results, on_pg.results, strict=True):
            assert [(r.keys, r.value, r.suppressed) for r in a.rows] == [
                (r.keys, r.value, r.suppressed) for r in b.rows
            ]
        assert any(r.suppressed for r in on_pg.results[0].rows)
    finally:
        duck.close()
        pg.close()
