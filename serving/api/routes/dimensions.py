from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from serving.api.deps import WarehouseDep

router = APIRouter(prefix="/dimensions", tags=["dimensions"])


class DimensionMember(BaseModel):
    code: str
    name: str
    attributes: dict[str, str]


@router.get(
    "/{dimension}",
    response_model=list[DimensionMember],
    summary="维度取值（院区、科室、医生、医保类型、就诊类型）",
)
def members(
    dimension: Literal["campus", "department", "doctor", "insurance", "visit_type"],
    warehouse: WarehouseDep,
    q: str = Query("", max_length=50, description="名称或代码包含的文字"),
    department: str | None = Query(None, description="医生按科室名称或代码筛选"),
) -> list[DimensionMember]:
    found = warehouse.dimensions.members[dimension]
    if department:
        dept = warehouse.dimensions.resolve("department", [department])[0]
        found = [m for m in found if m.attributes.get("dept_code") == dept.code]
    if q:
        found = [m for m in found if q in m.name or q.lower() in m.code.lower()]
    return [DimensionMember(code=m.code, name=m.name, attributes=m.attributes) for m in found]
