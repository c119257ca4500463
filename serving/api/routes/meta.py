from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from opsbrain import __version__
from serving.api.deps import WarehouseDep, get_warehouse

router = APIRouter(tags=["meta"])
health_router = APIRouter(tags=["meta"])  # open to probes: it tells component states, no data


class WarehouseInfo(BaseModel):
    version: str
    as_of: str
    data_start: str
    warehouse: str
    generator: dict[str, str]
    synthetic: bool = Field(description="the generated demo data (演示数据), not a hospital's own")


@router.get("/meta", response_model=WarehouseInfo, summary="数据截止日与仓库信息")
def meta(warehouse: WarehouseDep) -> WarehouseInfo:
    info = warehouse.meta
    return WarehouseInfo(
        version=__version__,
        as_of=info["as_of_date"],
        data_start=info["start_date"],
        warehouse=warehouse.engine.dialect.name,
        generator={k: v for k, v in info.items() if k not in {"as_of_date", "start_date"}},
        synthetic=warehouse.synthetic,
    )


class Component(BaseModel):
    status: Literal["ok", "loading", "degraded", "unavailable"]
    detail: str = ""


class Health(BaseModel):
    """``status`` is ok when every component is; a degraded server still answers what it can."""

    status: Literal["ok", "degraded"]
    warehouse: Component
    index: Component = Field(description="the policy knowledge base (Chroma index and embedding model)")
    planner: Component
    synthetic: bool = Field(description="the warehouse holds the generated demo data (演示数据)")


@health_router.get("/health", response_model=Health, summary="健康检查：数据仓库、政策索引、规划模型")
def health(request: Request) -> Health:
    state = request.app.state
    warehouse, synthetic = _warehouse_health(request)
    parts = {"warehouse": warehouse, "index": _index_health(state), "planner": _planner_health(state)}
    ok = all(p.status in ("ok", "loading") for p in parts.values())
    return Health(status="ok" if ok else "degraded", synthetic=synthetic, **parts)


def _warehouse_health(request: Request) -> tuple[Component, bool]:
    try:
        warehouse = get_warehouse(request)
        missing = warehouse.missing_tables()
        if missing:
            return Component(status="unavailable", detail=f"缺少表：{', '.join(missing[:5])}"), False
        as_of, synthetic = warehouse.as_of, warehouse.synthetic
    except Exception as exc:  # a dropped connection, a file removed under the server
        return Component(status="unavailable", detail=str(exc).splitlines()[0][:200]), False
    return Component(status="ok", detail=f"数据截至 {as_of.isoformat()}"), synthetic


def _index_health(state) -> Component:
    kb = getattr(state, "knowledge_base", None)
    config = state.settings
    if kb is None:
        return Component(status="loading" if config.kb_preload else "ok", detail="首次检索时加载")
    folder = getattr(getattr(kb, "config", None), "chroma_path", None)  # None: a Chroma server
    if folder is not None and not Path(folder).exists():
        return Component(status="degraded", detail=f"索引目录 {folder} 不存在：请运行 opsbrain kb ingest")
    stats = kb.stats()
    if not stats.chunks:
        return Component(status="degraded", detail="索引为空：请运行 opsbrain kb ingest")
    return Component(status="ok", detail=f"{stats.documents} 份文件，{stats.chunks} 个片段")


def _planner_health(state) -> Component:
    assistant = getattr(state, "assistant", None)
    wanted = state.settings.planner
    if assistant is None:
        return Component(status="ok", detail=f"{wanted}（首次提问时加载）")
    built = "llm" if getattr(assistant.planner, "llm", None) is not None else "rules"
    if built != wanted:  # an llm planner that could not start answers with the rules
        return Component(status="degraded", detail=f"配置为 {wanted}，模型未能加载，当前由规则解析")
    return Component(status="ok", detail=built)
