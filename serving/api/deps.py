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
from serving.assistant.assistant import Assistant
from serving.assistant.build import build_assistant
from serving.conversations import ConversationStore

_kb_lock = threading.Lock()
_assistant_lock = threading.Lock()  # a separate lock: building the assistant loads the knowledge base
log = logging.getLogger("opsbrain.api")


@cache
def _warehouse(url: str, max_rows: int, min_cell: int, max_cells: int | None) -> Warehouse:
    return Warehouse(url, max_rows=max_rows, min_cell=min_cell, max_cells=max_cells)


def get_warehouse(request: Request) -> Warehouse:
    config = request.app.state.settings
    return _warehouse(
        config.resolved_warehouse_url, config.max_result_rows, config.min_cell, config.max_query_cells
    )


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


def get_assistant(request: Request, warehouse: WarehouseDep, catalog: CatalogDep) -> Assistant:
    state = request.app.state
    if getattr(state, "assistant", None) is None:
        with _assistant_lock:
            if getattr(state, "assistant", None) is None:
                try:
                    kb = load_knowledge_base(state)
                except Exception:  # answers without policy citations beat no answers
                    log.exception("policy knowledge base unavailable; the assistant answers without it")
                    kb = None
                state.assistant = build_assistant(state.settings, warehouse, catalog, kb)
    return state.assistant


def get_conversations(request: Request) -> ConversationStore:
    state = request.app.state
    if getattr(state, "conversations", None) is None:
        state.settings.data_dir.mkdir(parents=True, exist_ok=True)
        config = state.settings
        state.conversations = ConversationStore(
            config.resolved_conversations_url,
            max_per_user=config.max_conversations_per_user,
            retention_days=config.conversation_retention_days,
        )
    return state.conversations


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
