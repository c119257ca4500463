"""The deterministic planner: the understanding pipeline with no model (the no-model path).

A question → a plan by the dictionary, formula, dimension, time and switch mappers, the intent
stage, the rules parser and the correctors (serving/planner/pipeline.py). With the knowledge base's
embedding model it also reads indicators described in other words. Conventions:
docs/question-conventions.md.
"""

from __future__ import annotations

from datetime import date

from indicators import Catalog
from indicators.query.dimensions import DimensionIndex
from retrieval.embeddings import Embedder
from serving.planner.intent import Knowledge
from serving.planner.pipeline import Pipeline


class RulesPlanner(Pipeline):
    def __init__(
        self,
        catalog: Catalog,
        dimensions: DimensionIndex,
        as_of: date,
        data_start: date,
        embedder: Embedder | None = None,
        knowledge: Knowledge | None = None,
    ) -> None:
        super().__init__(catalog, dimensions, as_of, data_start, embedder=embedder, knowledge=knowledge)

    @property
    def name(self) -> str:
        return "rules"
