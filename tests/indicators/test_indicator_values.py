"""The query engine equals the independent reference (tests/indicators/reference.py) for every
available indicator, period, filter, grouping, comparison and caliber version.

The first tests prove the reference itself on a hand-made tiny warehouse whose expected values are
worked out by hand. The rest compare the engine on the session's demo warehouse with the reference
computed from the raw fact tables.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from indicators import IndicatorError, IndicatorQuery, Warehouse
from tests.indicators.reference import (
    TIME_GRAINS,
    Reference,
    RefRow,
    available_indicators,
    bucket_mom_period,
    buckets,
    catalog_indicators,
    mom_period,
    reference_for,
    reference_indicator,
    reference_measure,
    supported_dimensions,
    version_entry,
    yoy_period,
)

REL_TOL = 1e-6
INDICATORS = available_indicators()
MULTI_VERSION = [
    (code, str(v["version"]))
    for code in INDICATORS
    for v in catalog_indicators()[code]["versions"]
    if len(catalog_indicators()[code]["versions"]) > 1
]

# =============================================================================================
# Part 1: the reference on a hand-made tiny warehouse
# =============================================================================================

TINY_DDL = """
CREATE TABLE dim_campus (campus_code VARCHAR PRIMARY KEY, campus_name VARCHAR, opened_on DATE);
CREATE TABLE dim_department (dept_code VARCHAR PRIMARY KEY, dept_name VARCHAR UNIQUE, dept_group VARCHAR,
    dept_type VARCHAR, is_surgical BOOLEAN, has_inpatient BOOLEAN);
CREATE TABLE dim_doctor (doctor_code VARCHAR PRIMARY KEY, doctor_name VARCHAR UNIQUE, dept_code VARCHAR,
    campus_code VARCHAR, title VARCHAR);
CREATE TABLE dim_insurance (insurance_code VARCHAR PRIMARY KEY, insurance_name VARCHAR);
CREATE TABLE dim_charge_item (item_code VARCHAR PRIMARY KEY, item_name VARCHAR, fee_class_code VARCHAR,
    unit_price DECIMAL(14,2), is_high_value_material BOOLEAN, is_antibiotic BOOLEAN, ddd_per_unit DOUBLE);
CREATE TABLE dim_drg (drg_code VARCHAR PRIMARY KEY, drg_name VARCHAR, mdc_code VARCHAR,
    relative_weight DOUBLE, is_low_risk BOOLEAN, region_avg_cost DECIMAL(14,2), region_avg_los DOUBLE);
CREATE TABLE fact_outpatient_visit (visit_id BIGINT PRIMARY KEY, visit_date DATE, visit_type VARCHAR,
    campus_code VARCHAR, dept_code VARCHAR, doctor_code VARCHAR, insurance_code VARCHAR,
    patient_id VARCHAR, patient_age INTEGER);
CREATE TABLE fact_outpatient_fee (fee_id BIGINT PRIMARY KEY, visit_id BIGINT, fee_date DATE,
    item_code VARCHAR, fee_class_code VARCHAR, exec_dept_code VARCHAR, quantity DOUBLE,
    amount DECIMAL(14,2), fund_amount DECIMAL(14,2));
CREATE TABLE fact_inpatient_stay (stay_id BIGINT PRIMARY KEY, patient_id VARCHAR, patient_age INTEGER,
    campus_code VARCHAR, admit_dept_code VARCHAR, dept_code VARCHAR, doctor_code VARCHAR, ward_code VARCHAR,
    insurance_code VARCHAR, admit_date DATE, discharge_date DATE, los_days INTEGER,
    principal_dx_code VARCHAR, drg_code VARCHAR, discharge_outcome VARCHAR, is_death BOOLEAN);
CREATE TABLE fact_operation (operation_id BIGINT PRIMARY KEY, stay_id BIGINT, operation_date DATE,
    op_code VARCHAR, op_level INTEGER, is_minimally_invasive BOOLEAN, is_interventional BOOLEAN,
    is_level4_managed BOOLEAN, surgeon_code VARCHAR);
CREATE TABLE fact_inpatient_fee (fee_id BIGINT PRIMARY KEY, stay_id BIGINT, fee_date DATE,
    item_code VARCHAR, fee_class_code VARCHAR, exec_dept_code VARCHAR, quantity DOUBLE,
    amount DECIMAL(14,2), fund_amount DECIMAL(14,2));
CREATE TABLE fact_antibiotic_use (use_id BIGINT PRIMARY KEY, stay_id BIGINT, use_date DATE,
    item_code VARCHAR, ddd_count DOUBLE);
CREATE TABLE fact_bed_day (stat_date DATE, campus_code VARCHAR, dept_code VARCHAR, ward_code VARCHAR,
    open_beds INTEGER, occupied_beds INTEGER);
