"""Writing the warehouse: the table contract, Arrow conversion, date-ordered appends, atomic files.

The column lists below are docs/warehouse-schema.md in code form; tests compare the two.
Primary keys are documented but not declared: DuckDB would maintain an index per key while
millions of rows are appended, and the generator guarantees uniqueness itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

MONEY = "DECIMAL(14,2)"
_FEE_COLUMNS = [("fee_date", "DATE"), ("item_code", "VARCHAR"), ("fee_class_code", "VARCHAR"),
                ("exec_dept_code", "VARCHAR"), ("quantity", "DOUBLE"), ("amount", MONEY), ("fund_amount", MONEY)]  # fmt: skip
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "dim_campus": [("campus_code", "VARCHAR"), ("campus_name", "VARCHAR"), ("opened_on", "DATE")],
    "dim_department": [("dept_code", "VARCHAR"), ("dept_name", "VARCHAR"), ("dept_group", "VARCHAR"),
                       ("dept_type", "VARCHAR"), ("is_surgical", "BOOLEAN"), ("has_inpatient", "BOOLEAN")],
    "dim_doctor": [("doctor_code", "VARCHAR"), ("doctor_name", "VARCHAR"), ("dept_code", "VARCHAR"),
                   ("campus_code", "VARCHAR"), ("title", "VARCHAR")],
    "dim_ward": [("ward_code", "VARCHAR"), ("ward_name", "VARCHAR"), ("dept_code", "VARCHAR"),
                 ("campus_code", "VARCHAR"), ("approved_beds", "INTEGER")],
    "dim_insurance": [("insurance_code", "VARCHAR"), ("insurance_name", "VARCHAR")],
    "dim_fee_class": [("fee_class_code", "VARCHAR"), ("fee_class_name", "VARCHAR"), ("record_class", "VARCHAR"),
                      ("revenue_group", "VARCHAR")],
    "dim_charge_item": [("item_code", "VARCHAR"), ("item_name", "VARCHAR"), ("fee_class_code", "VARCHAR"),
                        ("unit_price", MONEY), ("is_high_value_material", "BOOLEAN"), ("is_antibiotic", "BOOLEAN"),
                        ("ddd_per_unit", "DOUBLE")],
    "dim_drg": [("drg_code", "VARCHAR"), ("drg_name", "VARCHAR"), ("mdc_code", "VARCHAR"),
                ("relative_weight", "DOUBLE"), ("is_low_risk", "BOOLEAN"), ("region_avg_cost", MONEY),
                ("region_avg_los", "DOUBLE")],
    "dim_diagnosis": [("dx_code", "VARCHAR"), ("dx_name", "VARCHAR"), ("dept_code", "VARCHAR")],
    "dim_operation": [("op_code", "VARCHAR"), ("op_name", "VARCHAR"), ("op_level", "INTEGER"),
                      ("is_minimally_invasive", "BOOLEAN"), ("is_interventional", "BOOLEAN")],
    "dim_patient": [("patient_id", "VARCHAR"), ("patient_name", "VARCHAR"), ("sex", "VARCHAR"),
                    ("birth_date", "DATE")],
    "fact_outpatient_visit": [("visit_id", "BIGINT"), ("visit_date", "DATE"), ("visit_type", "VARCHAR"),
                              ("campus_code", "VARCHAR"), ("dept_code", "VARCHAR"), ("doctor_code", "VARCHAR"),
                              ("insurance_code", "VARCHAR"), ("patient_id", "VARCHAR"),
                              ("patient_age", "INTEGER")],
    "fact_outpatient_fee": [("fee_id", "BIGINT"), ("visit_id", "BIGINT"), *_FEE_COLUMNS],
    "fact_inpatient_stay": [("stay_id", "BIGINT"), ("patient_id", "VARCHAR"), ("patient_age", "INTEGER"),
                            ("campus_code", "VARCHAR"), ("admit_dept_code", "VARCHAR"), ("dept_code", "VARCHAR"),
                            ("doctor_code", "VARCHAR"), ("ward_code", "VARCHAR"), ("insurance_code", "VARCHAR"),
                            ("admit_date", "DATE"), ("discharge_date", "DATE"), ("los_days", "INTEGER"),
                            ("principal_dx_code", "VARCHAR"), ("drg_code", "VARCHAR"),
                            ("discharge_outcome", "VARCHAR"), ("is_death", "BOOLEAN")],
    "fact_operation": [("operation_id", "BIGINT"), ("stay_id", "BIGINT"), ("operation_date", "DATE"),
                       ("op_code", "VARCHAR"), ("op_level", "INTEGER"), ("is_minimally_invasive", "BOOLEAN"),
                       ("is_interventional", "BOOLEAN"), ("is_level4_managed", "BOOLEAN"),
                       ("surgeon_code", "VARCHAR")],
    "fact_inpatient_fee": [("fee_id", "BIGINT"), ("stay_id", "BIGINT"), *_FEE_COLUMNS],
    "fact_antibiotic_use": [("use_id", "BIGINT"), ("stay_id", "BIGINT"), ("use_date", "DATE"),
                            ("item_code", "VARCHAR"), ("ddd_count", "DOUBLE")],
    "fact_bed_day": [("stat_date", "DATE"), ("campus_code", "VARCHAR"), ("dept_code", "VARCHAR"),
                     ("ward_code", "VARCHAR"), ("open_beds", "INTEGER"), ("occupied_beds", "INTEGER")],
    "meta_warehouse": [("key", "VARCHAR"), ("value", "VARCHAR")],
    "meta_defects": [("defect_id", "VARCHAR"), ("table_name", "VARCHAR"), ("description", "VARCHAR"),
                     ("row_count", "BIGINT")],
}  # fmt: skip
_ARROW = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
          MONEY: pa.float64(), "VARCHAR": pa.string(), "DATE": pa.date32()}  # fmt: skip


def codes(index: np.ndarray, labels: Sequence[str], null: np.ndarray | None = None) -> pa.Array:
    """Strings from small integer codes, as an Arrow dictionary array (no Python strings per row)."""
    indices = pa.array(np.asarray(index, dtype=np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(labels), pa.string()))


def _arrow(values: object, sql_type: str) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    if isinstance(values, np.ma.MaskedArray):
        data, mask = np.ma.getdata(values), np.ma.getmaskarray(values)
    else:
        data, mask = np.asarray(values), None
    if sql_type == "DATE":
        return pa.array(data.astype(np.int32), mask=mask).cast(pa.date32())
    if sql_type == "VARCHAR":
        return pa.array(data.tolist(), pa.string(), mask=mask)
    return pa.array(data, _ARROW[sql_type], mask=mask)


class Warehouse:
    """A DuckDB file being written; ``commit`` moves it to its final path, ``abort`` removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._remove(self.tmp)
        self.con = duckdb.connect(str(self.tmp))
        for table, columns in SCHEMA.items():
            self.con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        self.rows = dict.fromkeys(SCHEMA, 0)

    def append(self, table: str, columns: dict[str, object]) -> None:
        schema = SCHEMA[table]
        arrays = [_arrow(columns[name], sql_type) for name, sql_type in schema]
        if len(arrays[0]) == 0:
            return
        self.con.register("_chunk", pa.table(arrays, names=[c for c, _ in schema]))
        self.con.execute(f"INSERT INTO {table} SELECT * FROM _chunk")
        self.con.unregister("_chunk")
        self.rows[table] += len(arrays[0])

    def commit(self) -> None:
        self.con.execute("CHECKPOINT")
        self.con.close()
        os.replace(self.tmp, self.path)
        self._remove(Path(f"{self.path}.wal"))  # a stale log of an older file must not be replayed

    def abort(self) -> None:
        self.con.close()
        self._remove(self.tmp)

    @staticmethod
    def _remove(path: Path) -> None:
        for p in (path, Path(f"{path}.wal")):
            p.unlink(missing_ok=True)


