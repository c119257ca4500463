from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from indicators import Indicator, IndicatorQuery, QueryResult
from serving.api.auth import AccessDep
from serving.api.deps import CatalogDep, WarehouseDep
from serving.api.errors import BODY_ERRORS, error_responses
from serving.security.audit import note_audit

router = APIRouter(prefix="/indicators", tags=["indicators"])


class IndicatorSummary(BaseModel):
    code: str
    name: str
    aliases: list[str]
    unit: str
    direction: str
    systems: list[str]
    status: str


class IndicatorDetail(BaseModel):
    indicator: Indicator
    dimensions: list[str]
    comparison_rule: str
    lineage: dict[str, Any]


@router.get(
    "", response_model=list[IndicatorSummary], summary="列出或搜索指标", responses=error_responses(422)
)
def list_indicators(
    catalog: CatalogDep,
    q: str = Query("", max_length=100, description="名称、别名、代码或定义中的文字"),
    system: str | None = Query(None, description="国考 | 二级国考 | 三级医院评审 | 基础运营"),
    status: str | None = Query(None, description="active | not_available | deprecated"),
) -> list[IndicatorSummary]:
    return [
        IndicatorSummary(**i.model_dump(include=set(IndicatorSummary.model_fields)))
        for i in catalog.search(q, system, status)
    ]


@router.get(
    "/{name}",
    response_model=IndicatorDetail,
    summary="一个指标的口径、版本与血缘",
    responses=error_responses(404, 422),
)
def get_indicator(name: str, catalog: CatalogDep) -> IndicatorDetail:
    ind = catalog.get(name)
    active = ind.status != "not_available"
    return IndicatorDetail(
        indicator=ind,
        dimensions=catalog.dimensions_of(ind) if active else [],
        comparison_rule=ind.comparison_rule,
        lineage=catalog.lineage_of(ind) if active else {},
    )


@router.post(
    "/query",
    response_model=QueryResult,
    summary="查询指标",
    responses={**BODY_ERRORS, **error_responses(404)},
)
def query(body: IndicatorQuery, warehouse: WarehouseDep, access: AccessDep, request: Request) -> QueryResult:
    """Values for a period, with filters, group-by, 同比/环比 and ranking; rows carry the SQL that ran.
    Only the caller's data scope is computed (403 ``out_of_scope`` for a filter beyond it), and a
    cell resting on fewer than ``min_cell`` visits or stays is withheld (``suppressed``)."""
    result = warehouse.query(body, access)
    note_audit(
        request,
        plan=body.model_dump(mode="json"),
        sql=[s for r in result.results for s in r.sql],
        rows=sum(len(r.rows) for r in result.results),
        outcome="answered",
    )
    return result
