"""``opsbrain audit``: export, verify and prune the audit trail (serving/security/audit.py)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from opsbrain.settings import settings
from serving.security.audit import AuditIntegrityError, AuditLog, AuditRecord

audit_app = typer.Typer(
    help="The audit trail of API requests: export it, verify its hash chain, prune old records.",
    no_args_is_help=True,
)


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def _log() -> AuditLog:
    return AuditLog(settings.resolved_auth_url)


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO date or datetime; without a zone it is this machine's local time (what a person typing
    it at the console means)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date or datetime: {value!r}", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _write(records: Iterable[AuditRecord], fmt: ExportFormat, out: TextIO) -> int:
    count = 0
    writer = None
    for record in records:
        if fmt is ExportFormat.jsonl:
            out.write(record.model_dump_json() + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(AuditRecord.model_fields))
                writer.writeheader()
            row = record.model_dump(mode="json")
            row["plan"] = json.dumps(row["plan"], ensure_ascii=False) if row["plan"] is not None else ""
            writer.writerow(row)
        count += 1
    if fmt is ExportFormat.csv and writer is None:
        csv.DictWriter(out, fieldnames=list(AuditRecord.model_fields)).writeheader()
    return count


@audit_app.command()
def export(
    since: Annotated[str | None, typer.Option(help="from (inclusive), ISO date or datetime")] = None,
    until: Annotated[str | None, typer.Option(help="to (exclusive), ISO date or datetime")] = None,
    user: Annotated[str | None, typer.Option(help="only this user (or key:<id>)")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or csv")] = ExportFormat.jsonl,
    out: Annotated[Path | None, typer.Option(help="file to write; default: standard output")] = None,
) -> None:
    """Write audit records, oldest first. Questions are included; passwords and tokens never are."""
    records = _log().export(user=user, since=_when(since, "--since"), until=_when(until, "--until"))
    if out is None:
        _write(records, fmt, sys.stdout)
        return
    with out.open("w", encoding="utf-8", newline="") as f:
        count = _write(records, fmt, f)
    typer.echo(f"wrote {count} records to {out}", err=True)


@audit_app.command()
def verify() -> None:
    """Recompute the hash chain; exit code 1 naming the first bad record if it is broken."""
    result = _log().verify()
    if not result.ok:
        typer.echo(result.message, err=True)
        raise typer.Exit(1)
    typer.echo(result.message + (f" head_hash={result.head_hash}" if result.head_hash else ""))


@audit_app.command()
def prune(
    days: Annotated[
        int | None, typer.Option(min=1, help="keep this many days; default: audit_retention_days")
    ] = None,
) -> None:
    """Delete records older than the retention period; the chain still verifies afterwards."""
    keep = days or settings.audit_retention_days
    try:
        removed = _log().prune(keep)
    except AuditIntegrityError as exc:
        typer.echo(f"not pruned: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"removed {removed} records older than {keep} days")
