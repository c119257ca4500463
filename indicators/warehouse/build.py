"""Prepare a queryable warehouse: generate the demo data, then build the pre-aggregations."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from indicators.warehouse.aggregates import build_aggregates


@dataclass
class BuildReport:
    path: Path
    raw_rows: dict[str, int]
    generate_seconds: float
    aggregate_seconds: float
    rows_per_second: float


def build_duckdb_aggregates(path: Path | str) -> list[str]:
    """(Re)build the agg_* tables inside a DuckDB warehouse file."""
    con = duckdb.connect(str(path))
    try:
        return build_aggregates(con.execute)
    finally:
        con.close()


def prepare_demo_warehouse(
    path: Path | str,
    *,
    scale: float = 1.0,
    seed: int = 20230908,
    as_of: date = date(2023, 9, 8),
    progress: bool = True,
) -> BuildReport:
    """Generate the demo warehouse at ``path`` and build its pre-aggregations."""
    from indicators.demo import generate_demo_warehouse  # heavy numpy code, imported on demand

    report = generate_demo_warehouse(path, scale=scale, seed=seed, as_of=as_of, progress=progress)
    started = time.perf_counter()
    build_duckdb_aggregates(path)
    return BuildReport(
        path=Path(path),
        raw_rows=dict(report.row_counts),
        generate_seconds=report.seconds,
        aggregate_seconds=time.perf_counter() - started,
        rows_per_second=report.rows_per_second,
    )
