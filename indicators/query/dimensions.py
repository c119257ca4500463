"""Dimension members (campuses, departments, doctors, insurance types) and name resolution."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from indicators.errors import UnknownDimensionValueError
from indicators.matching import close_matches

VISIT_TYPES = ("门诊", "急诊", "住院")
DIMENSION_LABELS = {
    "campus": "院区",
    "department": "科室",
    "doctor": "医生",
    "insurance": "医保类型",
    "visit_type": "就诊类型",
}
# every group-by key's Chinese name: the dimensions and the time grains
GROUP_LABELS = {**DIMENSION_LABELS, "year": "年度", "quarter": "季度", "month": "月份", "day": "日期"}

_MEMBER_SQL = {
    "campus": "SELECT campus_code, campus_name FROM dim_campus ORDER BY campus_code",
    "department": "SELECT dept_code, dept_name, dept_group, dept_type FROM dim_department ORDER BY dept_code",
    "doctor": "SELECT doctor_code, doctor_name, dept_code, campus_code, title FROM dim_doctor ORDER BY doctor_code",
    "insurance": "SELECT insurance_code, insurance_name FROM dim_insurance ORDER BY insurance_code",
}


@dataclass
class Member:
    code: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


class DimensionIndex:
    """All members of every dimension, loaded once; resolves what users type to codes."""

    def __init__(self, members: dict[str, list[Member]]) -> None:
        self.members = members
        self._by_key = {
            dim: {**{m.code.lower(): m for m in ms}, **{m.name.lower(): m for m in ms}}
            for dim, ms in members.items()
        }
        self._by_code = {dim: {m.code: m for m in ms} for dim, ms in members.items()}

    @classmethod
    def load(cls, conn: sa.Connection) -> DimensionIndex:
        members: dict[str, list[Member]] = {}
        for dim, sql in _MEMBER_SQL.items():
            result = conn.execute(sa.text(sql))
            cols = list(result.keys())
            members[dim] = [
                Member(str(r[0]), str(r[1]), {c: str(v) for c, v in zip(cols[2:], r[2:], strict=True)})
                for r in result
            ]
        members["visit_type"] = [Member(v, v) for v in VISIT_TYPES]
        return cls(members)

    def resolve(self, dimension: str, values: list[str]) -> list[Member]:
        """Members for names or codes.

        Raises:
            UnknownDimensionValueError: naming the value, the valid members (or close matches).
        """
        found = []
        for value in values:
            member = self._by_key[dimension].get(value.strip().lower())
            if member is None:
                names = [m.name for m in self.members[dimension]]
                label = DIMENSION_LABELS[dimension]
                raise UnknownDimensionValueError(
                    f"未知{label}“{value}”。"
                    + (
                        "可用 GET /api/v1/dimensions/" + dimension + " 查看全部取值。"
                        if len(names) > 40
                        else ""
                    ),
                    param=f"filters.{dimension}",
                    valid=names if len(names) <= 40 else [],
                    suggestions=close_matches(value, names),
                )
            found.append(member)
        return found

    def member(self, dimension: str, code: str) -> Member | None:
        return self._by_code[dimension].get(code)

    def label(self, dimension: str, code: str) -> str:
        member = self._by_code[dimension].get(code)
        return member.name if member else code
