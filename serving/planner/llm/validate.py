"""Checks a plan's meaning where the JSON schema cannot: names exist, dates lie in the data.

A schema-valid plan from a model can still name an indicator the catalog does not know, a
department that does not exist, or a period after the as-of date. The executor would turn those
into error results; the planner should instead ask the model once to correct them, and fall back
to the rules planner otherwise. Names that resolve (an alias, a code) are rewritten to their
canonical form, so the plan shown to the user and scored by the evaluation uses standard names.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import yaml

from indicators import Catalog, IndicatorError, IndicatorQuery
from indicators.query.dimensions import DimensionIndex
from serving.tools import ExplainIndicatorCall, Plan, QueryIndicatorCall


class PlanSemanticError(ValueError):
    """The plan is well-formed but names or dates are wrong; the message says what and what is valid."""


def check_plan(
    plan: Plan,
    catalog: Catalog,
    as_of: date,
    data_start: date,
    dimensions: DimensionIndex | None = None,
) -> Plan:
    """Return ``plan`` with canonical names, or raise :class:`PlanSemanticError` listing every problem."""
    problems: list[str] = []
    if not (plan.calls or plan.clarification or plan.refusal):
        raise PlanSemanticError("计划为空：需要 calls、clarification 或 refusal 之一")
    calls = []
    for call in plan.calls:
        if isinstance(call, QueryIndicatorCall):
            call = call.model_copy(
                update={
                    "arguments": _check_query(
                        call.arguments, catalog, as_of, data_start, dimensions, problems
                    )
                }
            )
        elif isinstance(call, ExplainIndicatorCall):
            try:
                name = catalog.get(call.arguments.indicator).name
                call = call.model_copy(
                    update={"arguments": call.arguments.model_copy(update={"indicator": name})}
                )
            except IndicatorError as exc:
                problems.append(_with_suggestions(exc))
        calls.append(call)
    if problems:
        raise PlanSemanticError("；".join(problems))
    return plan.model_copy(update={"calls": calls})


def _check_query(
    query: IndicatorQuery,
    catalog: Catalog,
    as_of: date,
    data_start: date,
    dimensions: DimensionIndex | None,
    problems: list[str],
) -> IndicatorQuery:
    names = []
    for name in query.indicators:
        try:
            indicator = catalog.get(name)
        except IndicatorError as exc:
            problems.append(_with_suggestions(exc))
            continue
        if indicator.status == "not_available":
            problems.append(f"指标“{indicator.name}”无法从数据仓库计算，应改用 explain_indicator")
        names.append(indicator.name)
    if query.start > query.end:
        problems.append(f"开始日期 {query.start} 晚于结束日期 {query.end}")
    if query.end > as_of:
        problems.append(f"结束日期 {query.end} 晚于数据截止日 {as_of}")
    if query.start < data_start:
        problems.append(f"开始日期 {query.start} 早于数据开始日 {data_start}")
    filters = query.filters
    if dimensions is not None:
        resolved = {}
        aliases = dimension_aliases()
        for dim, values in filters.active().items():
            values = [aliases.get(dim, {}).get(v.strip(), v) for v in values]
            try:
                resolved[dim] = [m.name for m in dimensions.resolve(dim, values)]
            except IndicatorError as exc:
                problems.append(_with_suggestions(exc))
        filters = filters.model_copy(update=resolved)
    # aliases of one indicator become one name; a model also repeats names outright
    unique = list(dict.fromkeys(names))
    return query.model_copy(update={"indicators": unique, "filters": filters})


@cache
def dimension_aliases() -> dict[str, dict[str, str]]:
    """alias → standard name per dimension, from the rules planner's alias file (心内科 → 心血管内科).

    Read defensively: the file belongs to the rules planner and the prompt works without it.
    """
    try:
        text = resources.files("serving.planner").joinpath("aliases.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for dim in ("department", "campus", "insurance"):
        section = data.get(dim) if isinstance(data, dict) else None
        if isinstance(section, dict):
            found[dim] = {
                str(alias): str(name)
                for name, names in section.items()
                if isinstance(names, list)
                for alias in names
            }
    return found


def _with_suggestions(exc: IndicatorError) -> str:
    # the first sentence names the bad value; the close matches help the repair round
    message = exc.message.split("。")[0]
    options = exc.suggestions or exc.valid[:10]
    return message + (f"，可选：{'、'.join(options)}" if options else "")
