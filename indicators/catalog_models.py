"""Typed, frozen models of the indicator catalog (the YAML files in ``indicators/catalog``)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Reliability = Literal["V", "S", "M"]
Direction = Literal["逐步提高", "逐步降低", "监测比较"]
System = Literal["国考", "二级国考", "三级医院评审", "基础运营"]
Dimension = Literal["campus", "department", "doctor", "insurance", "visit_type"]
TimeGrain = Literal["year", "quarter", "month", "day"]

DIMENSIONS: tuple[str, ...] = ("campus", "department", "doctor", "insurance", "visit_type")
TIME_GRAINS: tuple[str, ...] = ("year", "quarter", "month", "day")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """A pre-aggregated source: a daily and a monthly table with the same columns."""

    name: str
    label: str
    daily_table: str
    monthly_table: str
    time_basis: str = Field(description="which date of the raw fact places a row in a period")
    dimensions: dict[Dimension, str] = Field(description="dimension name -> column of the agg tables")
    lineage: list[str] = Field(description="raw table.column pairs that feed the source")
    population: str | None = Field(
        None,
        description="column counting the visits or discharged stays behind a row (small-cell "
        "suppression); None where rows describe no patients (beds)",
    )


class Measure(_Frozen):
    """One aggregation of one source column, optionally restricted by fixed column filters."""

    name: str
    label: str
    aliases: list[str] = Field(
        default_factory=list, description="everyday names of what is measured (药费, 做了手术的病人)"
    )
    source: str
    column: str
    agg: Literal["sum", "count_distinct", "per_day"]
    where: dict[str, list[str | bool]] = Field(default_factory=dict)
    where_not: dict[str, list[str | bool]] = Field(default_factory=dict)


class Target(_Frozen):
    """A target or guide value, only where a cited document states one.

    ``national`` targets come from a government document; ``internal`` ones are the hospital's own
    (its annual targets). Answers name which is which: an internal target is never a national rule.
    """

    kind: Literal["national", "internal"] = "national"
    comparator: Literal["<", "<=", ">", ">=", "="]
    value: float
    scope: str
    document: str
    reliability: Reliability
    note: str = ""
    applies_from: date | None = Field(None, description="first day of the periods the target is set for")
    applies_to: date | None = Field(None, description="last day of the periods the target is set for")


class CaliberVersion(_Frozen):
    """One 口径版本: which measures the indicator combines from ``effective_from`` on."""

    version: str
    effective_from: date
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    base: str | None = Field(default=None, description="growth: the indicator whose growth is measured")
    scale: float = 1.0
    note: str = ""

    def measures(self) -> list[str]:
        return [m for m in (self.measure, self.numerator, self.denominator) if m]


class Indicator(_Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    english_name: str
    aliases: list[str] = Field(default_factory=list)
    kind: Literal["simple", "ratio", "growth"]
    unit: str
    precision: int = 2
    direction: Direction
    definition: str
    formula: str
    caliber_note: str = ""
    systems: list[System]
    assessment_ref: str | None = None
    national_monitoring: bool = False
    owner_department: str
    source_document: str
    reliability: Reliability
    status: Literal["active", "not_available", "deprecated"] = "active"
    unavailable_reason: str = ""
    valid_from: date = date(2019, 1, 1)
    targets: list[Target] = Field(default_factory=list)
    policy_caliber: str | None = Field(
        None,
        description="code of the indicator whose 口径 policy targets are stated in, when it is not this one "
        "(药占比's targets are set on 药占比（不含中药饮片）)",
    )
    versions: list[CaliberVersion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_shape(self) -> Indicator:
        if self.status == "not_available":
            if not self.unavailable_reason:
                raise ValueError("a not_available indicator needs unavailable_reason")
            return self
        if not self.versions:
            raise ValueError("an active indicator needs at least one caliber version")
        dates = [v.effective_from for v in self.versions]
        if dates != sorted(dates) or len({v.version for v in self.versions}) != len(dates):
            raise ValueError("versions must have unique names and ascending effective_from dates")
        for v in self.versions:
            wanted = {"simple": ("measure",), "ratio": ("numerator", "denominator"), "growth": ("base",)}
            missing = [f for f in wanted[self.kind] if getattr(v, f) is None]
            if missing:
                raise ValueError(f"version {v.version}: a {self.kind} indicator needs {', '.join(missing)}")
        return self

    @property
    def is_percentage(self) -> bool:
        return self.unit == "%"

    @property
    def current_version(self) -> CaliberVersion:
        return self.versions[-1]

    @property
    def comparison_rule(self) -> str:
        """How 同比/环比 changes of this indicator are expressed (documented per indicator)."""
        if self.is_percentage:
            return "同比/环比变化以百分点（个百分点）表示：本期值 − 比较期值。"
        return "同比/环比变化以百分比表示：(本期值 − 比较期值) ÷ 比较期值 × 100%，同时给出绝对差值。"

    def version(self, name: str | None) -> CaliberVersion:
        if name is None:
            return self.current_version
        for v in self.versions:
            if v.version == name:
                return v
        raise KeyError(name)
