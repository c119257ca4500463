from indicators.query.engine import Warehouse, warehouse_url
from indicators.query.models import (
    Comparison,
    Filters,
    IndicatorQuery,
    IndicatorResult,
    QueryResult,
    Ranking,
    Row,
)

__all__ = [
    "Comparison",
    "Filters",
    "IndicatorQuery",
    "IndicatorResult",
    "QueryResult",
    "Ranking",
    "Row",
    "Warehouse",
    "warehouse_url",
]