class DateOrderedBuffer:
    """Rows that arrive out of date order (a stay's fees span weeks) written in date order.

    ``flush(before)`` writes every buffered row dated before ``before``, sorted by date (stable,
    so arrival order breaks ties), numbering them with consecutive ids in that order. Buffered
    columns are numpy arrays; ``render`` turns them into the table's columns at write time.
    """

    def __init__(
        self, warehouse: Warehouse, table: str, date_column: str, id_column: str,
        render: Callable[[dict[str, np.ndarray]], dict[str, object]],
    ) -> None:  # fmt: skip
        self.warehouse, self.table, self.render = warehouse, table, render
        self.date_column, self.id_column = date_column, id_column
        self.parts: list[dict[str, np.ndarray]] = []
        self.next_id = 1

    def add(self, columns: dict[str, np.ndarray]) -> None:
        self.parts.append(columns)

    def flush(self, before: int | None = None) -> None:
        if not self.parts:
            return
        rows = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        dates = rows[self.date_column]
        ready = np.ones(len(dates), bool) if before is None else dates < before
        order = np.flatnonzero(ready)[np.argsort(dates[ready], kind="stable")]
        out = {k: v[order] for k, v in rows.items()}
        out[self.id_column] = np.arange(self.next_id, self.next_id + len(order), dtype=np.int64)
        self.next_id += len(order)
        self.parts = [{k: v[~ready] for k, v in rows.items()}] if (~ready).any() else []
        self.warehouse.append(self.table, self.render(out))
