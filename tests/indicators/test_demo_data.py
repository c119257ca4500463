"""The demo warehouse generator: contract, determinism, integrity, planted defects, calibration.

Small warehouses only (scale 0.03 over the full default range, 0.25 for calibration, a few
weeks for edge cases), so the file runs in well under a minute.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from indicators.demo import GenerationReport, generate_demo_warehouse
from indicators.demo.report import calibration
from indicators.demo.writer import SCHEMA

ROOT = Path(__file__).resolve().parents[2]
SQL_TYPE = r"VARCHAR|BIGINT|INTEGER|DOUBLE|BOOLEAN|DATE|DECIMAL\(\d+,\d+\)"
AS_OF = date(2023, 9, 8)
DATE_COLUMNS = {
    "fact_outpatient_visit": ["visit_date"], "fact_outpatient_fee": ["fee_date"],
    "fact_inpatient_stay": ["admit_date", "discharge_date"], "fact_operation": ["operation_date"],
    "fact_inpatient_fee": ["fee_date"], "fact_antibiotic_use": ["use_date"], "fact_bed_day": ["stat_date"],
}  # fmt: skip
# (table, column, referenced table, referenced column)
REFERENCES = [
    ("fact_outpatient_visit", c, d, k)
    for c, d, k in [("campus_code", "dim_campus", "campus_code"), ("dept_code", "dim_department", "dept_code"),
                    ("doctor_code", "dim_doctor", "doctor_code"), ("insurance_code", "dim_insurance", "insurance_code"),
                    ("patient_id", "dim_patient", "patient_id")]
] + [
    ("fact_inpatient_stay", c, d, k)
    for c, d, k in [("patient_id", "dim_patient", "patient_id"), ("campus_code", "dim_campus", "campus_code"),
                    ("admit_dept_code", "dim_department", "dept_code"), ("dept_code", "dim_department", "dept_code"),
                    ("doctor_code", "dim_doctor", "doctor_code"), ("ward_code", "dim_ward", "ward_code"),
                    ("insurance_code", "dim_insurance", "insurance_code"),
                    ("principal_dx_code", "dim_diagnosis", "dx_code"), ("drg_code", "dim_drg", "drg_code")]
] + [
    (fee, c, d, k)
    for fee in ("fact_outpatient_fee", "fact_inpatient_fee")
    for c, d, k in [("item_code", "dim_charge_item", "item_code"), ("fee_class_code", "dim_fee_class", "fee_class_code"),
                    ("exec_dept_code", "dim_department", "dept_code")]
] + [
    ("fact_outpatient_fee", "visit_id", "fact_outpatient_visit", "visit_id"),
    ("fact_inpatient_fee", "stay_id", "fact_inpatient_stay", "stay_id"),
    ("fact_operation", "stay_id", "fact_inpatient_stay", "stay_id"),
    ("fact_operation", "op_code", "dim_operation", "op_code"),
    ("fact_operation", "surgeon_code", "dim_doctor", "doctor_code"),
    ("fact_antibiotic_use", "stay_id", "fact_inpatient_stay", "stay_id"),
    ("fact_antibiotic_use", "item_code", "dim_charge_item", "item_code"),
    ("fact_bed_day", "campus_code", "dim_campus", "campus_code"),
    ("fact_bed_day", "dept_code", "dim_department", "dept_code"),
    ("fact_bed_day", "ward_code", "dim_ward", "ward_code"),
    ("dim_doctor", "dept_code", "dim_department", "dept_code"),
    ("dim_doctor", "campus_code", "dim_campus", "campus_code"),
    ("dim_ward", "dept_code", "dim_department", "dept_code"),
    ("dim_ward", "campus_code", "dim_campus", "campus_code"),
    ("dim_diagnosis", "dept_code", "dim_department", "dept_code"),
    ("dim_charge_item", "fee_class_code", "dim_fee_class", "fee_class_code"),
]  # fmt: skip
PRIMARY_KEYS = {
    "dim_campus": "campus_code", "dim_department": "dept_code", "dim_doctor": "doctor_code", "dim_ward": "ward_code",
    "dim_insurance": "insurance_code", "dim_fee_class": "fee_class_code", "dim_charge_item": "item_code",
    "dim_drg": "drg_code", "dim_diagnosis": "dx_code", "dim_operation": "op_code", "dim_patient": "patient_id",
    "fact_outpatient_visit": "visit_id", "fact_outpatient_fee": "fee_id", "fact_inpatient_stay": "stay_id",
    "fact_operation": "operation_id", "fact_inpatient_fee": "fee_id", "fact_antibiotic_use": "use_id",
    "fact_bed_day": "stat_date, ward_code", "meta_warehouse": "key", "meta_defects": "defect_id",
}  # fmt: skip


def _generate(path: Path, **kwargs: object) -> GenerationReport:
    return generate_demo_warehouse(path, progress=False, **kwargs)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


def _none(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """``sql`` counts offending rows; there must be none."""
    assert _one(con, sql) == 0, sql


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-insensitive hash per table; generated_at is not part of the data."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in SCHEMA:
            where = "WHERE key <> 'generated_at'" if table == "meta_warehouse" else ""
            out[table] = tuple(
                con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t {where}").fetchall()[0]
            )
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    path = tmp_path_factory.mktemp("demo") / "small.duckdb"
    return path, _generate(path, scale=0.03, seed=7)


@pytest.fixture(scope="module")
def con(small: tuple[Path, GenerationReport]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(small[0]), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("demo") / "calibration.duckdb"
    _generate(path, scale=0.25, seed=11)
    connection = duckdb.connect(str(path), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def yearly(calibrated: duckdb.DuckDBPyConnection) -> dict[int, dict[str, float]]:
    return {int(row["year"]): row for row in calibration(calibrated)}


# ------------------------------------------------------------------------------------------ contract
def documented_schema() -> dict[str, dict[str, str | None]]:
    """{table: {column: documented type or None}} parsed from docs/warehouse-schema.md."""
    text = (ROOT / "docs" / "warehouse-schema.md").read_text(encoding="utf-8")
    tables: dict[str, dict[str, str | None]] = {}

    def columns(spec: str) -> dict[str, str | None]:
        out = {}
        for part in re.split(r",\s*(?![^()]*\))", spec):
            words = part.split()
            out[words[0]] = words[1] if len(words) > 1 and re.fullmatch(SQL_TYPE, words[1]) else None
        return out

    for name, spec in re.findall(r"`((?:dim|fact|meta)_\w+)\(([^`]*)\)`", text):
        tables[name] = columns(spec)
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        name = re.match(r"((?:dim|fact|meta)_\w+)", heading)
        if name is None or name.group(1) in tables:
            continue
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")]
            for line in body.splitlines()
            if line.startswith("|")
        ]
        if rows and rows[0][0] == "column":
            tables[name.group(1)] = {
                col.strip(): row[1].split()[0] if row[1] else None
                for row in rows[2:]
                for col in row[0].split(",")
            }
        elif rows:
            tables[name.group(1)] = dict.fromkeys(rows[0], "VARCHAR")
        elif same := re.search(r"Same columns as (\w+) with `(\w+)` instead of `(\w+)`", body):
            base = dict(tables[same.group(1)])
            tables[name.group(1)] = {(same.group(2) if c == same.group(3) else c): t for c, t in base.items()}
        else:
            tables[name.group(1)] = columns(re.search(r"`([^`]*)`", body).group(1))
    return tables


def test_schema_matches_the_doc(con: duckdb.DuckDBPyConnection) -> None:
    documented = documented_schema()
    assert set(documented) == set(SCHEMA)
    actual = {t: dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                  f"WHERE table_name = '{t}' ORDER BY ordinal_position").fetchall())
              for t in documented}  # fmt: skip
    for table, cols in documented.items():
        assert list(cols) == list(actual[table]), table
        for col, typ in cols.items():
            if typ is not None:
                assert actual[table][col] == typ, (table, col)
    assert {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()} == set(
        SCHEMA
    )


def test_report_and_row_counts(small: tuple[Path, GenerationReport], con: duckdb.DuckDBPyConnection) -> None:
    path, report = small
    assert report.path == path and report.seconds > 0 and report.rows_per_second > 0
    for table, n in report.row_counts.items():
        assert _one(con, f"SELECT count(*) FROM {table}") == n
    assert report.row_counts["dim_doctor"] == 420  # staff does not scale
    assert not list(path.parent.glob(".*.tmp*"))


@pytest.mark.parametrize("table", list(PRIMARY_KEYS))
def test_primary_keys_are_unique(con: duckdb.DuckDBPyConnection, table: str) -> None:
    key = PRIMARY_KEYS[table]
    _none(con, f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}")
    _none(con, f"SELECT count(*) FROM {table} WHERE ({key}) IS NULL")


@pytest.mark.parametrize(("table", "column", "ref", "key"), REFERENCES)
def test_referential_integrity(
    con: duckdb.DuckDBPyConnection, table: str, column: str, ref: str, key: str
) -> None:
    _none(
        con,
        f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL AND {column} NOT IN (SELECT {key} FROM {ref})",
    )


@pytest.mark.parametrize("table", list(DATE_COLUMNS))
def test_facts_are_written_in_date_order(con: duckdb.DuckDBPyConnection, table: str) -> None:
    column = DATE_COLUMNS[table][0]
    backwards = f"SELECT count(*) FROM (SELECT {column} d, lag({column}) OVER (ORDER BY rowid) p FROM {table}) WHERE d < p"
    _none(con, backwards)


# ---------------------------------------------------------------------------------------- determinism
def test_same_seed_same_tables_other_seed_other_facts(
    small: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    again, other = tmp_path / "again.duckdb", tmp_path / "other.duckdb"
    _generate(again, scale=0.03, seed=7)
    _generate(other, scale=0.03, seed=8)
    first = checksums(small[0])
    assert checksums(again) == first
    different = checksums(other)
    for table in (
        "fact_outpatient_visit",
        "fact_outpatient_fee",
        "fact_inpatient_stay",
        "fact_inpatient_fee",
        "dim_patient",
    ):
        assert different[table] != first[table], table
    assert different["dim_doctor"] == first["dim_doctor"]  # the hospital itself does not depend on the seed


# ------------------------------------------------------------------------------------------ integrity
def test_bed_census_equals_stays_exactly(con: duckdb.DuckDBPyConnection) -> None:
    mismatches = _one(
        con,
        """
        SELECT count(*) FROM fact_bed_day b
        LEFT JOIN (SELECT b2.stat_date, b2.ward_code, count(s.stay_id) AS census
                   FROM fact_bed_day b2 JOIN fact_inpatient_stay s ON s.ward_code = b2.ward_code
                    AND s.admit_date <= b2.stat_date AND (s.discharge_date IS NULL OR b2.stat_date < s.discharge_date)
                   GROUP BY ALL) c USING (stat_date, ward_code)
        WHERE b.occupied_beds <> coalesce(c.census, 0)""",
    )
    assert mismatches == 0
    over = _one(con, "SELECT avg(CASE WHEN occupied_beds > open_beds THEN 1.0 ELSE 0 END) FROM fact_bed_day")
    assert over < 0.2  # 加床 beyond the open beds happen, but open beds usually suffice


def test_stays_are_consistent(con: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "los": "discharge_date IS NOT NULL AND (los_days < 1 OR los_days <> discharge_date - admit_date)",
        "open stay": "discharge_date IS NULL AND (los_days IS NOT NULL OR drg_code IS NOT NULL OR discharge_outcome IS NOT NULL)",
        "death": "is_death <> coalesce(discharge_outcome = '死亡', FALSE)",
        "started": "discharge_date < DATE '2019-01-01'",
        "adult depts": "patient_age < 18 AND dept_code IN (SELECT dept_code FROM dim_department WHERE dept_name = '老年医学科')",
    }  # fmt: skip
    for name, bad in checks.items():
        _none(con, f"SELECT count(*) FROM fact_inpatient_stay WHERE {bad}"), name
    assert _one(con, "SELECT count(*) FROM fact_inpatient_stay WHERE discharge_date IS NULL") > 0
    in_window = """SELECT count(*) FROM {t} x JOIN fact_inpatient_stay s USING (stay_id)
                   WHERE x.{c} < s.admit_date OR x.{c} > coalesce(s.discharge_date, DATE '2023-09-08')"""
    for table, column in [("fact_inpatient_fee", "fee_date"), ("fact_operation", "operation_date"),
                          ("fact_antibiotic_use", "use_date")]:  # fmt: skip
        _none(con, in_window.format(t=table, c=column))


def test_fee_lines_are_priced_and_funded(con: duckdb.DuckDBPyConnection) -> None:
    for fee, enc in (
        ("fact_outpatient_fee", "fact_outpatient_visit"),
        ("fact_inpatient_fee", "fact_inpatient_stay"),
    ):
        key = "visit_id" if "outpatient" in fee else "stay_id"
        _none(
            con,
            f"""SELECT count(*) FROM {fee} f JOIN dim_charge_item i USING (item_code)
                             WHERE abs(f.amount - f.quantity * i.unit_price) > 0.005 OR f.quantity < 1""",
        )
        _none(con, f"SELECT count(*) FROM {fee} WHERE fund_amount < 0 OR fund_amount > amount")
        _none(
            con,
            f"""SELECT count(*) FROM {fee} f JOIN {enc} e USING ({key})
                             WHERE e.insurance_code = 'ZF' AND f.fund_amount <> 0""",
        )
    _none(
        con,
        """SELECT count(*) FROM fact_outpatient_fee f JOIN fact_outpatient_visit v USING (visit_id)
                        WHERE f.fee_date <> v.visit_date""",
    )
    lines = _one(
        con, "SELECT count(*) / (SELECT count(*) FROM fact_outpatient_visit) FROM fact_outpatient_fee"
    )
    assert 3 <= lines <= 5
    lines = _one(con, "SELECT count(*) / (SELECT count(*) FROM fact_inpatient_stay) FROM fact_inpatient_fee")
    assert 15 <= lines <= 30
    # 医技 departments execute exams and tests but have no visits of their own
    _none(
        con,
        """SELECT count(*) FROM fact_outpatient_visit WHERE dept_code IN
                        (SELECT dept_code FROM dim_department WHERE dept_type = '医技')""",
    )
    executing = """SELECT count(DISTINCT exec_dept_code) FROM fact_outpatient_fee WHERE exec_dept_code IN
                   (SELECT dept_code FROM dim_department WHERE dept_type = '医技')"""
    assert _one(con, executing) >= 4


def test_doctors_see_their_own_departments(con: duckdb.DuckDBPyConnection) -> None:
    wrong = """SELECT count(*) FROM {t} x JOIN dim_doctor d ON d.doctor_code = x.doctor_code
               WHERE d.dept_code <> x.dept_code OR d.campus_code <> x.campus_code"""
    _none(con, wrong.format(t="fact_outpatient_visit"))
    _none(con, wrong.format(t="fact_inpatient_stay"))


def test_antibiotic_use(con: duckdb.DuckDBPyConnection) -> None:
    _none(
        con,
        """SELECT count(*) FROM fact_antibiotic_use a JOIN dim_charge_item i USING (item_code)
                   WHERE NOT i.is_antibiotic OR a.ddd_count <= 0""",
    )
    share = _one(
        con,
        "SELECT count(DISTINCT stay_id) / (SELECT count(*) FROM fact_inpatient_stay) FROM fact_antibiotic_use",
    )
    assert 0.35 <= share <= 0.55


# ----------------------------------------------------------------------------------------- dimensions
def test_hospital_dimensions(con: duckdb.DuckDBPyConnection) -> None:
    required = {
        "心血管内科", "呼吸内科", "消化内科", "神经内科", "内分泌科", "肾内科", "血液科", "普通外科", "骨科", "神经外科",
        "泌尿外科", "心胸外科", "妇产科", "儿科", "眼科", "耳鼻咽喉科", "口腔科", "皮肤科", "肿瘤科", "急诊科",
        "重症医学科", "康复医学科", "中医科", "感染性疾病科",
    }  # fmt: skip
    names = {r[0] for r in con.execute("SELECT dept_name FROM dim_department").fetchall()}
    assert required <= names and len(names) >= 32
    assert sum(n.endswith("内科") for n in names) >= 3 and sum(n.endswith("外科") for n in names) >= 3
    assert {"医学检验科", "病理科", "医学影像科", "超声医学科"} <= names
    _none(con, "SELECT count(*) FROM dim_department WHERE dept_type = '医技' AND has_inpatient")
    campus_depts = dict(con.execute("""SELECT campus_code, count(DISTINCT dept_code) FROM fact_outpatient_visit
                                       GROUP BY 1""").fetchall())  # fmt: skip
    assert campus_depts["BB"] >= 28 and 10 <= campus_depts["DY"] <= 14 and 6 <= campus_depts["XY"] <= 10
    west = {
        r[0]
        for r in con.execute("""SELECT DISTINCT d.dept_name FROM fact_outpatient_visit v
                                         JOIN dim_department d USING (dept_code) WHERE campus_code = 'XY'""").fetchall()
    }
    assert {"康复医学科", "中医科"} <= west
    assert (
        _one(con, "SELECT count(DISTINCT doctor_name) FROM dim_doctor")
        == _one(con, "SELECT count(*) FROM dim_doctor")
        >= 300
    )
    titles = dict(con.execute("SELECT title, count(*) FROM dim_doctor GROUP BY 1").fetchall())
    assert titles["主任医师"] < titles["副主任医师"] < titles["主治医师"]
    assert 150 <= _one(con, "SELECT count(*) FROM dim_charge_item") <= 300
    assert 100 <= _one(con, "SELECT count(*) FROM dim_drg") <= 150
    assert _one(con, "SELECT min(relative_weight) >= 0.3 AND max(relative_weight) <= 5 FROM dim_drg")
    assert _one(con, "SELECT count(*) FROM dim_drg WHERE is_low_risk") >= 10
    assert _one(con, "SELECT count(DISTINCT op_level) FROM dim_operation") == 4
    _none(
        con,
        """SELECT count(*) FROM dim_charge_item WHERE (is_high_value_material AND fee_class_code NOT IN
                        ('F21', 'F22', 'F23')) OR (is_antibiotic AND fee_class_code <> 'F13')
                        OR (is_antibiotic <> (ddd_per_unit IS NOT NULL))""",
    )


# -------------------------------------------------------------------------------------------- defects
DETECTION = {
    "D2": """SELECT count(*) - count(DISTINCT (stay_id, fee_date, item_code)) FROM fact_inpatient_fee
             JOIN dim_charge_item USING (item_code) WHERE is_high_value_material""",
    "D3": """SELECT count(*) FROM fact_outpatient_fee f JOIN dim_charge_item i USING (item_code)
             WHERE i.fee_class_code = 'F13' AND f.quantity >= 50""",
}


def test_planted_defects_are_present_counted_and_documented(con: duckdb.DuckDBPyConnection) -> None:
    from indicators.demo.defects import DEFECTS

    rows = {r[0]: r for r in con.execute("SELECT * FROM meta_defects").fetchall()}
    doc = (ROOT / "docs" / "data-defects.md").read_text(encoding="utf-8")
    assert set(rows) == {d[0] for d in DEFECTS}
    for defect_id, table, _, sql in DEFECTS:
        count = rows[defect_id][3]
        assert count > 0, defect_id
        assert rows[defect_id][1] == table
        detected = _one(con, DETECTION[defect_id] if sql is None else sql.format(table=table))
        assert detected == count, defect_id
        assert f"`{defect_id}`" in doc, defect_id
    assert 15 <= rows["D3"][3] <= 25
    assert rows["D5"][3] >= 3


def test_orthopedic_material_anomaly(
    yearly: dict[int, dict[str, float]], calibrated: duckdb.DuckDBPyConnection
) -> None:
    by_year = dict(calibrated.execute("""
        SELECT year(s.discharge_date), sum(f.amount) / count(DISTINCT s.stay_id)
        FROM fact_inpatient_fee f JOIN fact_inpatient_stay s USING (stay_id) JOIN dim_charge_item i USING (item_code)
        JOIN dim_department d ON d.dept_code = s.dept_code
        WHERE d.dept_name = '骨科' AND i.is_high_value_material GROUP BY 1""").fetchall())  # fmt: skip
    volumes = dict(calibrated.execute("""SELECT year(discharge_date), count(*) FROM fact_inpatient_stay
        JOIN dim_department USING (dept_code) WHERE dept_name = '骨科' GROUP BY 1""").fetchall())  # fmt: skip
    assert 1.5 <= by_year[2022] / by_year[2021] <= 2.2
    assert 0.85 <= by_year[2021] / by_year[2019] <= 1.15
    assert 0.9 <= volumes[2022] / volumes[2021] <= 1.2


# ---------------------------------------------------------------------------------------- calibration
@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022, 2023])
def test_yearly_calibration(yearly: dict[int, dict[str, float]], year: int) -> None:
    from indicators.demo.calibration import targets_for

    row, target = yearly[year], targets_for(year)
    assert row["cost_per_visit"] == pytest.approx(target.outpatient_cost, rel=0.05)
    cost_tolerance = 0.1 if year == 2022 else 0.06  # the 骨科 anomaly raises 2022
    assert row["cost_per_stay"] == pytest.approx(target.inpatient_cost, rel=cost_tolerance)
    assert row["op_drug_share"] == pytest.approx(target.outpatient_drug_share, abs=0.03)
    assert row["ip_drug_share"] == pytest.approx(target.inpatient_drug_share, abs=0.035)
    assert row["los"] == pytest.approx(target.los, abs=0.4)
    assert row["ddd_per_100_bed_days"] == pytest.approx(target.antibiotic_intensity, abs=6)
    assert 0.15 <= row["ip_material_share"] <= 0.25
    assert 0.35 <= row["surgery_share"] <= 0.45
    assert 0.2 <= row["level4_share"] <= 0.3 and 0.25 <= row["mi_share"] <= 0.35
    assert 0.003 <= row["mortality"] <= 0.012
    assert 0.5 <= row["fund_share"] <= 0.7
    assert 1.0 <= row["cmi"] <= 1.2
    assert 0.9 <= row["cost_index"] <= 1.1 and 0.9 <= row["time_index"] <= 1.1
    if year == 2020:
        assert 0.72 <= row["occupancy"] <= 0.82
    else:
        assert 0.87 <= row["occupancy"] <= 0.96


def test_trends_and_volumes(yearly: dict[int, dict[str, float]]) -> None:
    y19, y20, y23 = yearly[2019], yearly[2020], yearly[2023]
    assert y23["drug_share"] < y19["drug_share"] - 0.03 and 0.38 <= y19["drug_share"] <= 0.45
    assert y23["los"] < y19["los"] and y23["cost_per_visit"] > y19["cost_per_visit"]
    assert (
        y20["visits_per_day"] < 0.9 * y19["visits_per_day"] and y23["visits_per_day"] > y19["visits_per_day"]
    )
    per_scale = {
        k: sum(r[k] for r in yearly.values()) / len(yearly) / 0.25
        for k in ("visits_per_day", "discharges_per_day")
    }
    assert 700 <= per_scale["visits_per_day"] <= 900 and 52 <= per_scale["discharges_per_day"] <= 68


def test_calendar_shapes(calibrated: duckdb.DuckDBPyConnection) -> None:
    def visits(where: str) -> float:
        return _one(
            calibrated,
            f"SELECT count(*) / count(DISTINCT visit_date) FROM fact_outpatient_visit WHERE {where}",
        )

    clinic = "visit_type = '门诊' AND year(visit_date) = 2019 AND "
    assert (
        0.45
        <= visits(clinic + "dayofweek(visit_date) IN (0, 6)")
        / visits(clinic + "dayofweek(visit_date) BETWEEN 1 AND 5")
        <= 0.55
    )
    emergency = _one(
        calibrated, "SELECT avg(CASE WHEN visit_type = '急诊' THEN 1.0 ELSE 0 END) FROM fact_outpatient_visit"
    )
    assert 0.08 <= emergency <= 0.1
    festival = visits("visit_date BETWEEN DATE '2019-02-05' AND DATE '2019-02-09'")
    assert festival < 0.5 * visits("year(visit_date) = 2019")
    assert visits("visit_date BETWEEN DATE '2020-02-01' AND DATE '2020-03-31'") < 0.5 * visits(
        "year(visit_date) = 2019"
    )
    respiratory = """SELECT count(*) FROM fact_outpatient_visit JOIN dim_department USING (dept_code)
                     WHERE dept_name = '呼吸内科' AND year(visit_date) = 2021 AND month(visit_date) = {m}"""
    assert _one(calibrated, respiratory.format(m=12)) > 1.25 * _one(calibrated, respiratory.format(m=7))
    low_risk_deaths = _one(
        calibrated,
        """SELECT count(*) FROM fact_inpatient_stay JOIN dim_drg USING (drg_code)
                                          WHERE is_low_risk AND is_death""",
    )
    assert low_risk_deaths >= 1


# ------------------------------------------------------------------------------------- arguments, files
def test_as_of_is_respected_with_progress_bar(tmp_path: Path) -> None:
    path = tmp_path / "short.duckdb"
    as_of = date(2023, 3, 15)
    report = generate_demo_warehouse(path, scale=0.05, start=date(2023, 1, 1), as_of=as_of, progress=True)
    con = duckdb.connect(str(path), read_only=True)
    for table, columns in DATE_COLUMNS.items():
        for column in columns:
            assert _one(con, f"SELECT max({column}) FROM {table}") <= as_of, (table, column)
    assert _one(con, "SELECT min(stat_date) FROM fact_bed_day") == date(2023, 1, 1)
    assert _one(con, "SELECT min(visit_date) FROM fact_outpatient_visit") == date(2023, 1, 1)
    meta = dict(con.execute("SELECT key, value FROM meta_warehouse").fetchall())
    assert (
        meta["as_of_date"] == "2023-03-15" and meta["start_date"] == "2023-01-01" and meta["scale"] == "0.05"
    )
    assert report.row_counts["fact_bed_day"] == 74 * report.row_counts["dim_ward"]
    con.close()


def test_overwrites_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo.duckdb"
    path.write_bytes(b"an old file")
    kwargs = {"scale": 0.02, "start": date(2023, 8, 1), "as_of": date(2023, 8, 31)}
    _generate(path, **kwargs)
    assert _one(duckdb.connect(str(path), read_only=True), "SELECT count(*) FROM fact_outpatient_visit") > 0
    before = path.read_bytes()

    import indicators.demo.generator as generator

    def crash(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "_write_meta", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        _generate(path, **kwargs)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb"]


@pytest.mark.parametrize(
    "kwargs",
    [{"scale": 0}, {"scale": -1.0}, {"as_of": date(2018, 12, 31)}, {"as_of": date(2030, 1, 1)}],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _generate(tmp_path / "x.duckdb", **kwargs)
    assert not (tmp_path / "x.duckdb").exists()
