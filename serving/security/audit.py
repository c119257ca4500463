"""The audit trail: one append-only, hash-chained record per API request, in the auth database.

Each record holds who called (user, role, how they signed in), what they called (method, route
template, path without the query string, status, client address) and what the assistant did for
them (the question, the plan, a digest of the SQL run, the row count, the outcome). Questions are
stored in full on purpose: they are what a reviewer needs to judge a request. Request bodies,
query strings and headers are never stored, so passwords and tokens cannot end up here; only the
fields below are written.

Every record carries ``hash = sha256(prev_hash + canonical JSON of its fields)``, where prev_hash
is the hash of the record before it (64 zeros for the first), so :meth:`AuditLog.verify` finds an
edited, deleted or reordered record. Records are only appended; :meth:`AuditLog.prune` is the one
thing that deletes them, oldest first, and it remembers the last deleted hash in ``audit_anchor``
so that what remains still verifies. A chain without a secret can be rebuilt by someone with write
access to the whole database, and dropping the newest records leaves no gap: note the
``head_hash`` that verify reports somewhere else (a ticket, the hospital's log server) to detect both.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request

from serving.storage import store_engine

GENESIS = "0" * 64
ANONYMOUS = "-"
_BATCH = 500

metadata = sa.MetaData()
audit_log = sa.Table(
    "audit_log",
    metadata,
    # ids are assigned by record() (last + 1), not by the database: they are part of the hash and
    # must be gapless, so a missing record shows as a missing number
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("ts", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("user", sa.String(200), nullable=False, index=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("auth_method", sa.String(16)),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("route", sa.String(300), nullable=False),
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("question", sa.Text),
    sa.Column("plan", sa.Text),  # canonical JSON
    sa.Column("sql_digest", sa.String(64)),
    sa.Column("rows", sa.Integer),
    sa.Column("outcome", sa.String(100)),
    sa.Column("client", sa.String(64)),
    # unique: two writers that read the same last record cannot both append after it (no fork)
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
)
audit_anchor = sa.Table(
    "audit_anchor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("after_id", sa.Integer, nullable=False),  # the last pruned record
    sa.Column("hash", sa.String(64), nullable=False),  # its hash: the first kept record's prev_hash
    sa.Column("removed", sa.Integer, nullable=False),  # pruned so far, all prunes together
    sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
)
# the fields a record's hash covers, in the stored form; changing this list voids every old chain
HASHED = (
    "id", "ts", "user", "role", "auth_method", "method", "route", "path", "status",
    "question", "plan", "sql_digest", "rows", "outcome", "client",
)  # fmt: skip
# one lock per database for every AuditLog of this process (the app's, a CLI's, a test's)
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class AuditIntegrityError(RuntimeError):
    """The chain does not verify; pruning now would destroy the evidence."""


class AuditDetails(BaseModel):
    """What a route adds to its request's record (see :func:`note_audit`)."""

    model_config = ConfigDict(extra="forbid")

    question: str | None = None
    plan: dict[str, Any] | None = Field(None, description="the query plan, JSON-able")
    sql: list[str] = Field(default_factory=list, description="statements run; only their digest is kept")
    rows: int | None = None
    outcome: str | None = Field(None, description='e.g. "answered", "refused:out_of_scope"')

    @field_validator("plan", mode="before")
    @classmethod
    def _plan_as_dict(cls, value: Any) -> Any:
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

    @field_validator("sql", mode="before")
    @classmethod
    def _sql_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def sql_digest(self) -> str | None:
        return hashlib.sha256("\n;\n".join(self.sql).encode()).hexdigest() if self.sql else None


def note_audit(request: Request, **fields: Any) -> AuditDetails:
    """Merge ``fields`` (AuditDetails fields) into this request's audit details; a later call
    replaces what an earlier one set for the same field. Unknown fields raise (typos surface in tests)."""
    current = getattr(request.state, "audit", None) or AuditDetails()
    details = AuditDetails.model_validate({**current.model_dump(), **fields})
    request.state.audit = details
    return details


