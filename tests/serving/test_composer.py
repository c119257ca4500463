"""Every number in an answer comes from a tool result: a planted wrong number is caught."""

import pytest

from indicators import IndicatorQuery, Warehouse, default_catalog
from serving.assistant.composer import compose
from serving.assistant.executor import Executor
from serving.assistant.numbers import UnsupportedNumberError, check_numbers
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
    comp = row.comparisons["yoy"]
    first = answer.text.split("\n")[0]
    # the figure first, in plain words, with the comparison period's value and the change
    assert first.startswith(
        f"本年（2023-01-01至09-08）全院药占比 {row.value:.2f}%，比去年同期（{comp.value:.2f}%）"
    )
    assert f"{abs(comp.change):.2f} 个百分点" in first and ("下降" if comp.change < 0 else "上升") in first
    check_numbers(answer.text, tool_results)


def test_a_planted_wrong_number_is_caught(results) -> None:
    plan, tool_results = results
    text = compose(plan, tool_results).text
    row = tool_results[0].query.results[0].rows[0]
    planted = text.replace(f"{row.value:.2f}", f"{row.value + 1.37:.2f}")
    assert planted != text
    with pytest.raises(UnsupportedNumberError):
        check_numbers(planted, tool_results)


def test_a_figure_comes_with_its_yearly_trend_and_the_policy_caliber(results, warehouse: Warehouse) -> None:
    plan, tool_results = results
    context = [r for r in tool_results if r.role == "context"]
    trend = next(r.query for r in context if r.query.query.group_by == ["year"])
    assert trend.query.start == warehouse.data_start and len(trend.results[0].rows) >= 4
    # 药占比 has no target itself; the policy targets are set on the 不含中药饮片 口径, fetched alongside
    variant = next(r.query for r in context if not r.query.query.group_by)
    assert variant.results[0].name == "药占比（不含中药饮片）"
    answer = compose(plan, tool_results)
    assert answer.chart["xAxis"]["data"][0].startswith(str(warehouse.data_start.year))
    assert "政策目标按“药占比（不含中药饮片）”口径设定" in answer.text
    # no knowledge base, no citation: no target comparison is made without the document that states it
    assert "本期" not in answer.text and not answer.citations


def test_targets_are_compared_only_with_the_stating_document_and_told_apart(warehouse, corpus_kb) -> None:
    query = IndicatorQuery(indicators=["药占比（不含中药饮片）"], start="2023-01-01", end="2023-08-31")
    plan = Plan(calls=[QueryIndicatorCall(arguments=query)])
    tool_results = Executor(warehouse, default_catalog(), corpus_kb).run(plan.calls)
    answer = compose(plan, tool_results)
    cited = {c.doc_id for c in answer.citations}
    if "internal-demo-2023-operations-targets" in cited:
        assert "本院目标（本院自设）：药占比（不含中药饮片）35%以内，本期" in answer.text
        # the trend chart beside the figure draws the cited target as a line, named in words
        lines = answer.chart["series"][0]["markLine"]["data"]
        assert {"name": "本院目标 35%以内", "yAxis": 35.0} in lines
    if not any(c.doc_number and c.doc_number in "国办发〔2015〕38号" for c in answer.citations):
        assert "国家政策目标" not in answer.text
    assert "目标" in answer.text.split("口径：")[0]  # the context search finds at least one of the two
    # no programmer notation in the text: comparators, reliability tags and version numbers go elsewhere
    for notation in ("<=", ">=", "[S]", "[M]", "口径版本"):
        assert notation not in answer.text
    # a department's figure is not held against a hospital target
    by_department = IndicatorQuery(
        **query.model_dump(exclude={"filters"}), filters={"department": ["心血管内科"]}
    )
    plan = Plan(calls=[QueryIndicatorCall(arguments=by_department)])
    assert "本期" not in compose(plan, Executor(warehouse, default_catalog(), corpus_kb).run(plan.calls)).text


def test_a_passage_is_never_cut_inside_a_number() -> None:
    from serving.assistant.citing import shorten

    assert shorten("床位使用率为 79.8% 左右", 9) == "床位使用率为 …"
    assert shorten("短文本", 9) == "短文本"