CREATE TABLE meta_warehouse (key VARCHAR, value VARCHAR);

INSERT INTO meta_warehouse VALUES ('start_date', '2022-01-01'), ('as_of_date', '2023-09-08');
INSERT INTO dim_campus VALUES ('BB', '本部', '2000-01-01'), ('DY', '东院区', '2010-01-01');
INSERT INTO dim_department VALUES ('NK04', '心血管内科', '内科', '临床', false, true),
    ('WK01', '普通外科', '外科', '临床', true, true), ('YJ01', '医学影像科', '医技', '医技', false, false);
INSERT INTO dim_doctor VALUES ('D0001', '张三', 'NK04', 'BB', '主任医师'),
    ('D0002', '李四', 'WK01', 'DY', '主治医师');
INSERT INTO dim_insurance VALUES ('ZG', '职工医保'), ('ZF', '自费');
INSERT INTO dim_charge_item VALUES
    ('DRUG1', '阿莫西林胶囊', 'F13', 10, false, true, 0.5),
    ('HERB1', '中药饮片', 'F15', 5, false, false, NULL),
    ('STENT', '冠脉支架', 'F22', 5000, true, false, NULL),
    ('GAUZE', '纱布', 'F22', 1, false, false, NULL),
    ('CT', '头颅CT平扫', 'F07', 200, false, false, NULL),
    ('REG', '挂号费', 'F01', 20, false, false, NULL),
    ('ALB', '人血白蛋白', 'F17', 300, false, false, NULL);
INSERT INTO dim_drg VALUES ('G1', '组1', 'MDCF', 1.5, false, 10000, 10),
    ('G2', '组2', 'MDCG', 0.5, true, 2000, 4);

INSERT INTO fact_outpatient_visit VALUES
    (1, '2023-03-05', '门诊', 'BB', 'NK04', 'D0001', 'ZG', 'P1', 50),
    (2, '2023-03-06', '急诊', 'DY', 'WK01', 'D0002', 'ZF', 'P2', 30),
    (3, '2022-03-05', '门诊', 'BB', 'NK04', 'D0001', 'ZG', 'P1', 49),
    (4, '2023-04-01', '门诊', 'BB', 'NK04', 'D0001', 'ZG', 'P3', 60),
    (5, '2023-03-07', '门诊', 'BB', 'NK04', 'D0001', 'ZG', 'P4', 70);
INSERT INTO fact_outpatient_fee VALUES
    (1, 1, '2023-03-05', 'DRUG1', 'F13', 'NK04', 10, 100, 60),
    (2, 1, '2023-03-05', 'REG', 'F01', 'NK04', 1, 20, 0),
    (3, 2, '2023-03-06', 'CT', 'F07', 'YJ01', 1, 200, 0),
    (4, 2, '2023-03-06', 'HERB1', 'F15', 'NK04', 10, 50, 0),
    (5, 3, '2022-03-05', 'DRUG1', 'F13', 'NK04', 8, 80, 50),
    -- billed class disagrees with the dictionary: counts as billed (drug), not as material
    (6, 4, '2023-04-01', 'STENT', 'F13', 'NK04', 1, 30, 0);
INSERT INTO fact_inpatient_stay VALUES
    (1, 'P1', 50, 'BB', 'NK04', 'NK04', 'D0001', 'W1', 'ZG', '2023-02-25', '2023-03-05', 8, 'I21', 'G1', '好转', false),
    (2, 'P2', 30, 'DY', 'WK01', 'WK01', 'D0002', 'W2', 'ZF', '2023-03-01', '2023-03-04', 3, 'K35', 'G2', '死亡', true),
    (3, 'P3', 60, 'BB', 'WK01', 'NK04', 'D0001', 'W1', 'ZG', '2023-02-20', '2023-04-02', 41, 'I50', NULL, '好转', false),
    (4, 'P4', 70, 'BB', 'NK04', 'NK04', 'D0001', 'W1', 'ZG', '2023-03-20', NULL, NULL, 'I50', NULL, NULL, false),
    (5, 'P5', 40, 'BB', 'NK04', 'NK04', 'D0001', 'W1', 'ZG', '2022-03-05', '2022-03-10', 5, 'I21', 'G1', '治愈', false);
INSERT INTO fact_operation VALUES
    (1, 1, '2023-02-26', 'OP4', 4, true, false, false, 'D0001'),
    (2, 1, '2023-02-27', 'OP3', 3, false, true, false, 'D0001'),
    (3, 2, '2023-03-02', 'OPX', NULL, false, true, true, 'D0002'),
    (4, 4, '2023-03-21', 'OP4', 4, false, false, false, 'D0001'),
    (5, 2, '2023-03-02', 'OPI', 3, false, true, true, 'D0002');
