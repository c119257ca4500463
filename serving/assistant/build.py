"""The one place the Assistant is built: the API, the CLI, the evaluation and the benchmarks call it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from indicators import Catalog, Warehouse
from serving.assistant.assistant import Assistant
from serving.assistant.executor import Executor

if TYPE_CHECKING:
    from opsbrain.settings import Settings
    from retrieval import KnowledgeBase

log = logging.getLogger("opsbrain.assistant")


def build_assistant(
    config: Settings,
    warehouse: Warehouse,
    catalog: Catalog,
    kb: KnowledgeBase | None,
    planner_kind: str | None = None,
    strict: bool = False,
) -> Assistant:
    """The assistant over ``warehouse`` and ``kb`` with the planner the settings ask for.

    The knowledge base's embedding model also serves the planner's embedding mapper. An llm
    planner that cannot start (a missing model folder) leaves the rules planner and says so in
    the log, unless ``strict`` (the CLI, which should tell the user instead).
    """
    from serving.assistant.policy_answer import knowledge_of
    from serving.planner.llm.factory import build_planner

    embedder = kb.embedder if kb is not None else None
    knowledge = knowledge_of(kb) if kb is not None else None
    try:
        planner = build_planner(
            config, catalog, warehouse, planner_kind, embedder=embedder, knowledge=knowledge
        )
    except Exception:
        if strict:
            raise
        log.exception("llm planner unavailable; answering with the rules planner")
        planner = build_planner(config, catalog, warehouse, "rules", embedder=embedder, knowledge=knowledge)
    return Assistant(planner, Executor(warehouse, catalog, kb), warehouse.as_of)
