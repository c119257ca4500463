"""Who is calling: the request dependency every data route takes, and the objects it reads.

Accepted, in this order: an API key (``X-API-Key`` or ``Authorization: Bearer ob_…``), an opsbrain
access token (``POST /api/v1/auth/token``), a token from the hospital's identity provider (when
SSO is configured), and the web UI's session cookie. A cookie-authenticated request that changes
anything must echo the session's CSRF token in ``X-CSRF-Token`` (the cookie alone is what a forged
cross-site form would carry). Anything else is 401; a known caller without the capability is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from indicators import Warehouse
from indicators.query.access import DataAccess
from opsbrain.settings import Settings
from serving.api.deps import WarehouseDep
from serving.assistant.caller import Caller
from serving.security.models import Principal, UserRecord
from serving.security.oidc import OidcValidator
from serving.security.policy import RolePolicy, load_policy
from serving.security.store import KEY_PREFIX, AccountStore
from serving.security.tokens import TokenSigner, load_secret

SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER = "opsbrain_session", "opsbrain_csrf", "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AuthError(Exception):
    """401 (who are you) or 403 (not allowed); the handler in errors.py answers it."""

    def __init__(self, status: int, message: str, type_: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.extra = status, message, type_, extra

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="opsbrain"'} if self.status == 401 else {}


class Security:
    """The auth objects of one app, built once from its settings."""

    def __init__(self, settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.accounts = AccountStore(settings.resolved_auth_url)
        self.signer = TokenSigner(load_secret(settings.secret_key, settings.data_dir))
        self.policy: RolePolicy = load_policy()
        self.oidc = (
            OidcValidator(
                settings.oidc_issuer,
                settings.oidc_audience or "",
                self.policy,
                jwks_url=settings.oidc_jwks_url,
                role_claim=settings.oidc_role_claim,
                department_claim=settings.oidc_department_claim,
                doctor_claim=settings.oidc_doctor_claim,
            )
            if settings.oidc_issuer and settings.oidc_audience
            else None
        )

    def user_principal(self, user: UserRecord, method: str) -> Principal:
        role = self.policy.role(user.role)
        return Principal(
            name=user.name,
            role=user.role,
            role_label=role.label,
            departments=tuple(user.departments),
            campuses=tuple(user.campuses),
            doctor=user.doctor,
            method=method,  # type: ignore[arg-type]
            capabilities=role.capabilities,
        )

    def key_principal(self, presented: str) -> Principal | None:
        key = self.accounts.verify_key(presented)
        if key is None:
            return None
        role = self.policy.role(key.role)
        return Principal(
            name=f"key:{key.id}",
            role=key.role,
            role_label=role.label,
            departments=tuple(key.departments),
            campuses=tuple(key.campuses),
            method="api_key",
            key_id=key.id,
            capabilities=role.capabilities,
            scopes=frozenset(key.scopes),
        )

    def token_principal(self, token: str, kind: str, method: str) -> tuple[Principal, str | None] | None:
        """The caller an opsbrain token names, and its CSRF token (sessions)."""
        claims = self.signer.verify(token, kind)  # type: ignore[arg-type]
        if claims is None or self.accounts.token_revoked(claims.jti):
            return None
        user = self.accounts.user(claims.sub)
        # a token issued before the last password change is void (reset signs every device out);
        # iat has whole seconds, so compare at that precision
        if (
            user is None
            or user.disabled
            or int(user.password_changed_at.timestamp()) > int(claims.iat.timestamp())
        ):
            return None
        return self.user_principal(user, method), claims.csrf


def security_of(state: State) -> Security:
    if getattr(state, "security", None) is None:
        state.security = Security(state.settings)
    return state.security


def get_security(request: Request) -> Security:
    return security_of(request.app.state)


SecurityDep = Annotated[Security, Depends(get_security)]


def authenticate(request: Request, security: Security) -> Principal:
    """The caller of this request, or AuthError 401/403."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    api_key = request.headers.get("x-api-key")
    if api_key or (scheme.lower() == "bearer" and credential.startswith(KEY_PREFIX)):
        principal = security.key_principal(api_key or credential)
        if principal is None:
            raise AuthError(401, "API key 无效或已吊销。", "invalid_api_key")
        return principal
    if header:
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(401, "Authorization 头须为 “Bearer <令牌>”。", "invalid_token")
        found = security.token_principal(credential, "access", "token")
        if found is not None:
            return found[0]
        if security.oidc is not None and security.oidc.looks_like_jwt(credential):
            principal = security.oidc.principal(credential)
            if principal is not None:
                return principal
        raise AuthError(401, "令牌无效或已过期，请重新登录。", "invalid_token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = security.token_principal(cookie, "session", "session")
        if found is None:
            raise AuthError(401, "登录已过期，请重新登录。", "session_expired")
        principal, csrf = found
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != csrf:
            raise AuthError(403, f"缺少或错误的 {CSRF_HEADER} 头（跨站请求防护）。", "csrf_failed")
        return principal
    raise AuthError(401, "请先登录（网页登录，或 Bearer 令牌、API key）。", "not_authenticated")


def get_principal(request: Request, security: SecurityDep) -> Principal:
    principal = authenticate(request, security)
    request.state.principal = principal  # the audit trail records who it was
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(capability: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if their role (and key scopes) grant ``capability``; else 403."""

    def check(principal: PrincipalDep) -> Principal:
        if not principal.can(capability):
            raise AuthError(
                403,
                f"您的角色（{principal.role_label or principal.role}）没有“{capability}”权限。",
                "forbidden",
                valid=sorted(principal.capabilities & (principal.scopes or principal.capabilities)),
            )
        return principal

    return check


def data_access(principal: Principal, security: Security, warehouse: Warehouse) -> DataAccess:
    return security.policy.access(principal, warehouse.dimensions)


def get_access(principal: PrincipalDep, security: SecurityDep, warehouse: WarehouseDep) -> DataAccess:
    return data_access(principal, security, warehouse)


AccessDep = Annotated[DataAccess, Depends(get_access)]


def get_caller(principal: PrincipalDep, security: SecurityDep, access: AccessDep) -> Caller:
    return Caller(access, security.policy.role(principal.role).internal_documents)


CallerDep = Annotated[Caller, Depends(get_caller)]