INSERT INTO fact_inpatient_fee VALUES
    (1, 1, '2023-02-26', 'DRUG1', 'F13', 'NK04', 100, 1000, 700),
    (2, 1, '2023-02-27', 'STENT', 'F22', 'NK04', 1, 5000, 3000),
    (3, 1, '2023-02-27', 'GAUZE', 'F22', 'NK04', 100, 100, 0),
    (4, 1, '2023-03-01', 'ALB', 'F17', 'NK04', 1, 300, 0),
    (5, 1, '2023-03-02', 'HERB1', 'F15', 'NK04', 40, 200, 0),
    (6, 2, '2023-03-02', 'CT', 'F07', 'YJ01', 2, 400, 0),
    (7, 3, '2023-03-10', 'DRUG1', 'F13', 'NK04', 70, 700, 500),
    (8, 4, '2023-03-21', 'DRUG1', 'F13', 'NK04', 99, 999, 0),
    (9, 5, '2022-03-06', 'DRUG1', 'F13', 'NK04', 200, 2000, 1000);
INSERT INTO fact_antibiotic_use VALUES
    (1, 1, '2023-02-26', 'DRUG1', 3.5), (2, 1, '2023-02-27', 'DRUG1', 2.0), (3, 4, '2023-03-21', 'DRUG1', 9.0);
INSERT INTO fact_bed_day VALUES
    ('2023-03-01', 'BB', 'NK04', 'W1', 10, 8), ('2023-03-02', 'BB', 'NK04', 'W1', 10, 8),
    ('2023-03-03', 'BB', 'NK04', 'W1', 10, 8), ('2023-03-01', 'DY', 'WK01', 'W2', 5, 5),
    ('2023-03-02', 'DY', 'WK01', 'W2', 5, 5), ('2023-03-03', 'DY', 'WK01', 'W2', 5, 5);
