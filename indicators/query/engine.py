"""The indicator query engine: resolve a query against the catalog, run it, assemble rows."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa

from indicators.catalog import Catalog, default_catalog
from indicators.catalog_models import TIME_GRAINS, CaliberVersion, Indicator, Measure
from indicators.errors import (
    IndicatorError,
    IndicatorNotAvailableError,
    InvalidPeriodError,
    UnknownVersionError,
    UnsupportedDimensionError,
    WarehouseNotReadyError,
)
from indicators.query.access import EVERYTHING, DataAccess, OutOfScopeError
from indicators.query.compiler import SourceQuery, cases_label, compile_source_query, render_sql
from indicators.query.cost import check_cost
from indicators.query.dimensions import DIMENSION_LABELS, DimensionIndex
from indicators.query.models import (
    CHANGE_LABELS,
    COMPARE_LABELS,
    Comparison,
    IndicatorQuery,
    IndicatorResult,
    QueryResult,
    ResolvedQuery,
    Row,
    RowOrder,
)
from indicators.query.periods import (
    Period,
    bucket_label,
    bucket_period,
    previous_bucket_period,
    previous_period,
    shift_label,
    year_over_year,
)
from indicators.query.suppression import SmallCells

Key = tuple[str, ...]
_DESCRIPTIVE_FIELDS = {
    "code",
    "name",
    "unit",
    "precision",
    "direction",
    "kind",
    "definition",
    "formula",
    "caliber_note",
    "targets",
    "source_document",
}


@dataclass
class _Values:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    cases: float | None = None  # visits or stays behind the value; None where it rests on no patients


@dataclass
class _Plan:
    """A validated query: resolved indicators, periods and filter codes."""

    indicators: list[tuple[Indicator, CaliberVersion]]
    period: Period
    filters: dict[str, tuple[str, ...]]
    filter_names: dict[str, list[str]]
    group_by: list[str]
    grain: str | None
    access: DataAccess
    # every measure any indicator of the query reads, by source: one statement per source and period
    # serves all of them (药占比 and 医疗收入 in one request share a scan)
    measures: dict[str, list[Measure]] = field(default_factory=dict)
    scans: dict[tuple[str, Period], tuple[str, dict[Key, dict[str, float]]]] = field(default_factory=dict)


def warehouse_url(location: str | Path) -> str:
    """Accept a SQLAlchemy URL or a path to a DuckDB file."""
    text = str(location)
    return text if "://" in text else f"duckdb:///{Path(text).expanduser().resolve()}"


class Warehouse:
    """Runs indicator queries over a warehouse that holds the ``agg_*`` tables.

    Args:
        url: a SQLAlchemy URL (``duckdb:///path.duckdb``, ``postgresql+psycopg://...``) or a DuckDB path.
        catalog: the indicator catalog; defaults to the shipped one.
        max_rows: refuse results with more rows than this (a doctor × day breakdown of five years).
        min_cell: suppress every value resting on fewer visits or stays than this (0: off; the
            server passes its ``min_cell`` setting, default 5).
        max_cells: refuse, before running, a query whose estimated cells (groups × time buckets ×
            sources scanned) exceed this; default 20 × ``max_rows``.
    """

    def __init__(
        self,
        url: str | Path,
        catalog: Catalog | None = None,
        max_rows: int = 5000,
        min_cell: int = 0,
        max_cells: int | None = None,
    ) -> None:
        self.url = warehouse_url(url)
        args = {"read_only": True} if self.url.startswith("duckdb") else {}
        self.engine = sa.create_engine(self.url, connect_args=args, pool_pre_ping=not args)
        self.catalog = catalog or default_catalog()
        self.max_rows = max_rows
        self.small_cells = SmallCells(min_cell)
        self.max_cells = max_cells or 20 * max_rows

    @cached_property
    def dimensions(self) -> DimensionIndex:
        with self.engine.connect() as conn:
            return DimensionIndex.load(conn)

    @cached_property
    def meta(self) -> dict[str, str]:
        """The warehouse's meta_warehouse table, read once the warehouse is known to be complete.

        Raises:
            WarehouseNotReadyError: tables are missing; the message says which and how to build them.
        """
        missing = self.missing_tables()
        if missing:
            raise WarehouseNotReadyError(
                f"数据仓库缺少表：{', '.join(missing)}。DuckDB 请运行 `opsbrain warehouse build-aggregates`，"
                "PostgreSQL 请运行 `opsbrain warehouse load-postgres` 或在ETL后执行 build_aggregates。",
                valid=missing,
            )
        with self.engine.connect() as conn:
            return {k: v for k, v in conn.execute(sa.text("SELECT key, value FROM meta_warehouse"))}

    @property
    def synthetic(self) -> bool:
        """Whether the demo generator wrote this warehouse: it records its version in meta_warehouse
        (indicators/demo/generator.py), a hospital's ETL does not."""
        return "generator_version" in self.meta

    def missing_tables(self) -> list[str]:
        """Tables the catalog's sources and the dimension lookups need but the warehouse lacks, and
        columns (``table.column``) of an older build that lacks them."""
        needed = ["meta_warehouse", "dim_campus", "dim_department", "dim_doctor", "dim_insurance"]
        needed += [t for s in self.catalog.sources.values() for t in (s.daily_table, s.monthly_table)]
        present = set(sa.inspect(self.engine).get_table_names())
        missing = [t for t in needed if t not in present]
        with self.engine.connect() as conn:  # tables built before small-cell counts existed
            for source in self.catalog.sources.values():
                for table in (source.daily_table, source.monthly_table):
                    if source.population and table in present:
                        columns = conn.execute(
                            sa.select(sa.text("*")).select_from(sa.table(table)).limit(0)
                        ).keys()
                        if source.population not in columns:
                            missing.append(f"{table}.{source.population}")
        return missing

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.meta["as_of_date"])

    @property
    def data_start(self) -> date:
        return date.fromisoformat(self.meta["start_date"])

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ public query API
    def query(self, q: IndicatorQuery, access: DataAccess = EVERYTHING) -> QueryResult:
        """Run a query within the caller's data scope (``access``; default: everything).

        Raises:
            IndicatorError: (or a subclass) naming what was wrong and what is valid;
                OutOfScopeError when the query reaches beyond ``access``.
        """
        started = time.perf_counter()
        plan = self._plan(q, access)
        results = [self._run_indicator(plan, ind, ver, q) for ind, ver in plan.indicators]
        resolved = ResolvedQuery(
            indicators=[ind.name for ind, _ in plan.indicators],
            start=plan.period.start,
            end=plan.period.end,
            filters=plan.filter_names,
            group_by=plan.group_by,
            compare=list(q.compare),
            rank=q.rank,
            version=q.version,
        )
        return QueryResult(
            query=resolved,
            as_of=self.as_of,
            data_start=self.data_start,
            results=results,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
            min_cell=self.small_cells.k,
            scope=access.label if access.restrictions() else "全院",
        )

    # ------------------------------------------------------------------ validation
    def _plan(self, q: IndicatorQuery, access: DataAccess) -> _Plan:
        indicators = []
        for name in q.indicators:
            ind = self.catalog.get(name)
            if not access.allows_subject(ind.owner_department):
                raise OutOfScopeError(
                    f"您的数据范围是{access.label}，指标“{ind.name}”（归口{ind.owner_department}）不在其中。",
                    param="indicators",
                    valid=list(access.subjects),
                )
            if ind.status == "not_available":
                raise IndicatorNotAvailableError(
                    f"指标“{ind.name}”在本院数据仓库中无法计算：{ind.unavailable_reason}", param="indicators"
                )
            try:
                indicators.append((ind, ind.version(q.version)))
            except KeyError:
                raise UnknownVersionError(
                    f"指标“{ind.name}”没有口径版本“{q.version}”。",
                    param="version",
                    valid=[v.version for v in ind.versions],
                ) from None
        period = self._check_period(q.start, q.end)
        grains = [g for g in q.group_by if g in TIME_GRAINS]
        if len(grains) > 1:
            raise IndicatorError(
                "按时间分组只能选一个粒度（year、quarter、month、day 之一）。",
                param="group_by",
                valid=list(TIME_GRAINS),
            )
        dims = [g for g in q.group_by if g not in TIME_GRAINS]
        if q.rank and not dims:
            raise IndicatorError(
                "排名需要按维度分组（如 department、doctor、campus）。",
                param="rank",
                valid=list(DIMENSION_LABELS),
            )
        for ind, ver in indicators:
            supported = self.catalog.dimensions_of(ind, ver.version)
            for dim in [*dims, *q.filters.active()]:
                if dim not in supported:
                    raise UnsupportedDimensionError(
                        f"指标“{ind.name}”不能按{DIMENSION_LABELS[dim]}（{dim}）筛选或分组。",
                        param="group_by" if dim in dims else f"filters.{dim}",
                        valid=supported,
                    )
            for dim in access.restrictions():
                if dim not in supported:  # the scope could not be applied: nothing is shown
                    raise OutOfScopeError(
                        f"您的数据范围是{access.label}，而指标“{ind.name}”不能按{DIMENSION_LABELS[dim]}"
                        "区分，无法只计算您范围内的部分。",
                        param="indicators",
                    )
        filters, names = {}, {}
        for dim, values in q.filters.active().items():
            members = self.dimensions.resolve(dim, values)
            filters[dim] = tuple(m.code for m in members)
            names[dim] = [m.name for m in members]
        access.check_filters(filters, self.dimensions)
        check_cost(
            self.dimensions,
            period,
            grains[0] if grains else None,
            dims,
            filters,
            access,
            sources=len(
                {m.source for ind, ver in indicators for m in self.catalog.measures_of(ind, ver.version)}
            ),
            limit=self.max_cells,
        )
        measures: dict[str, list[Measure]] = defaultdict(list)
        for ind, ver in indicators:
            for m in self.catalog.measures_of(ind, ver.version):
                if m not in measures[m.source]:
                    measures[m.source].append(m)
        return _Plan(
            indicators,
            period,
            filters,
            names,
            list(q.group_by),
            grains[0] if grains else None,
            access,
            dict(measures),
        )

    def _check_period(self, start: date, end: date) -> Period:
        valid = f"{self.data_start.isoformat()} 至 {self.as_of.isoformat()}"
        if start > end:
            raise InvalidPeriodError(f"开始日期 {start} 晚于结束日期 {end}。", param="start", valid=[valid])
        if end > self.as_of:
            raise InvalidPeriodError(
                f"结束日期 {end} 晚于数据截止日 {self.as_of}；可查询区间为 {valid}。",
                param="end",
                valid=[valid],
            )
        if start < self.data_start:
            raise InvalidPeriodError(
                f"开始日期 {start} 早于数据起始日 {self.data_start}；可查询区间为 {valid}。",
                param="start",
                valid=[valid],
            )
        return Period(start, end)

    # ------------------------------------------------------------------ evaluation
    def _run_indicator(
        self, plan: _Plan, ind: Indicator, ver: CaliberVersion, q: IndicatorQuery
    ) -> IndicatorResult:
        sql: list[str] = []
        notes: list[str] = []
        current = self._evaluate(plan, ind, ver, plan.period, sql, notes)
        if len(current) > self.max_rows:
            raise IndicatorError(
                f"结果有 {len(current)} 行，超过上限 {self.max_rows} 行；请缩短统计期、改用更粗的时间粒度或增加筛选条件。",
                param="group_by",
            )
        # before any value leaves the engine: refused if most cells are too small, else masked
        self.small_cells.check(ind.name, plan.group_by, [v.cases for v in current.values()])
        rows = [self._row(plan, key, vals) for key, vals in current.items()]
        self.small_cells.mask_rows(rows, [v.cases for v in current.values()], notes)
        for kind in q.compare:
            self._attach_comparison(plan, ind, ver, kind, rows, sql, notes)
        rows, order = self._order(rows, plan, q)
        if q.version is None and plan.period.start < ver.effective_from:
            # Rule (docs/indicators.md): the current version is kept for every period, so that a trend
            # is read in one 口径; the answer says the period starts before that version was in force.
            notes.append(
                f"统计期始于 {plan.period.start.isoformat()}，早于现行 {ver.version} 版口径的生效日"
                f" {ver.effective_from.isoformat()}；各期均按 {ver.version} 版计算以便可比，"
                "如需当时执行的口径，请指定版本。"
            )
        numerator, denominator = (
            (self.catalog.measures[ver.numerator].label, self.catalog.measures[ver.denominator].label)
            if ind.kind == "ratio"
            else (None, None)
        )
        return IndicatorResult(
            **ind.model_dump(include=_DESCRIPTIVE_FIELDS),
            version=ver.version,
            version_note=ver.note,
            version_effective_from=ver.effective_from,
            comparison_rule=ind.comparison_rule,
            numerator_label=numerator,
            denominator_label=denominator,
            rows=rows,
            accumulates=ind.kind == "simple"
            and all(self.catalog.measures[m].agg != "per_day" for m in ver.measures()),
            row_order=order,
            sql=sql,
            notes=list(dict.fromkeys(notes)),
        )

    def _evaluate(
        self,
        plan: _Plan,
        ind: Indicator,
        ver: CaliberVersion,
        period: Period,
        sql: list[str],
        notes: list[str],
    ) -> dict[Key, _Values]:
        if ind.kind == "growth":
            return self._evaluate_growth(plan, ver, period, sql, notes)
        measures = [self.catalog.measures[m] for m in ver.measures()]
        values = self._measure_values(plan, measures, period, sql)
        out = {}
        for key, mv in values.items():
            counted = [mv[cases_label(m)] for m in measures if cases_label(m) in mv]
            cases = min(counted) if counted else None
            if ind.kind == "simple":
                out[key] = _Values(mv[ver.measure], cases=cases)
            else:
                num, den = mv[ver.numerator], mv[ver.denominator]
                if key and not num and not den:
                    continue  # a group with no activity for this ratio (e.g. 住院次均费用 of a clinic-only department)
                out[key] = _Values(num * ver.scale / den if den else None, num, den, cases)
        return out

    def _evaluate_growth(
        self, plan: _Plan, ver: CaliberVersion, period: Period, sql: list[str], notes: list[str]
    ) -> dict[Key, _Values]:
        base = self.catalog.indicators[ver.base or ""]
        current = self._evaluate(plan, base, base.current_version, period, sql, notes)
        earlier = year_over_year(period)
        previous = self._evaluate_earlier(
            plan, base, base.current_version, earlier, "增幅的上年同期", sql, notes
        )
        if previous is None:
            return {key: _Values(None, v.value, None, v.cases) for key, v in current.items()}
        out = {}
        for key, cur in current.items():
            prev = previous.get(self._shift_key(plan, key, "yoy"))
            p = prev.value if prev else None
            growth = (cur.value / p - 1) * 100 if cur.value is not None and p else None
            cases = [c for c in (cur.cases, prev.cases if prev else None) if c is not None]
            out[key] = _Values(growth, cur.value, p, min(cases) if cases else None)
        return out

    def _evaluate_earlier(
        self,
        plan: _Plan,
        ind: Indicator,
        ver: CaliberVersion,
        period: Period,
        label: str,
        sql: list[str],
        notes: list[str],
    ) -> dict[Key, _Values] | None:
        """Values over a comparison period, judged bucket by bucket against the data's start.

        Without time grouping a period reaching before the data has no value (None). With time
        grouping only the buckets that begin before the data go without, so 2020 still compares
        with 2019 when the query covers 2019 to 2023.
        """
        if period.start >= self.data_start:
            return self._evaluate(plan, ind, ver, period, sql, notes)
        if not plan.grain or period.end < self.data_start:
            notes.append(self._before_start_note(label, period))
            return None
        notes.append(f"{label}比较期 {period} 中早于数据起始日 {self.data_start} 的分组无比较值。")
        values = self._evaluate(plan, ind, ver, Period(self.data_start, period.end), sql, notes)
        return {k: v for k, v in values.items() if self._row_period(plan, k, period).start >= self.data_start}

    def _before_start_note(self, label: str, period: Period) -> str:
        return f"{label}比较期 {period} 早于数据起始日 {self.data_start}，无比较值。"

    def _measure_values(
        self, plan: _Plan, measures: list[Measure], period: Period, sql: list[str]
    ) -> dict[Key, dict[str, float]]:
        def zeros() -> dict[str, float]:
            counted = [cases_label(m) for m in measures if self._counts_cases(m)]
            return {**{m.name: 0.0 for m in measures}, **dict.fromkeys(counted, 0.0)}

        merged: dict[Key, dict[str, float]] = defaultdict(zeros)
        for source_name in dict.fromkeys(m.source for m in measures):
            statement, rows = self._scan(plan, source_name, period)
            sql.append(statement)
            for key, values in rows.items():
                for m in measures:
                    if m.source == source_name:
                        merged[key][m.name] = values[m.name]
                        if cases_label(m) in values:
                            merged[key][cases_label(m)] = values[cases_label(m)]
        if not plan.group_by and not merged:
            merged[()]  # an empty period still yields one row of zeros
        for key, values in merged.items():
            for m in measures:
                if m.agg == "per_day":
                    values[m.name] /= self._row_period(plan, key, period).days
        return dict(merged)

    def _scan(self, plan: _Plan, source_name: str, period: Period) -> tuple[str, dict[Key, dict[str, float]]]:
        """One source's measures over one period, run once per query and reused."""
        cached = plan.scans.get((source_name, period))
        if cached:
            return cached
        source = self.catalog.sources[source_name]
        measures = tuple(plan.measures[source_name])
        dims = tuple(g for g in plan.group_by if g not in TIME_GRAINS)
        counted = tuple(m for m in measures if self._counts_cases(m))
        scope = tuple(plan.access.restrictions().items())
        stmt, key_cols = compile_source_query(
            SourceQuery(source, measures, period, plan.filters, dims, plan.grain, scope, bool(counted))
        )
        rows: dict[Key, dict[str, float]] = {}
        with self.engine.connect() as conn:
            for record in conn.execute(stmt).mappings():
                key = self._key(plan, record, key_cols, source.dimensions)
                rows[key] = {m.name: float(record[m.name] or 0) for m in measures}
                rows[key].update({cases_label(m): float(record[cases_label(m)] or 0) for m in counted})
        plan.scans[(source_name, period)] = (self._render(stmt), rows)
        return plan.scans[(source_name, period)]

    def _counts_cases(self, measure: Measure) -> bool:
        return self.small_cells.active and self.catalog.sources[measure.source].population is not None

    # ------------------------------------------------------------------ keys and rows
    def _key(self, plan: _Plan, record, key_cols: list[str], dim_columns: dict[str, str]) -> Key:
        parts = []
        for g in plan.group_by:
            if g in TIME_GRAINS:
                if g == "day":
                    d = record["stat_date"]
                    parts.append(
                        bucket_label(g, 0, day=d if isinstance(d, date) else date.fromisoformat(str(d)[:10]))
                    )
                else:
                    sub = record["stat_quarter"] if g == "quarter" else record.get("stat_month")
                    parts.append(
                        bucket_label(g, int(record["stat_year"]), int(sub) if sub is not None else None)
                    )
            else:
                parts.append(self.dimensions.label(g, str(record[dim_columns[g]])))
        return tuple(parts)

    def _shift_key(self, plan: _Plan, key: Key, kind: str) -> Key:
        if not plan.grain:
            return key
        i = plan.group_by.index(plan.grain)
        return (*key[:i], shift_label(plan.grain, key[i], kind), *key[i + 1 :])

    def _bucket(self, plan: _Plan, key: Key) -> Period | None:
        """The calendar span of a row's time bucket; None without a time grain."""
        if not plan.grain or not key:
            return None
        return bucket_period(plan.grain, key[plan.group_by.index(plan.grain)])

    def _row_period(self, plan: _Plan, key: Key, period: Period) -> Period:
        return _within(self._bucket(plan, key), period)

    def _row(self, plan: _Plan, key: Key, vals: _Values) -> Row:
        bucket = self._bucket(plan, key)
        span = _within(bucket, plan.period)
        return Row(
            keys=dict(zip(plan.group_by, key, strict=True)),
            start=span.start,
            end=span.end,
            value=vals.value,
            numerator=vals.numerator,
            denominator=vals.denominator,
            partial=bucket is not None and span != bucket,
        )

    def _attach_comparison(
        self,
        plan: _Plan,
        ind: Indicator,
        ver: CaliberVersion,
        kind: str,
        rows: list[Row],
        sql: list[str],
        notes: list[str],
    ) -> None:
        if kind == "yoy":
            period = year_over_year(plan.period)
        else:
            period = (
                previous_bucket_period(plan.period, plan.grain)
                if plan.grain
                else previous_period(plan.period)
            )
        label = COMPARE_LABELS[kind]
        earlier = self._evaluate_earlier(plan, ind, ver, period, label, sql, notes)
        if earlier is None:
            note = self._before_start_note(label, period)
            for row in rows:
                span = self._row_period(plan, self._shift_key(plan, tuple(row.keys.values()), kind), period)
                row.comparisons[kind] = Comparison(
                    kind=kind,
                    label=label,
                    change_label=CHANGE_LABELS[kind],
                    start=span.start,
                    end=span.end,
                    value=None,
                    note=note,
                )
            return
        for row in rows:
            key = self._shift_key(plan, tuple(row.keys.values()), kind)
            span = self._row_period(plan, key, period)
            prev = earlier.get(key)
            if prev is not None and self.small_cells.too_small(prev.cases):
                row.comparisons[kind] = self.small_cells.masked_comparison(kind, span)
                notes.append(self.small_cells.note)
                continue
            row.comparisons[kind] = _comparison(ind, kind, span, row.value, prev)

    def _order(self, rows: list[Row], plan: _Plan, q: IndicatorQuery) -> tuple[list[Row], RowOrder]:
        """A ranking by rank; a series over time in time order; a breakdown by a dimension alone by
        value, highest first (rows without a value last), so that its first row is its highest."""
        if q.rank:
            ranked = sorted(
                (r for r in rows if r.value is not None),
                key=lambda r: r.value,
                reverse=q.rank.order == "desc",
            )[: q.rank.limit]
            for i, r in enumerate(ranked, 1):
                r.rank = i
            return ranked, "rank"
        by_keys = sorted(rows, key=lambda r: tuple(r.keys.values()))
        if plan.grain:
            return by_keys, "time" if plan.group_by == [plan.grain] else "keys"
        if not plan.group_by:
            return by_keys, "keys"
        return sorted(by_keys, key=lambda r: (r.value is None, -(r.value or 0.0))), "value_desc"

    def _render(self, stmt: sa.Select) -> str:
        try:
            return render_sql(stmt, self.engine.dialect)
        except Exception:  # some dialects cannot inline every type; show the parameters instead
            compiled = stmt.compile(self.engine)
            return f"{compiled}\n-- params: {compiled.params}"


def _within(bucket: Period | None, period: Period) -> Period:
    """The part of a time bucket inside the period (the whole period for a row without one)."""
    return (bucket.overlap(period) or period) if bucket else period


def _comparison(
    ind: Indicator, kind: str, span: Period, value: float | None, prev: _Values | None
) -> Comparison:
    base = Comparison(
        kind=kind,
        label=COMPARE_LABELS[kind],
        change_label=CHANGE_LABELS[kind],
        start=span.start,
        end=span.end,
        value=prev.value if prev else None,
        numerator=prev.numerator if prev else None,
        denominator=prev.denominator if prev else None,
    )
    if value is None or base.value is None:
        base.note = "" if base.value is not None else "比较期无数据"
        return base
    base.delta = value - base.value
    base.change_pct = base.delta / abs(base.value) * 100 if base.value else None
    if ind.is_percentage:
        base.change, base.change_unit = base.delta, "百分点"
    else:
        base.change, base.change_unit = base.change_pct, "%"
    return base
