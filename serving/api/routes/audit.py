"""The audit trail, for reviewers (roles with read_audit). Reading it is itself recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from serving.api.audit_log import audit_log_of
from serving.api.auth import require
from serving.api.errors import error_responses
from serving.security.audit import AuditLog, AuditRecord, AuditVerification
from serving.security.models import Principal

router = APIRouter(prefix="/audit", tags=["audit"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "not signed in"},
    403: {"description": "the caller's role lacks read_audit"},
    **error_responses(422),
}
Reviewer = Annotated[Principal, Depends(require("read_audit"))]


def get_audit_log(request: Request) -> AuditLog:
    return audit_log_of(request.app.state)


AuditLogDep = Annotated[AuditLog, Depends(get_audit_log)]


@router.get("", response_model=list[AuditRecord], summary="审计记录（新的在前）", responses=ERRORS)
def search_audit(
    _: Reviewer,
    audit: AuditLogDep,
    user: Annotated[str | None, Query(max_length=200, description="user name, or key:<id>")] = None,
    route: Annotated[str | None, Query(max_length=300, description="route template")] = None,
    outcome: Annotated[
        str | None, Query(max_length=100, description='"refused" also matches "refused:<reason>"')
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="from (inclusive), with time zone")] = None,
    until: Annotated[AwareDatetime | None, Query(description="to (exclusive), with time zone")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditRecord]:
    return audit.search(
        user=user, route=route, outcome=outcome, since=since, until=until, limit=limit, offset=offset
    )


@router.get("/verify", response_model=AuditVerification, summary="校验审计链是否完整", responses=ERRORS)
def verify_audit(_: Reviewer, audit: AuditLogDep) -> AuditVerification:
    return audit.verify()