"""

MARCH = (date(2023, 3, 1), date(2023, 3, 31))

# Worked out by hand for 2023-03 (visits 1, 2, 5; discharged stays 1 and 2; stay 3 leaves in
# April and stay 4 is still in hospital).
TINY_MARCH_MEASURES = {
    "medical_revenue": 120 + 250 + 6600 + 400,
    "outpatient_revenue": 370,
    "inpatient_revenue": 7000,
    "drug_revenue": 100 + 50 + 1000 + 200,
    "drug_revenue_excl_herbal": 1100,
    "medical_revenue_excl_herbal": 7370 - 250,
    "non_drug_revenue": 7370 - 1350,
    "outpatient_drug_revenue": 150,
    "inpatient_drug_revenue": 1200,
    "material_revenue": 5100,
    "high_value_material_revenue": 5000,
    "service_revenue": 20,
    "exam_lab_revenue": 600,
    "fund_revenue": 60 + 700 + 3000,
    "outpatient_fund_revenue": 60,
    "inpatient_fund_revenue": 3700,
    "visits": 3,
    "clinic_visits": 2,
    "emergency_visits": 1,
    "discharges": 2,
    "los_days": 11,
    "deaths": 1,
    "operated_patients": 2,
    "operations": 4,
    "mi_operations": 1,
    "level3_operations": 2,
    "level4_operations": 1,
    # level 4, and a level-3 interventional one marked as managed at level 4; not the level-3
    # interventional one without the mark, nor the one with no recorded level (marked or not)
    "level4_or_interventional_operations": 2,
    "drg_cases": 2,
    "rw_sum": 2.0,
    "time_index_sum": 8 / 10 + 3 / 4,
    "cost_index_sum": 6600 / 10000 + 400 / 2000,  # all fee lines of the stay, whatever their date
    "low_risk_cases": 1,
    "low_risk_deaths": 1,
    "ddd_sum": 5.5,
    "drg_groups": 2,
    "open_bed_days": 45,
    "occupied_bed_days": 39,
    "average_open_beds": 45 / 31,
}


@pytest.fixture(scope="module")
def tiny_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TINY_DDL)
    con.close()
    ro = duckdb.connect(str(path), read_only=True)
    yield ro
    ro.close()


def test_reference_covers_every_catalog_measure() -> None:
    import yaml

    from tests.indicators.reference import CATALOG_DIR, MEASURES

    names = {m["name"] for m in yaml.safe_load((CATALOG_DIR / "measures.yaml").read_text())["measures"]}
    assert names == set(MEASURES) == set(TINY_MARCH_MEASURES)


@pytest.mark.parametrize("measure", sorted(TINY_MARCH_MEASURES))
def test_reference_measures_on_tiny_warehouse(tiny_con, measure: str) -> None:
    got = reference_measure(tiny_con, measure, *MARCH)
    assert got == pytest.approx(TINY_MARCH_MEASURES[measure], rel=1e-12)


def test_reference_filters_and_groups_on_tiny_warehouse(tiny_con) -> None:
    cardio = {"department": ["心血管内科"]}
    assert reference_measure(tiny_con, "medical_revenue", *MARCH, cardio) == pytest.approx(120 + 6600)
    assert reference_measure(tiny_con, "average_open_beds", *MARCH, cardio) == pytest.approx(30 / 31)
    assert reference_measure(tiny_con, "discharges", *MARCH, {"doctor": ["李四"]}) == 1
    assert reference_measure(tiny_con, "inpatient_revenue", *MARCH, {"insurance": ["自费"]}) == 400
    emergency = {"visit_type": ["急诊"]}
    assert reference_measure(tiny_con, "medical_revenue", *MARCH, emergency) == 250
    assert reference_measure(tiny_con, "visits", *MARCH, emergency) == 1
    assert reference_measure(tiny_con, "medical_revenue", *MARCH, {"visit_type": ["住院"]}) == 7000
    assert reference_measure(tiny_con, "occupied_bed_days", *MARCH, {"campus": ["东院区"]}) == 15

    drug = reference_indicator(tiny_con, "药占比", *MARCH)
    assert drug == {(): pytest.approx(1350 / 7370 * 100)}
    assert reference_indicator(tiny_con, "drug_ratio_excl_herbal", *MARCH) == {
        (): pytest.approx(1100 / 7120 * 100)
    }
    assert reference_indicator(tiny_con, "drug_ratio_excl_herbal", *MARCH, version="1.0") == {
        (): pytest.approx(1100 / 7370 * 100)
    }
    # 4 operations: 1 of level 4; v2.0 adds the level-3 interventional one marked as managed at level 4
    # (not the unmarked one, nor the marked one whose level was never recorded)
    assert reference_indicator(tiny_con, "level4_surgery_share", *MARCH, version="1.0") == {
        (): pytest.approx(100 / 4)
    }
    assert reference_indicator(tiny_con, "level4_surgery_share", *MARCH) == {(): pytest.approx(200 / 4)}
    assert reference_indicator(tiny_con, "bed_turnover", *MARCH) == {(): pytest.approx(2 / (45 / 31))}
    assert reference_indicator(tiny_con, "antibiotic_intensity", *MARCH) == {(): pytest.approx(550 / 11)}
    assert reference_indicator(tiny_con, "cmi", *MARCH) == {(): pytest.approx(1.0)}

    by_dept = reference_indicator(tiny_con, "drug_ratio", *MARCH, group_by=["department"])
    assert by_dept == {
        ("心血管内科",): pytest.approx(1300 / 6720 * 100),
        ("普通外科",): pytest.approx(50 / 650 * 100),
    }
    # ratios of a group are sums over sums; per-day measures divide by the bucket's days in period
    by_month = reference_indicator(
        tiny_con, "medical_revenue", date(2023, 3, 1), date(2023, 4, 30), group_by=["month"]
    )
    assert by_month == {("2023-03",): 7370, ("2023-04",): 30 + 700}
    beds = reference_indicator(
        tiny_con, "average_open_beds", date(2023, 2, 20), date(2023, 3, 10), group_by=["month", "campus"]
    )
    assert beds == {
        ("2023-03", "本部"): pytest.approx(30 / 10),
        ("2023-03", "东院区"): pytest.approx(15 / 10),
    }
    assert reference_indicator(tiny_con, "drg_group_count", *MARCH, group_by=["doctor"]) == {
        ("张三",): 1,
        ("李四",): 1,
    }

    # growth: one year back; a prior period before the data start has no value
    growth = reference_indicator(tiny_con, "medical_revenue_growth", *MARCH)
    assert growth == {(): pytest.approx((7370 / 2080 - 1) * 100)}
    assert reference_indicator(tiny_con, "medical_revenue_growth", date(2022, 3, 1), date(2022, 3, 31)) == {
        (): None
    }
    ref = reference_for(tiny_con)
    assert ref.value("medical_revenue", date(2021, 3, 1), date(2021, 3, 31)) is None


def test_reference_unsupported_cuts(tiny_con) -> None:
    from tests.indicators.reference import UnsupportedInReference

    with pytest.raises(UnsupportedInReference):
        reference_indicator(tiny_con, "bed_occupancy_rate", *MARCH, {"doctor": ["张三"]})
    with pytest.raises(UnsupportedInReference):
        reference_indicator(tiny_con, "discharges", *MARCH, {"visit_type": ["急诊"]})
    assert supported_dimensions("bed_turnover") == {"campus", "department"}
    assert supported_dimensions("drug_ratio") == {"campus", "department", "doctor", "insurance", "visit_type"}


@pytest.mark.parametrize(
    ("start", "end", "yoy", "mom"),
    [
        (
            date(2023, 1, 1),
            date(2023, 9, 8),
            (date(2022, 1, 1), date(2022, 9, 8)),
            (date(2022, 4, 25), date(2022, 12, 31)),
        ),  # 251 days
        (
            date(2022, 1, 1),
            date(2022, 12, 31),
            (date(2021, 1, 1), date(2021, 12, 31)),
            (date(2021, 1, 1), date(2021, 12, 31)),
        ),
        (
            date(2020, 2, 1),
            date(2020, 2, 29),
            (date(2019, 2, 1), date(2019, 2, 28)),
            (date(2020, 1, 1), date(2020, 1, 31)),
        ),
        (
            date(2021, 2, 1),
            date(2021, 2, 28),
            (date(2020, 2, 1), date(2020, 2, 29)),
            (date(2021, 1, 1), date(2021, 1, 31)),
        ),
        (
            date(2023, 4, 1),
            date(2023, 6, 30),
            (date(2022, 4, 1), date(2022, 6, 30)),
            (date(2023, 1, 1), date(2023, 3, 31)),
        ),
        (
            date(2021, 11, 15),
            date(2022, 2, 10),
            (date(2020, 11, 15), date(2021, 2, 10)),
            (date(2021, 8, 19), date(2021, 11, 14)),
        ),
        (
            date(2024, 2, 29),
            date(2024, 2, 29),
            (date(2023, 2, 28), date(2023, 2, 28)),
            (date(2024, 2, 28), date(2024, 2, 28)),
        ),
    ],
)
def test_reference_comparison_periods(start, end, yoy, mom) -> None:
    assert yoy_period(start, end) == yoy
    assert mom_period(start, end) == mom


def test_reference_buckets() -> None:
    assert buckets(date(2021, 11, 15), date(2022, 2, 10), "quarter") == [
        ("2021Q4", date(2021, 11, 15), date(2021, 12, 31)),
        ("2022Q1", date(2022, 1, 1), date(2022, 2, 10)),
    ]
    assert [b[0] for b in buckets(date(2023, 2, 27), date(2023, 3, 1), "day")] == [
        "2023-02-27",
        "2023-02-28",
        "2023-03-01",
    ]
    assert bucket_mom_period(date(2023, 9, 1), date(2023, 9, 8), "month") == (
        date(2023, 8, 1),
        date(2023, 8, 8),
    )
    assert bucket_mom_period(date(2023, 1, 1), date(2023, 3, 31), "quarter") == (
        date(2022, 10, 1),
        date(2022, 12, 31),
    )
    assert bucket_mom_period(date(2023, 3, 1), date(2023, 3, 31), "month") == (
        date(2023, 2, 1),
        date(2023, 2, 28),
    )


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The engine over the same tiny data (pre-aggregations built by the project's own builder)."""
    from indicators.warehouse.aggregates import build_aggregates

    path = tmp_path_factory.mktemp("tiny_engine") / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TINY_DDL)
    build_aggregates(con.execute)
    con.close()
    wh = Warehouse(path)
    yield wh
    wh.close()


