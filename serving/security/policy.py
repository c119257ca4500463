"""The role policy file and what it grants: capabilities, the data scope, internal documents."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indicators.query.access import DataAccess
from indicators.query.dimensions import DimensionIndex
from serving.security.models import Capability, Principal

POLICY_FILE = Path(__file__).with_name("policy.yaml")


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    data: Literal["hospital", "subjects", "departments", "self"]
    subjects: tuple[str, ...] = ()
    capabilities: frozenset[Capability]
    internal_documents: bool = False

    @model_validator(mode="after")
    def _subjects_given(self) -> Role:
        if self.data == "subjects" and not self.subjects:
            raise ValueError("a role with data: subjects must list its subjects")
        return self


class RolePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, Role] = Field(min_length=1)

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise ValueError(f"未知角色“{name}”；可用角色：{', '.join(self.roles)}") from None

    def access(self, principal: Principal, dims: DimensionIndex) -> DataAccess:
        """The data scope the engine enforces for this caller.

        A department or doctor role without its departments or doctor sees nothing rather than
        everything: the scope then names a member that does not exist.
        """
        role = self.role(principal.role)
        campuses = tuple(principal.campuses)
        if role.data == "hospital":
            return DataAccess(label="全院", campus=campuses)
        if role.data == "subjects":
            return DataAccess(label=f"{role.label}归口指标", campus=campuses, subjects=role.subjects)
        if role.data == "departments":
            codes = tuple(principal.departments) or ("-",)
            names = "、".join(dims.label("department", c) for c in codes if c != "-") or "（未分配科室）"
            return DataAccess(label=names, campus=campuses, department=codes)
        code = principal.doctor or "-"
        return DataAccess(label=f"医生 {dims.label('doctor', code)}", campus=campuses, doctor=(code,))


@cache
def load_policy(path: Path = POLICY_FILE) -> RolePolicy:
    with path.open(encoding="utf-8") as f:
        return RolePolicy.model_validate(yaml.safe_load(f))
