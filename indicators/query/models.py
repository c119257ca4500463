"""Request and result schemas of the indicator query API (also the tool schema's core)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from indicators.catalog_models import Target

GroupKey = Literal[
    "campus", "department", "doctor", "insurance", "visit_type", "year", "quarter", "month", "day"
]
CompareKind = Literal["yoy", "mom"]
# Named as the reporting tools hospital staff know name them (帆软, HIS reports): the comparison
# period's value is 去年同期 / 上期, its change 同比增减 / 环比增减 (never "同比 36.67%" for a value).
COMPARE_LABELS = {"yoy": "去年同期", "mom": "上期"}
CHANGE_LABELS = {"yoy": "同比增减", "mom": "环比增减"}
RowOrder = Literal["rank", "value_desc", "time", "keys"]


class Filters(BaseModel):
    """Restrict the facts; each list holds names (or codes) of one dimension, OR-ed together."""

    model_config = ConfigDict(extra="forbid")

    campus: list[str] = Field(default_factory=list, description="院区, e.g. 本部, 东院区, 西院区")
    department: list[str] = Field(default_factory=list, description="科室标准名称或代码")
    doctor: list[str] = Field(default_factory=list, description="医生姓名或工号")
    insurance: list[str] = Field(default_factory=list, description="职工医保, 居民医保, 自费, 其他")
    visit_type: list[str] = Field(default_factory=list, description="门诊, 急诊, 住院")

    def active(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}


class Ranking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: Literal["desc", "asc"] = Field(
        "desc", description="desc: highest first (最高/前N); asc: lowest first"
    )
    limit: int = Field(10, ge=1, le=100)


class IndicatorQuery(BaseModel):
    """One query of one or several indicators over one period."""

    model_config = ConfigDict(extra="forbid")

    indicators: list[str] = Field(min_length=1, max_length=10, description="指标代码、名称或别名")
    start: date = Field(description="统计期开始日期（含）")
    end: date = Field(description="统计期结束日期（含）")
    filters: Filters = Field(default_factory=Filters)
    group_by: list[GroupKey] = Field(default_factory=list, max_length=3)
    compare: list[CompareKind] = Field(default_factory=list, description="yoy 同比; mom 环比")
    rank: Ranking | None = None
    version: str | None = Field(None, description="口径版本; default: the indicator's current version")

    @field_validator("indicators")
    @classmethod
    def _strip(cls, names: list[str]) -> list[str]:
        cleaned = [n.strip() for n in names]
        if any(not n or len(n) > 100 for n in cleaned):
            raise ValueError("indicator names must be 1-100 characters")
        return cleaned

    @field_validator("group_by", "compare")
    @classmethod
    def _unique(cls, items: list[str]) -> list[str]:
        if len(set(items)) != len(items):
            raise ValueError("values must not repeat")
        return items


class Comparison(BaseModel):
    kind: CompareKind
    label: str = Field(description="the comparison period's name: 去年同期 or 上期")
    change_label: str = Field("", description="the change's name: 同比增减 or 环比增减")
    start: date
    end: date
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    delta: float | None = Field(None, description="value − comparison value, in the indicator's unit")
    change_pct: float | None = Field(None, description="relative change in percent")
    change: float | None = Field(None, description="the change to report: percentage points for % indicators")
    change_unit: str = ""
    note: str = ""
    suppressed: bool = Field(False, description="the comparison period's cell rests on too few cases")


class Row(BaseModel):
    keys: dict[str, str] = Field(default_factory=dict)
    start: date
    end: date
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    comparisons: dict[str, Comparison] = Field(default_factory=dict)
    rank: int | None = None
    partial: bool = Field(
        False, description="the row's time bucket is cut short by the period or the data (2023 to 09-08)"
    )
    suppressed: bool = Field(
        False,
        description="the cell rests on fewer visits or stays than the server's min_cell (default 5): "
        "value, numerator and denominator are withheld (shown as “<5”)",
    )


class IndicatorResult(BaseModel):
    code: str
    name: str
    unit: str
    precision: int
    direction: str
    kind: str
    version: str
    version_note: str
    version_effective_from: date | None = Field(None, description="when the version applied came into force")
    definition: str
    formula: str
    caliber_note: str
    comparison_rule: str
    numerator_label: str | None = None
    denominator_label: str | None = None
    targets: list[Target] = Field(default_factory=list)
    source_document: str
    rows: list[Row]
    accumulates: bool = Field(
        False,
        description="a count or amount that grows with the period's length (not comparable "
        "between a partial and a full period)",
    )
    row_order: RowOrder = Field("keys", description="how the rows are ordered (a breakdown: by value)")
    sql: list[str] = Field(description="the statements that ran, with their parameters inlined for reading")
    notes: list[str] = Field(default_factory=list)


class ResolvedQuery(BaseModel):
    """The query as executed: canonical names and concrete dates, for the user to check."""

    indicators: list[str]
    start: date
    end: date
    filters: dict[str, list[str]]
    group_by: list[str]
    compare: list[str]
    rank: Ranking | None
    version: str | None


class QueryResult(BaseModel):
    query: ResolvedQuery
    as_of: date
    data_start: date
    results: list[IndicatorResult]
    elapsed_ms: float
    min_cell: int = Field(0, description="cells resting on fewer visits or stays are withheld (0: none)")
    scope: str = Field(
        "全院", description="the part of the hospital the figures are limited to by the caller's data scope"
    )