TINY_CASES = {
    "march": (MARCH, [], ["yoy", "mom"]),
    "by_month": ((date(2023, 2, 20), date(2023, 4, 30)), ["month"], ["yoy", "mom"]),
    "by_department": (MARCH, ["department"], ["yoy"]),
    "by_doctor": (MARCH, ["doctor"], []),
}


@pytest.mark.parametrize("case", list(TINY_CASES))
@pytest.mark.parametrize("indicator", INDICATORS)
def test_engine_equals_reference_on_tiny_warehouse(tiny_con, tiny_engine, indicator: str, case: str) -> None:
    (start, end), group_by, compare = TINY_CASES[case]
    if not {g for g in group_by if g not in TIME_GRAINS} <= supported_dimensions(indicator):
        return
    result = tiny_engine.query(
        IndicatorQuery(indicators=[indicator], start=start, end=end, group_by=group_by, compare=compare)
    ).results[0]
    problems = compare_with_reference(
        reference_for(tiny_con), result, indicator, start, end, {}, group_by, compare, None
    )
    assert not problems, "\n".join(problems)


# =============================================================================================
# Part 2: the engine against the reference on the demo warehouse
# =============================================================================================

YTD = (date(2023, 1, 1), date(2023, 9, 8))
PERIODS = {
    "year2022": (date(2022, 1, 1), date(2022, 12, 31)),
    "ytd2023": YTD,
    "feb2020_leap": (date(2020, 2, 1), date(2020, 2, 29)),
    "feb2021_yoy_to_leap": (date(2021, 2, 1), date(2021, 2, 28)),
    "cross_year": (date(2021, 11, 15), date(2022, 2, 10)),
    "single_day": (date(2023, 3, 15), date(2023, 3, 15)),
    "q2_2019_no_yoy": (date(2019, 4, 1), date(2019, 6, 30)),
}

