"""Yearly calibration figures of a generated warehouse, computed from the raw tables.

Used by the tests and to check a generated file against calibration.py:
``python -m indicators.demo.report data/demo.duckdb``.
"""

from __future__ import annotations

import sys

import duckdb

CALIBRATION_SQL = """
WITH op AS (
    SELECT year(v.visit_date) AS y, count(DISTINCT v.visit_id) AS visits,
           sum(CASE WHEN v.visit_type = '急诊' THEN 1 ELSE 0 END) AS dummy
    FROM fact_outpatient_visit v GROUP BY 1),
op_fee AS (
    SELECT year(fee_date) AS y, sum(amount) AS amount,
           sum(CASE WHEN fee_class_code IN ('F13', 'F14', 'F15') THEN amount ELSE 0 END) AS drug,
           sum(fund_amount) AS fund
    FROM fact_outpatient_fee GROUP BY 1),
stay AS (
    SELECT year(discharge_date) AS y, count(*) AS discharges, sum(los_days) AS los,
           avg(CASE WHEN is_death THEN 1.0 ELSE 0.0 END) AS mortality
    FROM fact_inpatient_stay WHERE discharge_date IS NOT NULL GROUP BY 1),
ip_fee AS (
    SELECT year(s.discharge_date) AS y, sum(f.amount) AS amount,
           sum(CASE WHEN f.fee_class_code IN ('F13', 'F14', 'F15') THEN f.amount ELSE 0 END) AS drug,
           sum(CASE WHEN f.fee_class_code IN ('F21', 'F22', 'F23') THEN f.amount ELSE 0 END) AS material,
           sum(f.fund_amount) AS fund
    FROM fact_inpatient_fee f JOIN fact_inpatient_stay s USING (stay_id)
    WHERE s.discharge_date IS NOT NULL GROUP BY 1),
ops AS (
    SELECT year(s.discharge_date) AS y, count(DISTINCT o.stay_id) AS operated, count(*) AS operations,
           avg(CASE WHEN o.op_level = 4 THEN 1.0 ELSE 0.0 END) AS level4,
           avg(CASE WHEN o.is_minimally_invasive THEN 1.0 ELSE 0.0 END) AS mi
    FROM fact_operation o JOIN fact_inpatient_stay s USING (stay_id)
    WHERE s.discharge_date IS NOT NULL GROUP BY 1),
abx AS (
    SELECT year(s.discharge_date) AS y, sum(a.ddd_count) AS ddd
    FROM fact_antibiotic_use a JOIN fact_inpatient_stay s USING (stay_id)
    WHERE s.discharge_date IS NOT NULL GROUP BY 1),
drg AS (
    SELECT year(s.discharge_date) AS y, avg(d.relative_weight) AS cmi,
           avg(c.cost / d.region_avg_cost) AS cost_index, avg(s.los_days / d.region_avg_los) AS time_index
    FROM fact_inpatient_stay s JOIN dim_drg d USING (drg_code)
    JOIN (SELECT stay_id, sum(amount) AS cost FROM fact_inpatient_fee GROUP BY 1) c USING (stay_id)
    WHERE s.discharge_date IS NOT NULL GROUP BY 1),
beds AS (
    SELECT year(stat_date) AS y, sum(occupied_beds) / sum(open_beds) AS occupancy,
           count(DISTINCT stat_date) AS days
    FROM fact_bed_day GROUP BY 1)
SELECT op.y AS year,
       round(op.visits / beds.days, 1) AS visits_per_day,
       round(stay.discharges / beds.days, 1) AS discharges_per_day,
       round(op_fee.amount / op.visits, 1) AS cost_per_visit,
       round(ip_fee.amount / stay.discharges, 0) AS cost_per_stay,
       round((op_fee.drug + ip_fee.drug) / (op_fee.amount + ip_fee.amount), 3) AS drug_share,
       round(op_fee.drug / op_fee.amount, 3) AS op_drug_share,
       round(ip_fee.drug / ip_fee.amount, 3) AS ip_drug_share,
       round(ip_fee.material / ip_fee.amount, 3) AS ip_material_share,
       round(stay.los / stay.discharges, 2) AS los,
       round(beds.occupancy, 3) AS occupancy,
       round(ops.operated / stay.discharges, 3) AS surgery_share,
       round(ops.level4, 3) AS level4_share,
       round(ops.mi, 3) AS mi_share,
       round(stay.mortality, 4) AS mortality,
       round(abx.ddd / stay.los * 100, 1) AS ddd_per_100_bed_days,
       round((op_fee.fund + ip_fee.fund) / (op_fee.amount + ip_fee.amount), 3) AS fund_share,
       round(drg.cmi, 3) AS cmi, round(drg.cost_index, 3) AS cost_index, round(drg.time_index, 3) AS time_index
FROM op JOIN op_fee USING (y) JOIN stay USING (y) JOIN ip_fee USING (y) JOIN ops USING (y)
JOIN abx USING (y) JOIN drg USING (y) JOIN beds USING (y)
ORDER BY 1
"""


def calibration(con: duckdb.DuckDBPyConnection) -> list[dict[str, float]]:
    """One dict of figures per calendar year covered by the warehouse."""
    result = con.execute(CALIBRATION_SQL)
    names = [c[0] for c in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def main(path: str) -> None:
    con = duckdb.connect(path, read_only=True)
    con.execute("SET enable_progress_bar = false")
    rows = calibration(con)
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main(sys.argv[1])
