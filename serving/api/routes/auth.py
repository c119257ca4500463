"""Sign-in: the web UI's session cookie, OAuth2 password-flow tokens, who am I, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from serving.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AuthError,
    PrincipalDep,
    Security,
    SecurityDep,
    data_access,
)
from serving.api.deps import WarehouseDep
from serving.api.errors import BODY_ERRORS, ErrorResponse
from serving.api.ratelimit import limit_login
from serving.security.models import Principal

router = APIRouter(prefix="/auth", tags=["auth"])
AUTH_ERRORS = {401: {"description": "not signed in, or wrong credentials"}}
# a password sign-in reads a body and is limited per client address (limit_login)
SIGN_IN_ERRORS = {
    **AUTH_ERRORS,
    **BODY_ERRORS,
    429: {"model": ErrorResponse, "description": "too many sign-in attempts; see Retry-After"},
}


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    name: str
    role: str
    role_label: str
    scope: str = Field(description="the data scope in words: 全院, 心血管内科, 医生 张三")
    capabilities: list[str]
    method: str


class LoginResponse(BaseModel):
    user: Me
    csrf_token: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def _me(principal: Principal, security: Security, warehouse) -> Me:
    return Me(
        name=principal.name,
        role=principal.role,
        role_label=principal.role_label,
        scope=data_access(principal, security, warehouse).label,
        capabilities=sorted(principal.capabilities),
        method=principal.method,
    )


def _check_password(
    security: Security, username: str, password: str, request: Request, method: str
) -> Principal:
    user = security.accounts.authenticate(username, password)
    if user is None:
        raise AuthError(401, "用户名或密码错误，或账号已停用。", "invalid_credentials")
    principal = security.user_principal(user, method)
    request.state.principal = principal
    return principal


@router.post(
    "/login", response_model=LoginResponse, summary="网页登录（设置会话 Cookie）", responses=SIGN_IN_ERRORS
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    security: SecurityDep,
    warehouse: WarehouseDep,
    _: Annotated[None, Depends(limit_login)],
) -> LoginResponse:
    """Sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie; every request
    that changes something must send the CSRF token back in ``X-CSRF-Token``."""
    principal = _check_password(security, body.username, body.password, request, "session")
    minutes = security.settings.session_minutes
    token, claims = security.signer.issue(principal.name, "session", minutes)
    secure = security.settings.secure_cookies
    common = {"max_age": minutes * 60, "samesite": "strict", "secure": secure, "path": "/"}
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, claims.csrf or "", httponly=False, **common)
    return LoginResponse(user=_me(principal, security, warehouse), csrf_token=claims.csrf or "")


@router.post(
    "/token", response_model=TokenResponse, summary="OAuth2 密码模式获取访问令牌", responses=SIGN_IN_ERRORS
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    security: SecurityDep,
    _: Annotated[None, Depends(limit_login)],
) -> TokenResponse:
    """For scripts and the portal's back end: send it as ``Authorization: Bearer <token>``."""
    principal = _check_password(security, form.username, form.password, request, "token")
    minutes = security.settings.token_minutes
    access, _claims = security.signer.issue(principal.name, "access", minutes)
    return TokenResponse(access_token=access, expires_in=minutes * 60)


@router.get("/me", response_model=Me, summary="当前用户、角色与数据范围", responses=AUTH_ERRORS)
def me(principal: PrincipalDep, security: SecurityDep, warehouse: WarehouseDep) -> Me:
    return _me(principal, security, warehouse)


@router.post("/logout", status_code=204, summary="退出登录", responses=AUTH_ERRORS)
def logout(request: Request, response: Response, security: SecurityDep) -> None:
    """Revokes the session (or the bearer token) and clears the cookies; safe to call twice."""
    presented = request.cookies.get(SESSION_COOKIE)
    kind = "session"
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential:
        presented, kind = credential, "access"
    claims = security.signer.verify(presented, kind) if presented else None  # type: ignore[arg-type]
    if claims is not None:
        security.accounts.revoke_token(claims.jti, claims.exp)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict", secure=security.settings.secure_cookies)
