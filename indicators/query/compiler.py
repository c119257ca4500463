"""Compile one source's share of an indicator query into a SQLAlchemy statement.

Whole months come from the monthly table and edge days from the daily table; both parts carry
the same columns and are summed together. User values only ever enter as bound parameters, and so
do the caller's data scope (``scope``: ANDed beside the filters, never replaced by them).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from indicators.catalog_models import Measure, Source
from indicators.query.periods import Period, split_months

TIME_COLUMNS = {
    "year": ["stat_year"],
    "quarter": ["stat_year", "stat_quarter"],
    "month": ["stat_year", "stat_month"],
    "day": ["stat_date"],
}


@dataclass(frozen=True)
class SourceQuery:
    source: Source
    measures: tuple[Measure, ...]
    period: Period
    filters: dict[str, tuple[str, ...]]  # dimension -> codes
    dimensions: tuple[str, ...]  # non-time group-by dimensions
    grain: str | None  # time group-by
    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()  # dimension -> codes the caller may see
    count_cases: bool = False  # also sum the source's population per measure (small-cell suppression)


def cases_label(measure: Measure) -> str:
    return f"{measure.name}__cases"


def _table(name: str, columns: list[str]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


def _condition(col: sa.ColumnElement, values: list[str | bool]) -> sa.ColumnElement[bool]:
    if all(isinstance(v, bool) for v in values):
        return sa.or_(*(col.is_(v) for v in values))
    return col.in_(values)


def _measure_expr(m: Measure, src: sa.Subquery) -> sa.ColumnElement:
    conditions = [_condition(src.c[col], vals) for col, vals in m.where.items()]
    conditions += [sa.not_(_condition(src.c[col], vals)) for col, vals in m.where_not.items()]
    value = src.c[m.column]
    if conditions:
        value = sa.case((sa.and_(*conditions), value))
    if m.agg == "count_distinct":
        return sa.func.count(sa.distinct(value)).label(m.name)
    return sa.func.sum(value).label(m.name)


def _cases_expr(m: Measure, src: sa.Subquery, population: str, per_case: set[str]) -> sa.ColumnElement:
    """The cases behind a measure: its conditions on per-case columns (visit type), not on per-line
    ones (fee class), which would count a visit only where its first line happens to fall."""
    conditions = [_condition(src.c[c], v) for c, v in m.where.items() if c in per_case]
    conditions += [sa.not_(_condition(src.c[c], v)) for c, v in m.where_not.items() if c in per_case]
    value = src.c[population]
    if conditions:
        value = sa.case((sa.and_(*conditions), value))
    return sa.func.sum(value).label(cases_label(m))


def compile_source_query(q: SourceQuery) -> tuple[sa.Select, list[str]]:
    """The statement and the names of its key columns (group-by output, in order)."""
    time_cols = TIME_COLUMNS[q.grain] if q.grain else []
    dim_cols = [q.source.dimensions[d] for d in q.dimensions]
    filter_cols = list(dict.fromkeys(c for m in q.measures for c in (*m.where, *m.where_not)))
    value_cols = list(dict.fromkeys(m.column for m in q.measures))
    population = q.source.population if q.count_cases else None
    if population:
        value_cols = list(dict.fromkeys([*value_cols, population]))
    columns = list(dict.fromkeys(["stat_date", *time_cols, *dim_cols, *filter_cols, *value_cols]))

    user_filter_cols = [q.source.dimensions[d] for d in (*q.filters, *dict(q.scope))]

    def part(table_name: str, ranges: list[Period]) -> sa.Select:
        t = _table(table_name, list(dict.fromkeys([*columns, *user_filter_cols])))
        where = [sa.or_(*(t.c.stat_date.between(r.start, r.end) for r in ranges))]
        where += [t.c[q.source.dimensions[d]].in_(codes) for d, codes in q.filters.items()]
        where += [t.c[q.source.dimensions[d]].in_(codes) for d, codes in q.scope]
        return sa.select(*(t.c[c] for c in columns)).where(*where)

    months, edges = (None, [q.period]) if q.grain == "day" else split_months(q.period)
    parts = []
    if months:
        parts.append(part(q.source.monthly_table, [Period(months.start.replace(day=1), months.end)]))
    if edges:
        parts.append(part(q.source.daily_table, edges))
    src = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("src")
    keys = [src.c[c] for c in [*time_cols, *dim_cols]]
    outputs = [_measure_expr(m, src) for m in q.measures]
    if population:
        per_case = set(q.source.dimensions.values())
        outputs += [_cases_expr(m, src, population, per_case) for m in q.measures]
    stmt = sa.select(*keys, *outputs)
    if keys:
        stmt = stmt.group_by(*keys)
    return stmt, [*time_cols, *dim_cols]


def render_sql(stmt: sa.Select, dialect: sa.Dialect) -> str:
    """The statement with its parameters inlined, laid out by sqlglot for people to read."""
    import sqlglot

    text = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    read = "duckdb" if dialect.name == "duckdb" else "postgres"
    return sqlglot.transpile(text, read=read, write=read, pretty=True)[0]