# "{doctor}" and "{department2}" are replaced by names taken from the demo data.
FILTERS: dict[str, dict[str, list[str]]] = {
    "campus": {"campus": ["东院区"]},
    "department": {"department": ["心血管内科"]},
    "two_departments": {"department": ["心血管内科", "{department2}"]},
    "insurance": {"insurance": ["职工医保"]},
    "doctor": {"doctor": ["{doctor}"]},
    "emergency": {"visit_type": ["急诊"]},
    "inpatient_type": {"visit_type": ["住院"]},
    "campus_and_department": {"campus": ["本部"], "department": ["心血管内科"]},
}

# name -> (group_by, period, filters, compare)
GROUPINGS: dict[str, tuple[list[str], tuple[date, date], dict[str, list[str]], list[str]]] = {
    "department": (["department"], YTD, {}, ["yoy", "mom"]),
    "campus": (["campus"], PERIODS["year2022"], {}, ["yoy"]),
    "insurance": (["insurance"], PERIODS["year2022"], {}, []),
    "visit_type": (["visit_type"], PERIODS["year2022"], {}, ["yoy"]),
    "doctor": (["doctor"], (date(2023, 7, 1), date(2023, 7, 31)), {"department": ["心血管内科"]}, []),
    "month": (["month"], PERIODS["cross_year"], {}, ["yoy", "mom"]),
    "quarter": (["quarter"], (date(2022, 2, 10), date(2023, 9, 8)), {}, ["yoy", "mom"]),
    "year": (["year"], (date(2019, 1, 1), date(2023, 9, 8)), {}, ["yoy"]),
    # the whole period's 环比 begins before the data; each month's own 环比 (but 2019-01's) does not
    "month_2019": (["month"], (date(2019, 1, 1), date(2019, 6, 30)), {}, ["yoy", "mom"]),
    "day": (["day"], (date(2023, 2, 26), date(2023, 3, 2)), {}, ["yoy", "mom"]),
    "month_x_department": (["month", "department"], (date(2023, 1, 1), date(2023, 3, 31)), {}, []),
    "department_x_month_campus": (
        ["department", "month"],
        (date(2023, 7, 15), date(2023, 9, 8)),
        {"campus": ["本部"]},
        ["yoy", "mom"],
    ),
}


@pytest.fixture(scope="session")
def ref(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    # DuckDB refuses a read-only connection to a file that the engine opens with another
    # configuration in the same process, so the reference reads its own copy of the file.
    copy = tmp_path_factory.mktemp("reference") / "demo_copy.duckdb"
    shutil.copy(demo_db_path, copy)
    wal = Path(f"{demo_db_path}.wal")
    if wal.exists():
        shutil.copy(wal, f"{copy}.wal")
    con = duckdb.connect(str(copy), read_only=True)
    yield Reference(con)
    con.close()


@pytest.fixture(scope="session")
def demo_names(ref: Reference) -> dict[str, str]:
    """A busy 心血管内科 doctor and the busiest other department, from the demo data."""
    doctor = ref.con.execute(
        "SELECT doctor FROM ref_stay WHERE department = '心血管内科' AND d BETWEEN ? AND ? "
        "GROUP BY doctor ORDER BY count(*) DESC, doctor LIMIT 1",
        list(YTD),
    ).fetchone()
    dept2 = ref.con.execute(
        "SELECT department FROM ref_stay WHERE department <> '心血管内科' "
        "GROUP BY department ORDER BY count(*) DESC, department LIMIT 1"
    ).fetchone()
    assert doctor and dept2, "the demo warehouse has no 心血管内科 discharges"
    return {"doctor": doctor[0], "department2": dept2[0]}


def _fill(filters: dict[str, list[str]], names: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v.format(**names) for v in vals] for k, vals in filters.items()}


_ENGINE_CACHE: dict[tuple, Any] = {}


def engine(
    wh: Warehouse,
    indicator: str,
    start: date,
    end: date,
    *,
    filters=None,
    group_by=None,
    compare=None,
    version=None,
):
    key = (indicator, start, end, repr(filters), repr(group_by), repr(compare), version)
    if key not in _ENGINE_CACHE:
        q = IndicatorQuery(
            indicators=[indicator],
            start=start,
            end=end,
            filters=filters or {},
            group_by=group_by or [],
            compare=compare or [],
            version=version,
        )
        _ENGINE_CACHE[key] = wh.query(q).results[0]
    return _ENGINE_CACHE[key]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)


def _empty(v: float | None) -> bool:
    return v is None or v == 0


