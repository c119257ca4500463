"""The pre-aggregated tables agree with the raw facts they are built from."""

import pytest

from indicators.warehouse.aggregates import DAILY, monthly_name


@pytest.fixture(scope="module")
def con(raw_con):
    return raw_con


def scalar(con, sql: str) -> float:
    return float(con.execute(sql).fetchone()[0] or 0)


def test_fee_totals_match_raw_lines(con) -> None:
    raw_out = scalar(con, "SELECT SUM(amount) FROM fact_outpatient_fee")
    raw_in = scalar(
        con,
        "SELECT SUM(f.amount) FROM fact_inpatient_fee f JOIN fact_inpatient_stay s USING (stay_id) "
        "WHERE s.discharge_date IS NOT NULL",
    )
    agg = dict(
        con.execute("SELECT visit_type = '住院', SUM(amount) FROM agg_fee_daily GROUP BY 1").fetchall()
    )
    assert float(agg[False]) == pytest.approx(raw_out)
    assert float(agg[True]) == pytest.approx(raw_in)


def test_visit_discharge_and_bed_counts_match_raw(con) -> None:
    assert scalar(con, "SELECT SUM(visits) FROM agg_visit_daily") == scalar(
        con, "SELECT COUNT(*) FROM fact_outpatient_visit"
    )
    assert scalar(con, "SELECT SUM(discharges) FROM agg_discharge_daily") == scalar(
        con, "SELECT COUNT(*) FROM fact_inpatient_stay WHERE discharge_date IS NOT NULL"
    )
    assert scalar(con, "SELECT SUM(operations) FROM agg_discharge_daily") == scalar(
        con,
        "SELECT COUNT(*) FROM fact_operation o JOIN fact_inpatient_stay s USING (stay_id) "
        "WHERE s.discharge_date IS NOT NULL",
    )
    assert scalar(con, "SELECT SUM(occupied_bed_days) FROM agg_bed_daily") == scalar(
        con, "SELECT SUM(occupied_beds) FROM fact_bed_day"
    )


@pytest.mark.parametrize("daily", list(DAILY))
def test_monthly_tables_roll_up_daily_tables(con, daily: str) -> None:
    _, measures, _ = DAILY[daily]
    for column in measures:
        assert scalar(con, f"SELECT SUM({column}) FROM {monthly_name(daily)}") == pytest.approx(
            scalar(con, f"SELECT SUM({column}) FROM {daily}")
        )
    assert scalar(con, f"SELECT COUNT(*) FROM {monthly_name(daily)}") < scalar(
        con, f"SELECT COUNT(*) FROM {daily}"
    )


def test_aggregates_carry_no_patient_identifiers(con) -> None:
    for table in [*DAILY, *map(monthly_name, DAILY)]:
        columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        assert not {c for c in columns if c.startswith("patient")}, table
