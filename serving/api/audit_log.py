"""Record every API request in the audit trail (serving/security/audit.py), once it has been answered."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.security.audit import ANONYMOUS, AuditDetails, AuditLog

log = logging.getLogger("opsbrain.audit")
AUDITED_PREFIXES = ("/api/", "/v1/")
# Health is probed every few seconds by load balancers and monitoring; recording it would bury the
# requests a reviewer looks for, and it returns component states only, never data about anyone.
SKIPPED_PATHS = frozenset({"/api/v1/health"})
_STATE_GUARD = threading.Lock()


def audited(path: str) -> bool:
    return path.startswith(AUDITED_PREFIXES) and path.rstrip("/") not in SKIPPED_PATHS


class AuditMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so a streamed response (server-sent events) passes through
    untouched and is recorded once, when its last chunk has gone out or the client went away."""

    def __init__(self, app: ASGIApp, get_log: Callable[[], AuditLog]) -> None:
        self.app = app
        self.get_log = get_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not audited(scope["path"]):
            await self.app(scope, receive, send)
            return
        # request.state writes into scope["state"]; make sure there is one dict for the routes to fill
        scope.setdefault("state", {})
        status: int | None = None

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            # an exception before the response started becomes a 500 from ServerErrorMiddleware;
            # shielded, so a cancelled (disconnected) streaming request is still written
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._record, scope, status or 500)

    def _record(self, scope: Scope, status: int) -> None:
        try:
            state = scope.get("state") or {}
            principal = state.get("principal")
            details = state.get("audit")
            client = scope.get("client")
            self.get_log().record(
                method=scope["method"],
                path=scope["path"],
                status=status,
                route=route_template(scope),
                user=getattr(principal, "name", ANONYMOUS),
                role=getattr(principal, "role", ANONYMOUS),
                auth_method=getattr(principal, "method", None),
                details=details if isinstance(details, AuditDetails) else None,
                client=client[0] if client else None,
            )
        except Exception:
            # losing one record is bad; failing the caller's request because of it is worse
            log.exception(
                "audit record for %s %s could not be written", scope.get("method"), scope.get("path")
            )


def route_template(scope: Scope) -> str | None:
    """The matched route's template with its routers' prefixes, e.g. /api/v1/conversations/{id}.

    The route in the scope may know only its own part (FastAPI keeps an included route's path
    without the prefix), so find where in the path that part starts: what comes before is the prefix.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(template, str) or not isinstance(regex, re.Pattern):
        return None
    path: str = scope["path"]
    # the longest tail that matches; only a {name:path} parameter could match a longer tail than its
    # own, and then the prefix is left out rather than made up
    for start in (m.start() for m in re.finditer("/", path)):
        if regex.fullmatch(path[start:]):
            return path[:start] + template
    return template


def audit_log_of(state: State) -> AuditLog:
    """The app's AuditLog, built from its settings on first use."""
    if getattr(state, "audit_log", None) is None:
        with _STATE_GUARD:
            if getattr(state, "audit_log", None) is None:
                state.audit_log = AuditLog(state.settings.resolved_auth_url)
    return state.audit_log


def install_audit(app: Starlette) -> None:
    """Record the app's /api/ and /v1/ requests in the auth database (app.state.audit_log)."""
    app.add_middleware(AuditMiddleware, get_log=lambda: audit_log_of(app.state))