def compare_with_reference(
    ref: Reference,
    result,
    indicator: str,
    start: date,
    end: date,
    filters: dict,
    group_by: list[str],
    compare: list[str],
    version: str | None,
) -> list[str]:
    """Every difference between the engine's rows (values, numerators, denominators, row periods,
    comparison periods and comparison values) and the reference, as readable lines."""
    problems: list[str] = []
    kind = catalog_indicators()[indicator]["kind"]
    grain = next((g for g in group_by if g in TIME_GRAINS), None)
    dims = [g for g in group_by if g not in TIME_GRAINS]
    expected = ref.rows(indicator, start, end, filters, version, group_by)
    got = {tuple(row.keys.get(g) for g in group_by): row for row in result.rows}
    spans = {label: (b0, b1) for label, b0, b1 in buckets(start, end, grain)} if grain else {}

    for key in sorted(expected.keys() | got.keys(), key=lambda k: tuple(str(x) for x in k)):
        exp, row = expected.get(key), got.get(key)
        if row is None:
            # groups come from the current period: a group with no current data may be left out even
            # where its growth over a non-empty prior year is -100 %
            no_current = kind == "growth" and _empty(exp.numerator)
            if not _empty(exp.value) and not no_current:
                problems.append(f"{key}: engine has no row, reference {exp.value!r}")
            continue
        if exp is None:
            if not _empty(row.value):
                problems.append(f"{key}: engine {row.value!r}, reference has no such group")
            exp = RefRow(None if kind == "ratio" else 0.0)
        elif not _close(row.value, exp.value) and not (
            kind != "ratio" and _empty(row.value) and _empty(exp.value)
        ):
            problems.append(
                f"{key}: value engine {row.value!r} != reference {exp.value!r}"
                f" (num {row.numerator!r}/{exp.numerator!r}, den {row.denominator!r}/"
                f"{exp.denominator!r})"
            )
        if kind in ("ratio", "growth") and exp.denominator is not None:
            for part, e_val, r_val in (
                ("numerator", row.numerator, exp.numerator),
                ("denominator", row.denominator, exp.denominator),
            ):
                if e_val is not None and not _close(e_val, r_val):
                    problems.append(f"{key}: {part} engine {e_val!r} != reference {r_val!r}")

        # the row's own period
        b_start, b_end = spans.get(key[group_by.index(grain)], (None, None)) if grain else (start, end)
        if grain and b_start is None:
            problems.append(f"{key}: unexpected time bucket")
            continue
        if (row.start, row.end) != (b_start, b_end):
            problems.append(f"{key}: row period {row.start}..{row.end}, expected {b_start}..{b_end}")

        dim_key = tuple(k for g, k in zip(group_by, key, strict=True) if g not in TIME_GRAINS)
        for kind_c in compare:
            if kind_c == "yoy":
                want = yoy_period(b_start, b_end)
            elif grain:
                want = bucket_mom_period(b_start, b_end, grain)
            else:
                want = mom_period(b_start, b_end)
            c = row.comparisons.get(kind_c)
            if c is None:
                if want[0] >= ref.data_start:
                    problems.append(f"{key}: no {kind_c} comparison")
                continue
            if (c.start, c.end) != want:
                problems.append(f"{key}: {kind_c} period {c.start}..{c.end}, expected {want[0]}..{want[1]}")
            # value over the period the engine states, so that a period mistake is reported once
            c_exp: float | None = None
            lenient = False
            if c.start >= ref.data_start:
                c_row = ref.rows(indicator, c.start, c.end, filters, version, dims).get(dim_key)
                if c_row is not None:
                    c_exp = c_row.value
                    # growth of a group with no data in the comparison period: -100 % or no value
                    lenient = kind == "growth" and _empty(c_row.numerator) and c.value is None
                elif kind == "simple":
                    c_exp = 0.0
                if kind == "simple" and _empty(c.value) and _empty(c_exp):
                    lenient = True
            if not _close(c.value, c_exp) and not lenient:
                problems.append(
                    f"{key}: {kind_c} ({c.start}..{c.end}) engine {c.value!r} != reference {c_exp!r}"
                )
    return problems


