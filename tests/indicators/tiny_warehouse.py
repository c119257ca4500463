"""A hand-written warehouse of a few rows whose indicator values can be worked out on paper."""

from __future__ import annotations

from pathlib import Path

import duckdb

from indicators.warehouse.aggregates import build_aggregates

SCHEMA = """
CREATE TABLE meta_warehouse (key VARCHAR, value VARCHAR);
INSERT INTO meta_warehouse VALUES ('as_of_date', '2024-03-31'), ('start_date', '2023-01-01');
CREATE TABLE dim_campus (campus_code VARCHAR, campus_name VARCHAR, opened_on DATE);
INSERT INTO dim_campus VALUES ('BB', '本部', '2000-01-01'), ('DY', '东院区', '2010-01-01');
CREATE TABLE dim_department (dept_code VARCHAR, dept_name VARCHAR, dept_group VARCHAR, dept_type VARCHAR,
                             is_surgical BOOLEAN, has_inpatient BOOLEAN);
INSERT INTO dim_department VALUES ('NK04', '心血管内科', '内科', '临床', FALSE, TRUE),
                                  ('WK03', '骨科', '外科', '临床', TRUE, TRUE);
CREATE TABLE dim_doctor (doctor_code VARCHAR, doctor_name VARCHAR, dept_code VARCHAR, campus_code VARCHAR,
                         title VARCHAR);
INSERT INTO dim_doctor VALUES ('D1', '张三', 'NK04', 'BB', '主任医师'), ('D2', '李四', 'WK03', 'DY', '主治医师');
CREATE TABLE dim_insurance (insurance_code VARCHAR, insurance_name VARCHAR);
INSERT INTO dim_insurance VALUES ('ZG', '职工医保'), ('ZF', '自费');
CREATE TABLE dim_charge_item (item_code VARCHAR, item_name VARCHAR, fee_class_code VARCHAR,
                              unit_price DECIMAL(14,2), is_high_value_material BOOLEAN, is_antibiotic BOOLEAN,
                              ddd_per_unit DOUBLE);
INSERT INTO dim_charge_item VALUES ('I1', '西药', 'F13', 1, FALSE, FALSE, NULL),
  ('I2', '饮片', 'F15', 1, FALSE, FALSE, NULL), ('I3', '诊察', 'F01', 1, FALSE, FALSE, NULL),
  ('I4', '人工关节', 'F23', 1, TRUE, FALSE, NULL), ('I5', '缝线', 'F23', 1, FALSE, FALSE, NULL);
CREATE TABLE dim_drg (drg_code VARCHAR, drg_name VARCHAR, mdc_code VARCHAR, relative_weight DOUBLE,
                      is_low_risk BOOLEAN, region_avg_cost DECIMAL(14,2), region_avg_los DOUBLE);
INSERT INTO dim_drg VALUES ('G1', '组一', 'F', 2.0, FALSE, 10000, 10), ('G2', '组二', 'I', 0.5, TRUE, 2000, 4);
CREATE TABLE fact_outpatient_visit (visit_id BIGINT, visit_date DATE, visit_type VARCHAR, campus_code VARCHAR,
  dept_code VARCHAR, doctor_code VARCHAR, insurance_code VARCHAR, patient_id VARCHAR, patient_age INTEGER);
INSERT INTO fact_outpatient_visit VALUES
  (1, '2023-02-28', '门诊', 'BB', 'NK04', 'D1', 'ZG', 'P1', 60),
  (2, '2024-02-29', '门诊', 'BB', 'NK04', 'D1', 'ZG', 'P2', 50),
  (3, '2024-02-29', '急诊', 'DY', 'WK03', 'D2', 'ZF', 'P3', 30),
  (4, '2024-03-01', '门诊', 'DY', 'WK03', 'D2', 'ZG', 'P4', 40);
CREATE TABLE fact_outpatient_fee (fee_id BIGINT, visit_id BIGINT, fee_date DATE, item_code VARCHAR,
  fee_class_code VARCHAR, exec_dept_code VARCHAR, quantity DOUBLE, amount DECIMAL(14,2), fund_amount DECIMAL(14,2));
INSERT INTO fact_outpatient_fee VALUES
  (1, 1, '2023-02-28', 'I1', 'F13', 'NK04', 1, 100, 60), (2, 1, '2023-02-28', 'I3', 'F01', 'NK04', 1, 100, 60),
  (3, 2, '2024-02-29', 'I1', 'F13', 'NK04', 1, 150, 90), (4, 2, '2024-02-29', 'I2', 'F15', 'NK04', 1, 50, 30),
  (5, 3, '2024-02-29', 'I3', 'F01', 'WK03', 1, 200, 0), (6, 4, '2024-03-01', 'I1', 'F13', 'WK03', 1, 40, 20);
CREATE TABLE fact_inpatient_stay (stay_id BIGINT, patient_id VARCHAR, patient_age INTEGER, campus_code VARCHAR,
  admit_dept_code VARCHAR, dept_code VARCHAR, doctor_code VARCHAR, ward_code VARCHAR, insurance_code VARCHAR,
  admit_date DATE, discharge_date DATE, los_days INTEGER, principal_dx_code VARCHAR, drg_code VARCHAR,
  discharge_outcome VARCHAR, is_death BOOLEAN);
INSERT INTO fact_inpatient_stay VALUES
  (1, 'P5', 70, 'DY', 'WK03', 'WK03', 'D2', 'W2', 'ZG', '2024-02-20', '2024-02-29', 9, 'S72.0', 'G1', '好转', FALSE),
  (2, 'P6', 80, 'BB', 'NK04', 'NK04', 'D1', 'W1', 'ZG', '2024-02-27', '2024-03-01', 3, 'I10', 'G2', '死亡', TRUE),
  (3, 'P7', 20, 'BB', 'NK04', 'NK04', 'D1', 'W1', 'ZF', '2024-03-30', NULL, NULL, 'I10', NULL, NULL, FALSE);
CREATE TABLE fact_inpatient_fee (fee_id BIGINT, stay_id BIGINT, fee_date DATE, item_code VARCHAR,
  fee_class_code VARCHAR, exec_dept_code VARCHAR, quantity DOUBLE, amount DECIMAL(14,2), fund_amount DECIMAL(14,2));
INSERT INTO fact_inpatient_fee VALUES
  (1, 1, '2024-02-21', 'I4', 'F23', 'WK03', 1, 8000, 6000), (2, 1, '2024-02-22', 'I5', 'F23', 'WK03', 1, 1000, 700),
  (3, 1, '2024-02-23', 'I1', 'F13', 'WK03', 1, 3000, 2000), (4, 2, '2024-02-28', 'I1', 'F13', 'NK04', 1, 1000, 800),
  (5, 3, '2024-03-31', 'I1', 'F13', 'NK04', 1, 999, 0);
CREATE TABLE fact_operation (operation_id BIGINT, stay_id BIGINT, operation_date DATE, op_code VARCHAR,
  op_level INTEGER, is_minimally_invasive BOOLEAN, is_interventional BOOLEAN, is_level4_managed BOOLEAN,
  surgeon_code VARCHAR);
INSERT INTO fact_operation VALUES (1, 1, '2024-02-21', '81.51', 4, FALSE, FALSE, FALSE, 'D2'),
  (2, 1, '2024-02-21', '79.35', 3, TRUE, FALSE, FALSE, 'D2'), (3, 2, '2024-02-28', '36.06', 3, TRUE, TRUE, TRUE, 'D1');
CREATE TABLE fact_antibiotic_use (use_id BIGINT, stay_id BIGINT, use_date DATE, item_code VARCHAR, ddd_count DOUBLE);
INSERT INTO fact_antibiotic_use VALUES (1, 1, '2024-02-21', 'I1', 4.5), (2, 2, '2024-02-28', 'I1', 1.5);
CREATE TABLE fact_bed_day (stat_date DATE, campus_code VARCHAR, dept_code VARCHAR, ward_code VARCHAR,
  open_beds INTEGER, occupied_beds INTEGER);
INSERT INTO fact_bed_day VALUES ('2024-02-28', 'BB', 'NK04', 'W1', 10, 8), ('2024-02-29', 'BB', 'NK04', 'W1', 10, 9),
  ('2024-03-01', 'BB', 'NK04', 'W1', 12, 6), ('2024-02-29', 'DY', 'WK03', 'W2', 20, 15);
"""


def build_tiny_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    build_aggregates(con.execute)
    con.close()
    return path
