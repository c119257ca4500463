"""Shared request dependencies."""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import State

from indicators import Catalog, Warehouse, default_catalog
from retrieval import KnowledgeBase

_kb_lock = threading.Lock()
log = logging.getLogger("opsbrain.api")


@cache
def _warehouse(url: str, max_rows: int) -> Warehouse:
    return Warehouse(url, max_rows=max_rows)


def get_warehouse(request: Request) -> Warehouse:
    config = request.app.state.settings
    return _warehouse(config.resolved_warehouse_url, config.max_result_rows)


WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
CatalogDep = Annotated[Catalog, Depends(default_catalog)]


def load_knowledge_base(state: State) -> KnowledgeBase:
    """Opened once (loading the embedding model takes seconds) and indexed if empty; thread-safe."""
    if getattr(state, "knowledge_base", None) is None:
        with _kb_lock:
            if getattr(state, "knowledge_base", None) is None:
                from opsbrain.knowledge import ensure_indexed, open_knowledge_base

                kb = open_knowledge_base(state.settings)
                ensure_indexed(kb, state.settings)
                state.knowledge_base = kb
    return state.knowledge_base


def get_knowledge_base(request: Request) -> KnowledgeBase:
    try:
        return load_knowledge_base(request.app.state)
    except Exception as exc:  # a missing model folder, an unreachable Chroma server
        log.exception("policy knowledge base unavailable")
        raise HTTPException(503, f"政策知识库不可用：{exc}") from None


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]
