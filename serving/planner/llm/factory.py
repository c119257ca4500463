"""Builds the planner the settings ask for; shared by the API (deps.py), the CLI and the benchmark."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indicators import Catalog, Warehouse

if TYPE_CHECKING:
    from opsbrain.settings import Settings
    from serving.assistant.assistant import Planner
    from serving.planner.llm.backends import Backend


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
        config.resolved_llm_model, config.llm_adapter, max_new_tokens=config.llm_max_new_tokens
    )


def build_planner(
    config: Settings, catalog: Catalog, warehouse: Warehouse, kind: str | None = None
) -> Planner:
    """``rules`` or ``llm`` (``kind`` overrides ``config.planner``); the llm planner warms its prefix cache."""
    from serving.planner.rules import RulesPlanner

    kind = kind or config.planner
    rules = RulesPlanner(catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start)
    if kind == "rules":
        return rules
    if kind != "llm":
        raise ValueError(f"unknown planner {kind!r}; available: rules, llm")
    from serving.planner.llm.backends import LocalBackend
    from serving.planner.llm.planner import LLMPlanner

    planner = LLMPlanner(
        build_backend(config),
        catalog,
        warehouse.dimensions,
        warehouse.as_of,
        warehouse.data_start,
        rules,
        prompt_style=config.llm_prompt_style,
    )
    if isinstance(planner.backend, LocalBackend):
        planner.backend.warm(planner.prompts.prefix_messages())
    return planner