class AuditRecord(BaseModel):
    id: int
    ts: datetime = Field(description="when the response ended, UTC")
    user: str = Field(description="user name, 'key:<id>' for an API key, '-' when not signed in")
    role: str
    auth_method: str | None = None
    method: str
    route: str = Field(description="the route template, e.g. /api/v1/conversations/{conversation_id}")
    path: str
    status: int
    question: str | None = None
    plan: dict[str, Any] | None = None
    sql_digest: str | None = Field(None, description='sha256 of the statements joined by "\\n;\\n"')
    rows: int | None = None
    outcome: str | None = None
    client: str | None = None
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    checked: int = Field(description="records whose hash was recomputed")
    first_bad_id: int | None = Field(None, description="the first record that does not verify")
    message: str
    last_id: int | None = None
    head_hash: str | None = Field(None, description="the newest record's hash: note it elsewhere")


def _utc(value: datetime) -> datetime:
    # SQLite drops the zone (values are stored in UTC); PostgreSQL answers in the session's zone
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash of a stored row (a mapping with the HASHED columns) after ``prev_hash``."""
    fields = {name: row[name] for name in HASHED}
    fields["ts"] = _utc(fields["ts"]).isoformat()
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


class AuditLog:
    """The ``audit_log`` table of one database. Nothing but :meth:`prune` deletes or changes rows."""

    def __init__(self, url: str) -> None:
        parsed = sa.make_url(url)
        self.engine = store_engine(url)
        metadata.create_all(self.engine)
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(parsed.render_as_string(hide_password=True), threading.Lock())

    # ------------------------------------------------------------------ writing
    def record(
        self,
        *,
        method: str,
        path: str,
        status: int,
        route: str | None = None,
        user: str = ANONYMOUS,
        role: str = ANONYMOUS,
        auth_method: str | None = None,
        details: AuditDetails | None = None,
        client: str | None = None,
        ts: datetime | None = None,
    ) -> AuditRecord:
        """Append one record and return it."""
        details = details or AuditDetails()
        row: dict[str, Any] = {
            "ts": _utc(ts or datetime.now(UTC)),
            "user": _clip(user, 200),
            "role": _clip(role, 32),
            "auth_method": _clip(auth_method, 16),
            "method": _clip(method, 10),
            "route": _clip(route or path, 300),
            "path": _clip(path, 1000),
            "status": int(status),
            "question": details.question,
            "plan": _canonical(details.plan) if details.plan is not None else None,
            "sql_digest": details.sql_digest,
            "rows": details.rows,
            "outcome": _clip(details.outcome, 100),
            "client": _clip(client, 64),
        }
        # the lock serialises this process's writers; the unique prev_hash catches another process
        # that appended between our read and our insert, and we retry on top of its record
        for attempt in range(5):
            try:
                with self._lock, self.engine.begin() as conn:
                    last_id, prev_hash = self._head(conn)
                    row["id"], row["prev_hash"] = last_id + 1, prev_hash
                    row["hash"] = chain_hash(prev_hash, row)
                    conn.execute(audit_log.insert().values(**row))
                break
            except sa.exc.IntegrityError:
                if attempt == 4:
                    raise
        return _record(row)

    def _head(self, conn: sa.Connection) -> tuple[int, str]:
        """The newest record's id and hash; after a prune that removed all, the anchor's."""
        last = conn.execute(
            sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        if last is not None:
            return last.id, last.hash
        anchor = conn.execute(sa.select(audit_anchor).where(audit_anchor.c.id == 1)).first()
        return (anchor.after_id, anchor.hash) if anchor else (0, GENESIS)

    def prune(self, older_than_days: int) -> int:
        """Delete the oldest records, up to the first one newer than ``older_than_days``; the number
        deleted. Refuses (AuditIntegrityError) when the chain does not verify."""
        if older_than_days < 1:
            raise ValueError("older_than_days must be at least 1")
        check = self.verify()
        if not check.ok:
            raise AuditIntegrityError(check.message)
        cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
        with self._lock, self.engine.begin() as conn:
            # a contiguous prefix only (a clock set back must not punch holes in the chain)
            first_kept = conn.execute(sa.select(sa.func.min(audit_log.c.id)).where(audit_log.c.ts >= cutoff))
            first_kept_id = first_kept.scalar()
            last_removed = (
                sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
            )
            if first_kept_id is not None:
                last_removed = last_removed.where(audit_log.c.id < first_kept_id)
            last = conn.execute(last_removed).first()
            if last is None:
                return 0
            removed = conn.execute(audit_log.delete().where(audit_log.c.id <= last.id)).rowcount
            anchor = conn.execute(sa.select(audit_anchor).where(audit_anchor.c.id == 1)).first()
            values = {
                "after_id": last.id,
                "hash": last.hash,
                "removed": (anchor.removed if anchor else 0) + removed,
                "pruned_at": datetime.now(UTC),
            }
            if anchor:
                conn.execute(audit_anchor.update().where(audit_anchor.c.id == 1).values(**values))
            else:
                conn.execute(audit_anchor.insert().values(id=1, **values))
        return removed

    # ------------------------------------------------------------------ reading
    def verify(self) -> AuditVerification:
        """Recompute every hash from the anchor (or genesis) on; the first record that fails."""
        anchor = self._anchor()
        result = self._verify_from(anchor)
        if not result.ok and self._anchor() != anchor:
            # a prune ran between reading the anchor and the rows, which looks like a gap: again
            result = self._verify_from(self._anchor())
        return result

    def _anchor(self) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(audit_anchor).where(audit_anchor.c.id == 1)).first()
        return (row.after_id, row.hash) if row else None

    def _verify_from(self, anchor: tuple[int, str] | None) -> AuditVerification:
        expected_id, expected_prev = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS)
        checked = 0
        for row in self._rows():
            problem = None
            if row["id"] != expected_id:
                missing = (
                    f"#{expected_id}" if row["id"] == expected_id + 1 else f"#{expected_id}–#{row['id'] - 1}"
                )
                problem = (
                    f"其前的记录 {missing} 缺失（被删除？）" if row["id"] > expected_id else "编号顺序错乱"
                )
            elif row["prev_hash"] != expected_prev:
                problem = "prev_hash 与前一条记录不符（记录被删除、插入或调换了顺序？）"
            elif chain_hash(row["prev_hash"], row) != row["hash"]:
                problem = "内容与其哈希不符（记录被修改？）"
            if problem:
                return AuditVerification(
                    ok=False,
                    checked=checked,
                    first_bad_id=row["id"],
                    message=f"审计链在记录 #{row['id']} 处断开：{problem}",
                )
            checked += 1
            expected_id, expected_prev = row["id"] + 1, row["hash"]
        if not checked:
            return AuditVerification(ok=True, checked=0, message="审计记录为空。")
        return AuditVerification(
            ok=True,
            checked=checked,
            message=f"审计链完整：{checked} 条记录（至 #{expected_id - 1}）。",
            last_id=expected_id - 1,
            head_hash=expected_prev,
        )

    def _rows(self, query: sa.Select | None = None) -> Iterator[Any]:
        """Rows of ``query`` (default: all) by id, in short batches: a long read would hold SQLite's
        lock and make request threads wait (and lose records) for the whole of a verify or export."""
        query = sa.select(audit_log) if query is None else query
        after = 0
        while True:
            batch = query.where(audit_log.c.id > after).order_by(audit_log.c.id).limit(_BATCH)
            with self.engine.connect() as conn:
                rows = list(conn.execute(batch).mappings())
            yield from rows
            if len(rows) < _BATCH:
                return
            after = rows[-1]["id"]

    def search(
        self,
        user: str | None = None,
        route: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditRecord]:
        """Records newest first. ``since`` is inclusive, ``until`` exclusive; ``outcome="refused"``
        also matches "refused:<reason>"."""
        query = _filtered(sa.select(audit_log), user, route, outcome, since, until)
        query = query.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def export(
        self,
        user: str | None = None,
        route: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[AuditRecord]:
        """Every matching record, oldest first, read in batches (the log may be large)."""
        query = _filtered(sa.select(audit_log), user, route, outcome, since, until)
        return (_record(row) for row in self._rows(query))


def _filtered(
    query: sa.Select,
    user: str | None,
    route: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> sa.Select:
    c = audit_log.c
    if user is not None:
        query = query.where(c.user == user)
    if route is not None:
        query = query.where(c.route == route)
    if outcome is not None:
        query = query.where(
            sa.or_(c.outcome == outcome, c.outcome.startswith(outcome + ":", autoescape=True))
        )
    # stored in UTC: compare in UTC (SQLite compares the text, whatever zone the bound value had)
    if since is not None:
        query = query.where(c.ts >= _utc(since))
    if until is not None:
        query = query.where(c.ts < _utc(until))
    return query


def _record(row: Any) -> AuditRecord:
    values = {name: row[name] for name in (*HASHED, "prev_hash", "hash")}
    values["ts"] = _utc(values["ts"])
    values["plan"] = json.loads(values["plan"]) if values["plan"] is not None else None
    return AuditRecord(**values)
