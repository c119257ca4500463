"""Shared request dependencies."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import Depends, Request

from indicators import Catalog, Warehouse, default_catalog


@cache
def _warehouse(url: str, max_rows: int) -> Warehouse:
    return Warehouse(url, max_rows=max_rows)


def get_warehouse(request: Request) -> Warehouse:
    config = request.app.state.settings
    return _warehouse(config.resolved_warehouse_url, config.max_result_rows)


WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
CatalogDep = Annotated[Catalog, Depends(default_catalog)]
