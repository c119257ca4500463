"""Every number in an answer comes from a tool result: a planted wrong number is caught."""

import pytest

from indicators import IndicatorQuery, Warehouse, default_catalog
from serving.assistant.composer import UnsupportedNumberError, check_numbers, compose
from serving.assistant.executor import Executor
from serving.tools import Plan, QueryIndicatorCall


@pytest.fixture(scope="module")
def results(warehouse: Warehouse):
    query = IndicatorQuery(indicators=["药占比"], start="2023-01-01", end="2023-09-08", compare=["yoy"])
    plan = Plan(calls=[QueryIndicatorCall(arguments=query)])
    return plan, Executor(warehouse, default_catalog(), None).run(plan.calls)


def test_composed_answer_passes_and_states_the_figures(results) -> None:
    plan, tool_results = results
    answer = compose(plan, tool_results)
    row = tool_results[0].query.results[0].rows[0]
    assert f"{row.value:.2f}%" in answer.text and "同比" in answer.text
    check_numbers(answer.text, tool_results)


def test_a_planted_wrong_number_is_caught(results) -> None:
    plan, tool_results = results
    text = compose(plan, tool_results).text
    row = tool_results[0].query.results[0].rows[0]
    planted = text.replace(f"{row.value:.2f}", f"{row.value + 1.37:.2f}")
    assert planted != text
    with pytest.raises(UnsupportedNumberError):
        check_numbers(planted, tool_results)
