"""Build the pre-aggregated ``agg_*`` tables from the raw facts.

The SQL is plain and portable (DuckDB and PostgreSQL run it unchanged), so a hospital that moves
its warehouse to PostgreSQL rebuilds the same tables there. Daily tables hold one row per day and
dimension combination; monthly tables roll the daily ones up, so a query over a year reads about
twelve rows per combination whatever the raw row count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

TIME_COLUMNS = """
    CAST(EXTRACT(YEAR FROM stat_date) AS INTEGER) AS stat_year,
    CAST(EXTRACT(QUARTER FROM stat_date) AS INTEGER) AS stat_quarter,
    CAST(EXTRACT(MONTH FROM stat_date) AS INTEGER) AS stat_month"""

# Every fee line with the dimensions it is reported under. Inpatient lines take the stay's
# discharge date, department and doctor (出院结算口径); undischarged stays are left out.
# first_line is 1 on one line per visit or stay, so SUM(first_line) counts the cases behind any
# group of rows that does not split a visit (every dimension is per visit; fee classes are not
# grouped by): small-cell suppression reads it.
_FEE_LINES = """
    SELECT v.visit_date AS stat_date, v.campus_code, v.dept_code, v.doctor_code, v.insurance_code,
           v.visit_type, f.fee_class_code,
           COALESCE(ci.is_high_value_material, FALSE) AS high_value_material, f.amount, f.fund_amount,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY f.visit_id ORDER BY f.fee_id) = 1 THEN 1 ELSE 0 END
               AS first_line
    FROM fact_outpatient_fee f
    JOIN fact_outpatient_visit v ON v.visit_id = f.visit_id
    LEFT JOIN dim_charge_item ci ON ci.item_code = f.item_code
    UNION ALL
    SELECT s.discharge_date, s.campus_code, s.dept_code, s.doctor_code, s.insurance_code,
           '住院', f.fee_class_code,
           COALESCE(ci.is_high_value_material, FALSE), f.amount, f.fund_amount,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY f.stay_id ORDER BY f.fee_id) = 1 THEN 1 ELSE 0 END
    FROM fact_inpatient_fee f
    JOIN fact_inpatient_stay s ON s.stay_id = f.stay_id
    LEFT JOIN dim_charge_item ci ON ci.item_code = f.item_code
    WHERE s.discharge_date IS NOT NULL"""

# One row per discharged stay with what the stay contributes to the discharge measures.
_DISCHARGED_STAYS = """
    WITH ops AS (
        SELECT stay_id,
               COUNT(*) AS operations,
               SUM(CASE WHEN is_minimally_invasive THEN 1 ELSE 0 END) AS mi_operations,
               SUM(CASE WHEN op_level = 3 THEN 1 ELSE 0 END) AS level3_operations,
               SUM(CASE WHEN op_level = 4 THEN 1 ELSE 0 END) AS level4_operations,
               -- 2.0: level 4, or an interventional procedure marked as managed at level 4; an
               -- operation with no recorded grading is in neither numerator (only the denominator)
               SUM(CASE WHEN op_level = 4 OR (op_level IS NOT NULL AND is_interventional
                                              AND is_level4_managed) THEN 1 ELSE 0 END)
                   AS level4_or_interventional_operations
        FROM fact_operation GROUP BY stay_id),
    abx AS (SELECT stay_id, SUM(ddd_count) AS ddd FROM fact_antibiotic_use GROUP BY stay_id),
    cost AS (SELECT stay_id, SUM(amount) AS cost FROM fact_inpatient_fee GROUP BY stay_id)
    SELECT s.discharge_date AS stat_date, s.campus_code, s.dept_code, s.doctor_code, s.insurance_code,
           s.los_days, s.is_death, s.drg_code,
           COALESCE(o.operations, 0) AS operations,
           COALESCE(o.mi_operations, 0) AS mi_operations,
           COALESCE(o.level3_operations, 0) AS level3_operations,
           COALESCE(o.level4_operations, 0) AS level4_operations,
           COALESCE(o.level4_or_interventional_operations, 0) AS level4_or_interventional_operations,
           COALESCE(a.ddd, 0) AS ddd,
           d.relative_weight, d.is_low_risk,
           CAST(s.los_days AS DOUBLE PRECISION) / d.region_avg_los AS time_ratio,
           CAST(COALESCE(c.cost, 0) AS DOUBLE PRECISION) / CAST(d.region_avg_cost AS DOUBLE PRECISION)
               AS cost_ratio
    FROM fact_inpatient_stay s
    LEFT JOIN ops o ON o.stay_id = s.stay_id
    LEFT JOIN abx a ON a.stay_id = s.stay_id
    LEFT JOIN cost c ON c.stay_id = s.stay_id
    LEFT JOIN dim_drg d ON d.drg_code = s.drg_code
    WHERE s.discharge_date IS NOT NULL"""

# name -> (dimension columns, measure expressions, row source)
DAILY: dict[str, tuple[list[str], dict[str, str], str]] = {
    "agg_fee_daily": (
        [
            "campus_code",
            "dept_code",
            "doctor_code",
            "insurance_code",
            "visit_type",
            "fee_class_code",
            "high_value_material",
        ],
        {"amount": "SUM(amount)", "fund_amount": "SUM(fund_amount)", "cases": "SUM(first_line)"},
        _FEE_LINES,
    ),
    "agg_visit_daily": (
        ["campus_code", "dept_code", "doctor_code", "insurance_code", "visit_type"],
        {"visits": "COUNT(*)"},
        "SELECT visit_date AS stat_date, campus_code, dept_code, doctor_code, insurance_code, visit_type "
        "FROM fact_outpatient_visit",
    ),
    "agg_discharge_daily": (
        ["campus_code", "dept_code", "doctor_code", "insurance_code"],
        {
            "discharges": "COUNT(*)",
            "los_days": "SUM(los_days)",
            "deaths": "SUM(CASE WHEN is_death THEN 1 ELSE 0 END)",
            "operated_patients": "SUM(CASE WHEN operations > 0 THEN 1 ELSE 0 END)",
            "operations": "SUM(operations)",
            "mi_operations": "SUM(mi_operations)",
            "level3_operations": "SUM(level3_operations)",
            "level4_operations": "SUM(level4_operations)",
            "level4_or_interventional_operations": "SUM(level4_or_interventional_operations)",
            "drg_cases": "SUM(CASE WHEN relative_weight IS NOT NULL THEN 1 ELSE 0 END)",
            "rw_sum": "SUM(COALESCE(relative_weight, 0))",
            "low_risk_cases": "SUM(CASE WHEN is_low_risk THEN 1 ELSE 0 END)",
            "low_risk_deaths": "SUM(CASE WHEN is_low_risk AND is_death THEN 1 ELSE 0 END)",
            "time_index_sum": "SUM(COALESCE(time_ratio, 0))",
            "cost_index_sum": "SUM(COALESCE(cost_ratio, 0))",
            "ddd_sum": "SUM(ddd)",
        },
        _DISCHARGED_STAYS,
    ),
    "agg_drg_daily": (
        ["campus_code", "dept_code", "doctor_code", "insurance_code", "drg_code"],
        {"cases": "COUNT(*)"},
        "SELECT discharge_date AS stat_date, campus_code, dept_code, doctor_code, insurance_code, drg_code "
        "FROM fact_inpatient_stay WHERE discharge_date IS NOT NULL AND drg_code IS NOT NULL",
    ),
    "agg_bed_daily": (
        ["campus_code", "dept_code"],
        {"open_bed_days": "SUM(open_beds)", "occupied_bed_days": "SUM(occupied_beds)"},
        "SELECT stat_date, campus_code, dept_code, open_beds, occupied_beds FROM fact_bed_day",
    ),
}


def daily_sql(name: str) -> str:
    dims, measures, rows = DAILY[name]
    dim_list = ", ".join(dims)
    aggs = ",\n    ".join(f"{expr} AS {col}" for col, expr in measures.items())
    return (
        f"CREATE TABLE {name} AS\nSELECT stat_date,{TIME_COLUMNS},\n    {dim_list},\n    {aggs}\n"
        f"FROM ({rows}\n) x\nGROUP BY stat_date, {dim_list}\nORDER BY stat_date, {dim_list}"
    )


def monthly_sql(name: str) -> str:
    """Roll a daily table up to months; ``stat_date`` becomes the first day of the month."""
    dims, measures, _ = DAILY[name]
    dim_list = ", ".join(dims)
    sums = ", ".join(f"SUM({col}) AS {col}" for col in measures)
    return (
        f"CREATE TABLE {monthly_name(name)} AS\n"
        f"SELECT CAST(date_trunc('month', stat_date) AS DATE) AS stat_date, stat_year, stat_quarter, stat_month,\n"
        f"    {dim_list}, {sums}\nFROM {name}\n"
        f"GROUP BY 1, stat_year, stat_quarter, stat_month, {dim_list}\nORDER BY 1, {dim_list}"
    )


def monthly_name(daily: str) -> str:
    return daily.removesuffix("_daily") + "_monthly"


def build_statements() -> Iterator[tuple[str, str]]:
    """(table, statement) pairs in build order: each daily table, then its monthly roll-up."""
    for name in DAILY:
        yield name, f"DROP TABLE IF EXISTS {monthly_name(name)}"
        yield name, f"DROP TABLE IF EXISTS {name}"
        yield name, daily_sql(name)
        yield monthly_name(name), monthly_sql(name)


def build_aggregates(execute: Callable[[str], object], *, index: bool = False) -> list[str]:
    """Run the build with ``execute`` (a connection's execute); returns the tables built.

    ``index`` adds B-tree indexes on ``stat_date`` (useful on PostgreSQL; DuckDB prunes by its
    min/max zone maps because the tables are written sorted by date).
    """
    built = []
    for table, statement in build_statements():
        execute(statement)
        if statement.startswith("CREATE TABLE"):
            built.append(table)
            if index:
                execute(f"CREATE INDEX ix_{table}_date ON {table} (stat_date)")
    return built
