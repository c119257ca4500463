"""The server's own small databases (conversations, accounts, the audit trail): one engine recipe.

Each is SQLite in data_dir by default and any SQLAlchemy URL (PostgreSQL) in production. SQLite
runs in WAL mode with NORMAL sync: a commit costs well under a millisecond instead of one disk
sync (about 20 ms) per commit, which every request pays for its audit record. A power cut may
lose the last commits, never the database's consistency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa


def _sqlite_pragmas(conn: Any, _: Any) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")  # several workers write the same file: wait, do not fail


def store_engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine
