"""The demo data warehouse: a deterministic synthetic 三级甲等综合医院 in one DuckDB file.

``generate_demo_warehouse(path, scale=..., seed=..., as_of=...)`` writes the tables of
docs/warehouse-schema.md; the planted data-quality defects are listed in docs/data-defects.md.
"""

from indicators.demo.generator import GenerationReport, generate_demo_warehouse

__all__ = ["GenerationReport", "generate_demo_warehouse"]
