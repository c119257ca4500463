"""The signed-in caller and the stored records behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AuthMethod = Literal["session", "token", "api_key", "oidc"]
Capability = Literal["query", "chat", "policies", "manage_users", "manage_keys", "read_audit"]


class Principal(BaseModel):
    """The authenticated caller of one request (a user, or a portal's API key acting as a role)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="user name, or 'key:<id>' for an API key")
    role: str
    role_label: str = ""
    departments: tuple[str, ...] = Field((), description="department codes (科室主任)")
    campuses: tuple[str, ...] = Field((), description="campus codes")
    doctor: str | None = Field(None, description="the doctor code a 医生 account is (医生 see themselves)")
    method: AuthMethod
    key_id: str | None = None
    capabilities: frozenset[str] = frozenset()
    scopes: frozenset[str] = Field(frozenset(), description="an API key's own narrowing of its role")

    def can(self, capability: str) -> bool:
        if capability not in self.capabilities:
            return False
        return not self.scopes or capability in self.scopes

    @property
    def rate_key(self) -> str:
        """What rate limits count by: the key for an API key, else the user."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.name}"


class UserRecord(BaseModel):
    name: str
    role: str
    departments: list[str] = Field(default_factory=list)
    campuses: list[str] = Field(default_factory=list)
    doctor: str | None = None
    disabled: bool = False
    created_at: datetime
    password_changed_at: datetime


class ApiKeyRecord(BaseModel):
    id: str
    label: str
    role: str
    departments: list[str] = Field(default_factory=list)
    campuses: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    created_by: str
    created_at: datetime
    revoked: bool = False
    last_used_at: datetime | None = None
