"""The audit trail: hash chain, tamper detection, pruning, search, middleware, CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opsbrain import audit_cli
from opsbrain.settings import Settings
from serving.api.audit_log import AuditMiddleware
from serving.security import audit as audit_module
from serving.security.audit import (
    GENESIS,
    AuditDetails,
    AuditIntegrityError,
    AuditLog,
    audit_log,
    chain_hash,
    note_audit,
)
from serving.security.models import Principal


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'auth.sqlite'}"


@pytest.fixture
def log(url: str) -> AuditLog:
    return AuditLog(url)


def _fill(log: AuditLog, n: int, **extra) -> None:
    for i in range(n):
        log.record(method="GET", path=f"/api/v1/things/{i}", route="/api/v1/things/{id}", status=200, **extra)


def _raw(log: AuditLog, statement: str, **params) -> None:
    with log.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


# ---------------------------------------------------------------------- the chain
def test_chain_verifies_after_many_records(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_module, "_BATCH", 7)  # verify and export read in batches: cross many
    assert log.verify().ok and log.verify().checked == 0
    _fill(log, 120, user="wang", role="finance", details=AuditDetails(question="本月门诊量", rows=3))
    result = log.verify()
    assert result.ok, result.message
    assert result.checked == 120 and result.last_id == 120 and result.first_bad_id is None
    first, last = log.search(limit=1000)[-1], log.search(limit=1)[0]
    assert first.prev_hash == GENESIS and result.head_hash == last.hash
    assert [r.id for r in log.export()] == list(range(1, 121))
    _raw(log, "DELETE FROM audit_log WHERE id = 50")
    assert log.verify().first_bad_id == 51


def test_record_hashes_its_fields_after_the_previous_hash(log: AuditLog) -> None:
    a = log.record(
        method="POST", path="/api/v1/chat", status=200, details=AuditDetails(sql=["SELECT 1", "SELECT 2"])
    )
    b = log.record(method="GET", path="/api/v1/meta", status=200)
    assert b.prev_hash == a.hash and a.id + 1 == b.id
    assert a.ts.tzinfo is not None and a.route == "/api/v1/chat"  # no template known: the path
    assert a.sql_digest == hashlib.sha256(b"SELECT 1\n;\nSELECT 2").hexdigest()
    with log.engine.connect() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.id == a.id)).mappings().one()
    assert chain_hash(GENESIS, row) == a.hash


def test_an_edited_field_is_found_with_its_id(log: AuditLog) -> None:
    _fill(log, 10, details=AuditDetails(outcome="answered"))
    _raw(log, "UPDATE audit_log SET outcome = 'refused:out_of_scope' WHERE id = 4")
    result = log.verify()
    assert not result.ok and result.first_bad_id == 4 and "#4" in result.message
    assert result.checked == 3


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    _fill(log, 6)
    with log.engine.begin() as conn:
        row = dict(conn.execute(sa.select(audit_log).where(audit_log.c.id == 3)).mappings().one())
        row["user"] = "someone-else"
        conn.execute(
            audit_log.update()
            .where(audit_log.c.id == 3)
            .values(user="someone-else", hash=chain_hash(row["prev_hash"], row))
        )
    assert log.verify().first_bad_id == 4


def test_a_deleted_middle_record_is_found(log: AuditLog) -> None:
    _fill(log, 10)
    _raw(log, "DELETE FROM audit_log WHERE id = 5")
    result = log.verify()
    assert not result.ok and result.first_bad_id == 6 and "#5" in result.message


def test_swapped_records_are_found(log: AuditLog) -> None:
    _fill(log, 5)
    # swap the contents of #2 and #3 (ids stay in order): the links no longer fit
    with log.engine.begin() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(sa.select(audit_log)).mappings()}
        conn.execute(audit_log.delete().where(audit_log.c.id.in_([2, 3])))
        for new_id, old_id in ((2, 3), (3, 2)):
            conn.execute(audit_log.insert().values({**rows[old_id], "id": new_id}))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 2


def test_eight_threads_keep_one_chain(url: str) -> None:
    logs = [AuditLog(url) for _ in range(2)]  # two AuditLogs of one database share the lock
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(25):
                logs[k % 2].record(method="GET", path=f"/api/v1/t/{k}/{i}", status=200, user=f"u{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = logs[0].verify()
    assert result.ok, result.message
    assert result.checked == 200


def test_prune_keeps_the_chain_verifiable(log: AuditLog) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    for i in range(5):
        log.record(method="GET", path=f"/api/v1/old/{i}", status=200, ts=old + timedelta(minutes=i))
    _fill(log, 3)
    assert log.prune(30) == 5
    result = log.verify()
    assert result.ok and result.checked == 3, result.message
    assert log.prune(30) == 0
    # the chain goes on from the anchor, and deleting the first kept record is still noticed
    log.record(method="GET", path="/api/v1/new", status=200)
    assert log.verify().ok and log.verify().checked == 4
    _raw(log, "DELETE FROM audit_log WHERE id = 6")
    assert log.verify().first_bad_id == 7


def test_prune_of_everything_continues_from_the_anchor(log: AuditLog) -> None:
    _fill(log, 3, ts=datetime.now(UTC) - timedelta(days=10))
    assert log.prune(1) == 3
    assert log.verify().ok and log.verify().checked == 0
    nxt = log.record(method="GET", path="/api/v1/next", status=200)
    assert nxt.id == 4 and nxt.prev_hash != GENESIS
    assert log.verify().ok


def test_prune_refuses_a_broken_chain(log: AuditLog) -> None:
    _fill(log, 3, ts=datetime.now(UTC) - timedelta(days=10))
    _raw(log, "UPDATE audit_log SET status = 500 WHERE id = 2")
    with pytest.raises(AuditIntegrityError, match="#2"):
        log.prune(1)
    assert len(log.search()) == 3


# ---------------------------------------------------------------------- search
def test_search_filters_newest_first(log: AuditLog) -> None:
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    outcomes = ["answered", "refused:out_of_scope", "refused:no_access", None]
    for i in range(8):
        log.record(
            method="POST",
            path="/api/v1/chat",
            route="/api/v1/chat",
            status=200,
            user="wang" if i % 2 else "li",
            ts=t0 + timedelta(hours=i),
            details=AuditDetails(outcome=outcomes[i % 4]),
        )
    log.record(method="GET", path="/api/v1/meta", route="/api/v1/meta", status=200, ts=t0)
    assert [r.id for r in log.search(limit=3)] == [9, 8, 7]
    assert {r.user for r in log.search(user="wang")} == {"wang"}
    assert len(log.search(route="/api/v1/meta")) == 1
    assert {r.outcome for r in log.search(outcome="refused")} == {"refused:out_of_scope", "refused:no_access"}
    assert {r.outcome for r in log.search(outcome="refused:no_access")} == {"refused:no_access"}
    # since inclusive, until exclusive, in any zone (+08:00 here)
    cst = timezone(timedelta(hours=8))
    window = log.search(
        since=(t0 + timedelta(hours=2)).astimezone(cst), until=(t0 + timedelta(hours=5)).astimezone(cst)
    )
    assert [r.id for r in window] == [5, 4, 3]
    assert [r.id for r in log.search(limit=2, offset=2)] == [7, 6]
    assert [r.id for r in log.export(user="li")] == [1, 3, 5, 7]


def test_note_audit_merges_and_refuses_unknown_fields() -> None:
    app = FastAPI()
    seen: dict = {}

    @app.get("/x")
    def x(request: Request) -> dict:
        note_audit(request, question="q", plan={"indicator": "outpatient_visits"})
        note_audit(request, rows=2, sql="SELECT 1")
        seen["details"] = request.state.audit
        with pytest.raises(ValueError):
            note_audit(request, password="secret")
        return {}

    TestClient(app).get("/x")
    details = seen["details"]
    assert (details.question, details.rows, details.sql) == ("q", 2, ["SELECT 1"])
    assert details.plan == {"indicator": "outpatient_visits"}


# ---------------------------------------------------------------------- middleware
def _tiny_app(get_log) -> FastAPI:
    app = FastAPI()
    things = APIRouter(prefix="/things")

    @things.get("/{thing_id}")
    def thing(thing_id: str, request: Request) -> dict:
        request.state.principal = Principal(name="wang", role="finance", method="token")
        note_audit(request, question="第几个？", outcome="answered", rows=1)
        return {"id": thing_id}

    @things.get("/{thing_id}/stream")
    def stream(thing_id: str, request: Request) -> StreamingResponse:
        def events():
            for i in range(3):
                yield f"data: {i}\n\n"
            note_audit(request, outcome="streamed")  # only known at the end of the stream

        return StreamingResponse(events(), media_type="text/event-stream")

    @things.post("/boom")
    def boom() -> dict:
        raise RuntimeError("boom")

    app.include_router(things, prefix="/api/v1")

    @app.get("/static/app.js")
    def static() -> str:
        return "js"

    @app.get("/api/v1/health")
    def health() -> dict:
        return {"status": "ok"}

    app.add_middleware(AuditMiddleware, get_log=get_log)
    return app


def test_middleware_records_request_route_user_and_details(log: AuditLog) -> None:
    client = TestClient(_tiny_app(lambda: log), raise_server_exceptions=False)
    assert (
        client.get("/api/v1/things/7?token=secret", headers={"Authorization": "Bearer x"}).status_code == 200
    )
    (record,) = log.search()
    assert (record.method, record.route, record.path, record.status) == (
        "GET",
        "/api/v1/things/{thing_id}",
        "/api/v1/things/7",  # never the query string
        200,
    )
    assert (record.user, record.role, record.auth_method) == ("wang", "finance", "token")
    assert (record.question, record.outcome, record.rows) == ("第几个？", "answered", 1)
    assert record.client == "testclient"
    assert "secret" not in record.model_dump_json()

    client.get("/api/v1/nowhere")
    client.post("/api/v1/things/boom")
    client.get("/static/app.js")
    client.get("/api/v1/health")
    missing, boom = log.search(limit=2)[::-1]
    assert (missing.status, missing.route, missing.user, missing.role) == (404, "/api/v1/nowhere", "-", "-")
    assert (boom.status, boom.route) == (500, "/api/v1/things/boom")
    assert len(log.search()) == 3  # static files and health are not recorded
    assert log.verify().ok


def test_middleware_records_a_stream_once_at_its_end(log: AuditLog) -> None:
    client = TestClient(_tiny_app(lambda: log))
    with client.stream("GET", "/api/v1/things/7/stream") as response:
        body = "".join(response.iter_text())
    assert body.count("data:") == 3
    (record,) = log.search()
    assert (record.status, record.route, record.outcome) == (
        200,
        "/api/v1/things/{thing_id}/stream",
        "streamed",
    )


def test_middleware_survives_a_broken_log(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def record(self, **_: object) -> None:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    def unavailable() -> AuditLog:
        raise RuntimeError("no database")

    for get_log in (lambda: Broken(), unavailable):
        client = TestClient(_tiny_app(get_log))
        with caplog.at_level(logging.ERROR, logger="opsbrain.audit"):
            response = client.get("/api/v1/things/7")
        assert response.status_code == 200 and response.json() == {"id": "7"}
        assert "audit record for GET /api/v1/things/7 could not be written" in caplog.text
        assert caplog.records[-1].exc_info is not None
        caplog.clear()


# ---------------------------------------------------------------------- CLI
@pytest.fixture
def cli_log(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AuditLog:
    monkeypatch.setattr(
        audit_cli, "settings", Settings(auth_url=url, data_dir=tmp_path, audit_retention_days=30)
    )
    return AuditLog(url)


def test_cli_export_jsonl_and_csv(cli_log: AuditLog, tmp_path: Path) -> None:
    cli_log.record(
        method="GET", path="/api/v1/a", status=200, user="wang", ts=datetime(2024, 1, 1, tzinfo=UTC)
    )
    cli_log.record(
        method="POST",
        path="/api/v1/chat",
        status=200,
        user="li",
        ts=datetime(2024, 2, 1, tzinfo=UTC),
        details=AuditDetails(question="住院人次", plan={"indicator": "inpatient_stays"}),
    )
    runner = CliRunner()
    result = runner.invoke(audit_cli.audit_app, ["export"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["user"] for r in lines] == ["wang", "li"]  # oldest first
    assert lines[1]["question"] == "住院人次"

    result = runner.invoke(
        audit_cli.audit_app, ["export", "--since", "2024-01-15T00:00:00+00:00", "--user", "li"]
    )
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [2]

    out = tmp_path / "audit.csv"
    result = runner.invoke(audit_cli.audit_app, ["export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0 and "wrote 2 records" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["path"] for r in rows] == ["/api/v1/a", "/api/v1/chat"]
    assert json.loads(rows[1]["plan"]) == {"indicator": "inpatient_stays"}

    assert runner.invoke(audit_cli.audit_app, ["export", "--since", "yesterday"]).exit_code == 2


def test_cli_verify_and_prune(cli_log: AuditLog) -> None:
    runner = CliRunner()
    _fill(cli_log, 2, ts=datetime.now(UTC) - timedelta(days=60))
    _fill(cli_log, 3)
    result = runner.invoke(audit_cli.audit_app, ["verify"])
    assert result.exit_code == 0 and "5" in result.stdout

    result = runner.invoke(audit_cli.audit_app, ["prune"])  # audit_retention_days = 30
    assert result.exit_code == 0 and "removed 2 records" in result.stdout
    assert runner.invoke(audit_cli.audit_app, ["prune", "--days", "0"]).exit_code == 2
    assert runner.invoke(audit_cli.audit_app, ["verify"]).exit_code == 0

    _raw(cli_log, "UPDATE audit_log SET question = 'edited' WHERE id = 4")
    result = runner.invoke(audit_cli.audit_app, ["verify"])
    assert result.exit_code == 1
    assert "#4" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert runner.invoke(audit_cli.audit_app, ["prune"]).exit_code == 1
