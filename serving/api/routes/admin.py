"""Accounts and API keys, for 信息科 (roles with manage_users / manage_keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from serving.api.auth import AuthError, SecurityDep, require
from serving.api.errors import BODY_ERRORS, error_responses
from serving.security.models import ApiKeyRecord, Capability, Principal, UserRecord
from serving.security.passwords import WeakPasswordError
from serving.security.store import NAME_PATTERN, AccountError

router = APIRouter(prefix="/admin", tags=["admin"])
ERRORS = {
    401: {"description": "not signed in"},
    403: {"description": "not an administrator"},
    **error_responses(422),  # an unknown role, user or key, a weak password
}
WRITE_ERRORS = {**BODY_ERRORS, **ERRORS}
UserAdmin = Annotated[Principal, Depends(require("manage_users"))]
KeyAdmin = Annotated[Principal, Depends(require("manage_keys"))]


class NewUser(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    password: str = Field(min_length=1, max_length=256)
    role: str
    departments: list[str] = Field(default_factory=list, max_length=50)
    campuses: list[str] = Field(default_factory=list, max_length=10)
    doctor: str | None = Field(None, max_length=32)


class UserChange(BaseModel):
    disabled: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=256)


class NewKey(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    role: str
    departments: list[str] = Field(default_factory=list, max_length=50)
    campuses: list[str] = Field(default_factory=list, max_length=10)
    scopes: list[Capability] = Field(default_factory=list, description="narrow the role's capabilities")


class CreatedKey(BaseModel):
    key: ApiKeyRecord
    secret: str = Field(description="shown only now: store it in the portal's configuration")


def _account_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (AccountError, WeakPasswordError, ValueError) as exc:
        raise AuthError(422, str(exc), "invalid_account") from None


def _known_role(security, role: str) -> None:
    if role not in security.policy.roles:
        raise AuthError(422, f"未知角色“{role}”", "invalid_account", valid=list(security.policy.roles))


@router.get("/users", response_model=list[UserRecord], summary="用户列表", responses=ERRORS)
def list_users(_: UserAdmin, security: SecurityDep) -> list[UserRecord]:
    return security.accounts.list_users()


@router.post("/users", response_model=UserRecord, status_code=201, summary="新建用户", responses=WRITE_ERRORS)
def add_user(body: NewUser, _: UserAdmin, security: SecurityDep) -> UserRecord:
    _known_role(security, body.role)
    return _account_call(
        security.accounts.add_user,
        body.name,
        body.password,
        body.role,
        body.departments,
        body.campuses,
        body.doctor,
    )


@router.patch(
    "/users/{name}", response_model=UserRecord, summary="停用/启用用户或重置密码", responses=WRITE_ERRORS
)
def change_user(name: str, body: UserChange, _: UserAdmin, security: SecurityDep) -> UserRecord:
    user = None
    if body.password is not None:
        user = _account_call(security.accounts.reset_password, name, body.password)
    if body.disabled is not None:
        user = _account_call(security.accounts.set_disabled, name, body.disabled)
    if user is None:
        raise AuthError(422, "请给出 disabled 或 password。", "invalid_account")
    return user


@router.get("/keys", response_model=list[ApiKeyRecord], summary="API key 列表", responses=ERRORS)
def list_keys(_: KeyAdmin, security: SecurityDep) -> list[ApiKeyRecord]:
    return security.accounts.list_keys()


@router.post(
    "/keys", response_model=CreatedKey, status_code=201, summary="新建 API key", responses=WRITE_ERRORS
)
def create_key(body: NewKey, admin: KeyAdmin, security: SecurityDep) -> CreatedKey:
    _known_role(security, body.role)
    key, secret = security.accounts.create_key(
        body.label, body.role, admin.name, body.departments, body.campuses, list(body.scopes)
    )
    return CreatedKey(key=key, secret=secret)


@router.delete("/keys/{key_id}", response_model=ApiKeyRecord, summary="吊销 API key", responses=ERRORS)
def revoke_key(key_id: str, _: KeyAdmin, security: SecurityDep) -> ApiKeyRecord:
    return _account_call(security.accounts.revoke_key, key_id)