def check(
    ref: Reference,
    wh: Warehouse,
    indicator: str,
    start: date,
    end: date,
    *,
    filters=None,
    group_by=None,
    compare=None,
    version=None,
    query_name: str | None = None,
) -> None:
    filters, group_by, compare = dict(filters or {}), list(group_by or []), list(compare or [])
    result = engine(
        wh,
        query_name or indicator,
        start,
        end,
        filters=filters,
        group_by=group_by,
        compare=compare,
        version=version,
    )
    want_version = str(version_entry(indicator, version)["version"])
    problems = (
        [] if result.version == want_version else [f"version {result.version!r}, expected {want_version!r}"]
    )
    problems += compare_with_reference(
        ref, result, indicator, start, end, filters, group_by, compare, version
    )
    if problems:
        shown = "\n  ".join(problems[:15]) + (
            f"\n  … {len(problems) - 15} more" if len(problems) > 15 else ""
        )
        pytest.fail(
            f"{indicator} {start}..{end} filters={filters} group_by={group_by} version={version}:\n  {shown}",
            pytrace=False,
        )


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("indicator", INDICATORS)
def test_value_over_period(ref, warehouse, indicator: str, period: str) -> None:
    check(ref, warehouse, indicator, *PERIODS[period], compare=["yoy", "mom"])


@pytest.mark.parametrize("indicator", INDICATORS)
def test_yoy_of_a_2019_period_has_no_value(ref, warehouse, indicator: str) -> None:
    result = engine(warehouse, indicator, *PERIODS["q2_2019_no_yoy"], compare=["yoy", "mom"])
    for row in result.rows:
        yoy = row.comparisons.get("yoy")
        assert yoy is None or yoy.value is None, (
            f"{indicator}: 同比 over {yoy.start}..{yoy.end} = {yoy.value}"
        )


@pytest.mark.parametrize("filter_name", list(FILTERS))
@pytest.mark.parametrize("indicator", INDICATORS)
def test_value_with_filter(ref, warehouse, demo_names, indicator: str, filter_name: str) -> None:
    filters = _fill(FILTERS[filter_name], demo_names)
    if not set(filters) <= supported_dimensions(indicator):
        with pytest.raises(IndicatorError):
            engine(warehouse, indicator, *YTD, filters=filters)
        return
    check(ref, warehouse, indicator, *YTD, filters=filters, compare=["yoy", "mom"])


@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("indicator", INDICATORS)
def test_grouped_values(ref, warehouse, indicator: str, grouping: str) -> None:
    group_by, (start, end), filters, compare = GROUPINGS[grouping]
    dims = {g for g in group_by if g not in TIME_GRAINS} | set(filters)
    if not dims <= supported_dimensions(indicator):
        with pytest.raises(IndicatorError):
            engine(warehouse, indicator, start, end, filters=filters, group_by=group_by)
        return
    check(ref, warehouse, indicator, start, end, filters=filters, group_by=group_by, compare=compare)


@pytest.mark.parametrize(("indicator", "version"), MULTI_VERSION)
@pytest.mark.parametrize(
    "case",
    ["ytd2023", "feb2020_leap", "department_grouped", "month_grouped_cardiology"],
)
def test_pinned_versions(ref, warehouse, indicator: str, version: str, case: str) -> None:
    if case == "department_grouped":
        check(ref, warehouse, indicator, *YTD, group_by=["department"], compare=["yoy"], version=version)
    elif case == "month_grouped_cardiology":
        check(
            ref,
            warehouse,
            indicator,
            *PERIODS["cross_year"],
            group_by=["month"],
            filters={"department": ["心血管内科"]},
            compare=["yoy", "mom"],
            version=version,
        )
    else:
        check(ref, warehouse, indicator, *PERIODS[case], compare=["yoy", "mom"], version=version)


def test_versions_differ_where_the_caliber_differs(ref: Reference) -> None:
    """Guard against a test that passes because two versions compute the same thing."""
    for code, version in MULTI_VERSION:
        others = [
            str(v["version"]) for v in catalog_indicators()[code]["versions"] if str(v["version"]) != version
        ]
        for other in others:
            a = ref.rows(code, *YTD, version=version)[()].value
            b = ref.rows(code, *YTD, version=other)[()].value
            assert a != pytest.approx(b, rel=1e-9), (code, version, other)


@pytest.mark.parametrize("indicator", INDICATORS)
def test_chinese_name_gives_the_same_result(ref, warehouse, indicator: str) -> None:
    name = catalog_indicators()[indicator]["name"]
    check(ref, warehouse, indicator, *PERIODS["cross_year"], query_name=name)


@pytest.mark.parametrize("chunk", range(0, len(INDICATORS), 10))
def test_several_indicators_in_one_query(ref, warehouse, chunk: int) -> None:
    codes = INDICATORS[chunk : chunk + 10]  # the engine takes at most 10 indicators per query
    res = warehouse.query(IndicatorQuery(indicators=codes, start=YTD[0], end=YTD[1], compare=["yoy"]))
    assert [r.code for r in res.results] == codes
    problems = []
    for code, r in zip(codes, res.results, strict=True):
        problems += [
            f"{code}: {p}" for p in compare_with_reference(ref, r, code, *YTD, {}, [], ["yoy"], None)
        ]
    assert not problems, "\n".join(problems)
