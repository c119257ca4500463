"""Data scopes: which departments, campuses, doctors and indicator subjects one user may see.

A scope is not a filter the user chose: the engine adds it to every statement it compiles, as bound
``IN`` conditions beside the user's own filters, so no route can forget it. A filter that asks for
members outside the scope, or an indicator that cannot be restricted the way the scope is (beds
cannot be split by doctor), is refused with :class:`OutOfScopeError` naming what the user may see.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from indicators.errors import IndicatorError
from indicators.query.dimensions import DIMENSION_LABELS, DimensionIndex, Member

SCOPED_DIMENSIONS = ("campus", "department", "doctor")


class OutOfScopeError(IndicatorError):
    """The request reaches beyond the caller's data scope (HTTP 403)."""

    code = "out_of_scope"
    http_status = 403


class DataAccess(BaseModel):
    """Members a user may see, by code; an empty tuple means every member of that dimension.

    ``subjects`` restricts indicators to those whose ``owner_department`` is listed (医务处 sees the
    medical-quality indicators, 医保办 the insurance ones); empty means every indicator.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field("全院", description="the scope in words, for messages: 全院, 心血管内科, 医生 张三")
    campus: tuple[str, ...] = ()
    department: tuple[str, ...] = ()
    doctor: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()

    @property
    def unrestricted(self) -> bool:
        return not (self.campus or self.department or self.doctor or self.subjects)

    def restrictions(self) -> dict[str, tuple[str, ...]]:
        """Dimension -> allowed codes, for the dimensions this scope restricts."""
        return {d: getattr(self, d) for d in SCOPED_DIMENSIONS if getattr(self, d)}

    def covers(self, other: DataAccess) -> bool:
        """Whether everything ``other`` may see, this scope may see too (a shared conversation is
        shown to users whose scope covers its owner's)."""
        for dim in (*SCOPED_DIMENSIONS, "subjects"):
            mine, theirs = getattr(self, dim), getattr(other, dim)
            if mine and (not theirs or not set(theirs) <= set(mine)):
                return False
        return True

    def allows_member(self, dimension: str, member: Member) -> bool:
        """Whether a dimension list may show this member: a department head sees the doctors of
        their departments, not the whole hospital's staff list."""
        allowed = getattr(self, dimension, ()) if dimension in SCOPED_DIMENSIONS else ()
        if allowed and member.code not in allowed:
            return False
        if dimension == "doctor":
            if self.department and member.attributes.get("dept_code") not in self.department:
                return False
            if self.campus and member.attributes.get("campus_code") not in self.campus:
                return False
        return True

    def allows_subject(self, owner_department: str) -> bool:
        return not self.subjects or owner_department in self.subjects

    def check_filters(self, filters: dict[str, tuple[str, ...]], dims: DimensionIndex) -> None:
        """Refuse filter codes outside the scope, saying what the user may see instead.

        Raises:
            OutOfScopeError: a filter names a member the scope does not cover.
        """
        own = self._doctor_departments(dims)
        for dimension, codes in filters.items():
            for code in codes:
                member = dims.member(dimension, code)
                # a doctor's scope reaches their own department's name, not another's (it would be empty)
                elsewhere = dimension == "department" and own is not None and code not in own
                if member is not None and (elsewhere or not self.allows_member(dimension, member)):
                    label = DIMENSION_LABELS[dimension]
                    raise OutOfScopeError(
                        f"您的数据范围是{self.label}，不能查看{label}“{member.name}”的数据。",
                        param=f"filters.{dimension}",
                        valid=self.visible_names(dimension, dims),
                    )

    def visible_names(self, dimension: str, dims: DimensionIndex, limit: int = 40) -> list[str]:
        own = self._doctor_departments(dims) if dimension == "department" else None
        names = [
            m.name
            for m in dims.members[dimension]
            if self.allows_member(dimension, m) and (own is None or m.code in own)
        ]
        return names if len(names) <= limit else []

    def _doctor_departments(self, dims: DimensionIndex) -> set[str] | None:
        """The departments of the doctors a doctor scope names; None without a doctor scope."""
        if not self.doctor:
            return None
        members = [dims.member("doctor", c) for c in self.doctor]
        return {m.attributes.get("dept_code", "") for m in members if m is not None}


EVERYTHING = DataAccess()
