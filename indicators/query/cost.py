"""The query cost guard: refuse, before anything runs, a query that would build too many cells.

One 300-byte request (10 indicators by doctor × day × insurance over five years) used to burn over a
minute of CPU before the row limit refused its result. The estimate here needs no SQL: the number of
time buckets times the members of each grouped dimension (within the filters and the caller's
scope), times the sources scanned. A doctor belongs to one department and campus, so grouping by
doctor and department counts the doctors only. The estimate is an upper bound; the row limit still
checks what actually came back.
"""

from __future__ import annotations

from collections.abc import Sequence

from indicators.errors import IndicatorError
from indicators.query.access import DataAccess
from indicators.query.dimensions import GROUP_LABELS, DimensionIndex
from indicators.query.periods import Period

# grouping by doctor already determines these (dim_doctor holds one department and one campus)
_IMPLIED_BY_DOCTOR = ("department", "campus")


class QueryTooCostlyError(IndicatorError):
    code = "query_too_costly"


def bucket_count(period: Period, grain: str | None) -> int:
    if grain is None:
        return 1
    if grain == "day":
        return period.days
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    if grain == "month":
        return months
    if grain == "quarter":
        return (
            (period.end.year - period.start.year) * 4
            + (period.end.month - 1) // 3
            - (period.start.month - 1) // 3
            + 1
        )
    return period.end.year - period.start.year + 1


def estimate_cells(
    dims: DimensionIndex,
    period: Period,
    grain: str | None,
    group_by: Sequence[str],
    filters: dict[str, tuple[str, ...]],
    access: DataAccess,
) -> int:
    cells = bucket_count(period, grain)
    for dim in group_by:
        if dim in _IMPLIED_BY_DOCTOR and "doctor" in group_by:
            continue
        if dim in filters:
            cells *= len(filters[dim])
        else:
            cells *= max(1, sum(access.allows_member(dim, m) for m in dims.members[dim]))
    return cells


def check_cost(
    dims: DimensionIndex,
    period: Period,
    grain: str | None,
    group_by: Sequence[str],
    filters: dict[str, tuple[str, ...]],
    access: DataAccess,
    *,
    sources: int,
    limit: int,
) -> None:
    """Raises QueryTooCostlyError naming the estimate, the limit and what to change."""
    cells = estimate_cells(dims, period, grain, group_by, filters, access) * max(1, sources)
    if cells <= limit:
        return
    grouped = "×".join(GROUP_LABELS[g] for g in [*group_by, *([grain] if grain else [])]) or "无分组"
    raise QueryTooCostlyError(
        f"这个查询按{grouped}约有 {cells:,} 个单元格（{period}），超过单次查询上限 {limit:,}，"
        "未执行；请缩短统计期、改用更粗的时间粒度（按月或按年）、减少分组维度或增加筛选条件。",
        param="group_by",
        suggestions=["按月", "缩短统计期", "减少分组维度"],
    )
