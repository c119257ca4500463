from fastapi import APIRouter
from pydantic import BaseModel

from opsbrain import __version__
from serving.api.deps import WarehouseDep

router = APIRouter(tags=["meta"])


class WarehouseInfo(BaseModel):
    version: str
    as_of: str
    data_start: str
    warehouse: str
    generator: dict[str, str]


@router.get("/meta", response_model=WarehouseInfo, summary="数据截止日与仓库信息")
def meta(warehouse: WarehouseDep) -> WarehouseInfo:
    info = warehouse.meta
    return WarehouseInfo(
        version=__version__,
        as_of=info["as_of_date"],
        data_start=info["start_date"],
        warehouse=warehouse.engine.dialect.name,
        generator={k: v for k, v in info.items() if k not in {"as_of_date", "start_date"}},
    )


@router.get("/health", summary="健康检查")
def health() -> dict[str, str]:
    return {"status": "ok"}
