"""Copy a DuckDB warehouse into PostgreSQL and rebuild the pre-aggregations there.

A hospital whose warehouse outgrows one machine runs the same indicator queries on PostgreSQL:
the raw tables are copied with COPY (streamed as CSV, no intermediate files kept) and the agg_*
tables are rebuilt by the same portable SQL that builds them in DuckDB.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg

from indicators.warehouse.aggregates import DAILY, build_aggregates, monthly_name

_TYPE_MAP = [
    (r"^VARCHAR.*", "TEXT"),
    (r"^(BIGINT|INTEGER|SMALLINT|BOOLEAN|DATE|TIMESTAMP)$", None),
    (r"^DOUBLE$|^FLOAT$", "DOUBLE PRECISION"),
    (r"^DECIMAL\((\d+),(\d+)\)$", r"NUMERIC(\1,\2)"),
]


def postgres_type(duck_type: str) -> str:
    for pattern, replacement in _TYPE_MAP:
        if re.match(pattern, duck_type):
            return duck_type if replacement is None else re.sub(pattern, replacement, duck_type)
    raise ValueError(f"no PostgreSQL type for DuckDB type {duck_type}")


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    aggregates = set(DAILY) | {monthly_name(n) for n in DAILY}
    names = [
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
    ]
    return [n for n in names if n not in aggregates]


def copy_to_postgres(
    source: Path | str | duckdb.DuckDBPyConnection,
    pg_dsn: str,
    on_table: Callable[[str, int], None] | None = None,
) -> list[str]:
    """Replace the warehouse tables in ``pg_dsn`` with those of a DuckDB warehouse; return the tables.

    ``source`` is the DuckDB file or an open connection to it (DuckDB allows one configuration of
    connections per file and process). ``pg_dsn`` is a libpq connection string or
    ``postgresql://`` URL (``+psycopg`` is accepted).
    """
    dsn = pg_dsn.replace("postgresql+psycopg://", "postgresql://")
    owned = not hasattr(source, "execute")
    src = duckdb.connect(str(source), read_only=True) if owned else source
    copied = []
    try:
        with psycopg.connect(dsn, autocommit=True) as pg, tempfile.TemporaryDirectory() as tmp:
            for table in raw_tables(src):
                columns = src.execute(f"DESCRIBE {table}").fetchall()
                ddl = ", ".join(f'"{c[0]}" {postgres_type(c[1])}' for c in columns)
                pg.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
                pg.execute(f"CREATE TABLE {table} ({ddl})")
                csv_path = Path(tmp) / f"{table}.csv"
                src.execute(f"COPY {table} TO '{csv_path}' (FORMAT csv, HEADER false)")
                with (
                    pg.cursor() as cur,
                    cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
                    csv_path.open("rb") as fh,
                ):
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
                csv_path.unlink()
                count = pg.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                if on_table:
                    on_table(table, count)
                copied.append(table)
            build_aggregates(pg.execute, index=True)
            pg.execute("ANALYZE")
    finally:
        if owned:
            src.close()
    return copied
