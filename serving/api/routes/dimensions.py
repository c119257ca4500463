from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from serving.api.auth import AccessDep
from serving.api.deps import WarehouseDep
from serving.api.errors import error_responses

router = APIRouter(prefix="/dimensions", tags=["dimensions"])


class DimensionMember(BaseModel):
    code: str
    name: str
    attributes: dict[str, str]


@router.get(
    "/{dimension}",
    response_model=list[DimensionMember],
    summary="维度取值（院区、科室、医生、医保类型、就诊类型）",
    responses=error_responses(404, 422),
)
def members(
    dimension: Literal["campus", "department", "doctor", "insurance", "visit_type"],
    warehouse: WarehouseDep,
    access: AccessDep,
    q: str = Query("", max_length=50, description="名称或代码包含的文字"),
    department: str | None = Query(None, description="医生按科室名称或代码筛选"),
) -> list[DimensionMember]:
    # only what the caller's scope covers: a department head sees their own doctors' names only
    found = [m for m in warehouse.dimensions.members[dimension] if access.allows_member(dimension, m)]
    if department:
        dept = warehouse.dimensions.resolve("department", [department])[0]
        found = [m for m in found if m.attributes.get("dept_code") == dept.code]
    if q:
        found = [m for m in found if q in m.name or q.lower() in m.code.lower()]
    return [DimensionMember(code=m.code, name=m.name, attributes=m.attributes) for m in found]
