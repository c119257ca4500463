"""Builds the planner the settings ask for; shared by the assistant builder, the CLI and the benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indicators import Catalog, Warehouse

if TYPE_CHECKING:
    from opsbrain.settings import Settings
    from retrieval.embeddings import Embedder
    from serving.planner.intent import Knowledge
    from serving.planner.llm.backends import Backend
    from serving.planner.pipeline import Pipeline


def build_backend(config: Settings) -> Backend:
    """An OpenAI-compatible endpoint when ``llm_base_url`` is set, else the local model folder."""
    from serving.planner.llm.backends import LocalBackend, OpenAIBackend

    if config.llm_base_url:
        if not config.llm_model_name:
            raise ValueError(
                "OPSBRAIN_LLM_MODEL_NAME must name the served model when OPSBRAIN_LLM_BASE_URL is set"
            )
        return OpenAIBackend(
            config.llm_base_url,
            config.llm_model_name,
            config.llm_api_key,
            max_tokens=config.llm_max_new_tokens,
            timeout=config.llm_timeout_s,
        )
    return LocalBackend(
        config.resolved_llm_model,
        config.resolved_llm_adapter,
        max_new_tokens=config.llm_max_new_tokens,
        threads=config.llm_threads,
        dtype=config.llm_dtype,
    )


def build_planner(
    config: Settings,
    catalog: Catalog,
    warehouse: Warehouse,
    kind: str | None = None,
    embedder: Embedder | None = None,
    knowledge: Knowledge | None = None,
) -> Pipeline:
    """The understanding pipeline: ``rules`` (no model) or ``llm`` (the LLM parser for what the
    mapping does not explain; ``kind`` overrides ``config.planner``). ``embedder``: the knowledge
    base's model, for the embedding mapper; ``knowledge``: how well the knowledge base answers a
    question, asked before a question with no indicator is asked back or refused. The local model's prefix cache is warmed here."""
    from serving.planner.pipeline import Pipeline
    from serving.planner.rules import RulesPlanner

    kind = kind or config.planner
    if kind not in ("rules", "llm"):
        raise ValueError(f"unknown planner {kind!r}; available: rules, llm")
    args = (catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start)
    if kind == "rules":
        return RulesPlanner(*args, embedder=embedder, knowledge=knowledge)
    from serving.planner.llm.backends import LocalBackend
    from serving.planner.llm.parser import LLMParser

    pipeline = Pipeline(*args, embedder=embedder, knowledge=knowledge)
    pipeline.llm = LLMParser(build_backend(config), catalog, pipeline.intents, warehouse.as_of)
    if isinstance(pipeline.llm.backend, LocalBackend):
        pipeline.llm.backend.warm(pipeline.llm.prompts.prefix_messages())
    return pipeline
