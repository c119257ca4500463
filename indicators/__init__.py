"""opsbrain.indicators: the indicator catalog, the demo warehouse and the query engine.

This package knows nothing of the assistant, retrieval or training; they build on it.
"""

from indicators.catalog import Catalog, default_catalog, load_catalog
from indicators.catalog_models import CaliberVersion, Indicator, Measure, Source, Target
from indicators.errors import CatalogError, IndicatorError
from indicators.query import (
    Comparison,
    Filters,
    IndicatorQuery,
    IndicatorResult,
    QueryResult,
    Ranking,
    Row,
    Warehouse,
)

__all__ = [
    "CaliberVersion",
    "Catalog",
    "CatalogError",
    "Comparison",
    "Filters",
    "Indicator",
    "IndicatorError",
    "IndicatorQuery",
    "IndicatorResult",
    "Measure",
    "QueryResult",
    "Ranking",
    "Row",
    "Source",
    "Target",
    "Warehouse",
    "default_catalog",
    "load_catalog",
]
