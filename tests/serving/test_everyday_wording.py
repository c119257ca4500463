"""Everyday wording the dictionary alone misses (issue #13): indicators described rather than named,
department short forms, comparisons with the period before, sibling switches, refusals. The
sentences are written for these tests, not taken from any evaluation split."""

from __future__ import annotations

import pytest

from indicators import Warehouse, default_catalog
from serving.planner.mappers.described import DescriptionMapper
from serving.planner.mappers.dimensions import _short_forms
from serving.planner.rules import RulesPlanner
from serving.tools import Plan, Turn


@pytest.fixture(scope="module")
def planner(warehouse: Warehouse) -> RulesPlanner:
    return RulesPlanner(default_catalog(), warehouse.dimensions, warehouse.as_of, warehouse.data_start)


def _plans(planner: RulesPlanner, *questions: str) -> list[Plan]:
    history: list[Turn] = []
    for question in questions:
        history.append(Turn(question=question, plan=planner.plan(question, history)))
    return [t.plan for t in history]


@pytest.mark.parametrize(
    ("question", "indicator"),
    [
        ("本月急诊一共来了多少人", "急诊人次"),
        ("去年住院病人平均每次花多少钱", "住院次均费用"),
        ("门诊病人每次看病平均药费多少", "门诊次均药品费用"),
        ("住院病人通常要住几天", "平均住院日"),
        ("病床满不满", "床位使用率"),
        ("上半年做了多少台手术", "出院患者手术台次数"),
        ("今年医院一共收了多少钱", "医疗收入"),
    ],
)
def test_an_indicator_described_in_everyday_words(planner, question, indicator) -> None:
    ctx = planner.understand(question, [])
    assert ctx.plan.indicator_calls, ctx.plan
    assert ctx.plan.indicator_calls[0].arguments.indicators == [indicator]
    # the setting words are the indicator, not a visit-type filter on it
    assert not ctx.plan.indicator_calls[0].arguments.filters.visit_type


def test_a_spelled_out_name_wins_over_a_description(planner) -> None:
    query = planner.plan("门诊次均费用和住院收入", []).indicator_calls[0].arguments
    assert query.indicators == ["门诊次均费用", "住院收入"]


def test_descriptions_name_only_catalog_indicators() -> None:
    catalog = default_catalog()
    mapper = DescriptionMapper(catalog)
    assert {indicator for indicator, _ in mapper.entries} <= {i.name for i in catalog.indicators.values()}


def test_ratio_said_as_a_division_or_a_multiple(planner) -> None:
    assert planner.plan("住院药品收入除以住院收入", []).indicator_calls[0].arguments.indicators == [
        "住院药占比"
    ]
    multiple = planner.plan("门诊人次是出院人次的几倍", []).indicator_calls[0].arguments
    assert multiple.indicators == ["门诊人次数与出院人次数比"]


@pytest.mark.parametrize(
    ("name", "short"),
    [("泌尿外科", "泌尿"), ("医学影像科", "影像"), ("耳鼻咽喉科", "耳鼻喉"), ("消化内科", "消化")],
)
def test_department_short_forms(name, short) -> None:
    assert short in _short_forms(name)


def test_a_short_form_before_a_money_word_is_not_a_department(planner) -> None:
    ctx = planner.understand("超声科今年门诊收入", [])
    assert ctx.plan.indicator_calls[0].arguments.filters.department == ["超声医学科"]
    money = planner.understand("检验收入今年多少", [])
    assert not any(c.kind == "department" for c in money.candidates)


def test_a_period_said_only_to_compare_with_becomes_a_comparison(planner) -> None:
    query = planner.plan("8月出院人次比7月多还是少", []).indicator_calls[0].arguments
    assert (str(query.start), str(query.end), query.compare) == ("2023-08-01", "2023-08-31", ["mom"])
    yearly = planner.plan("2022年医疗收入较2021年是增是减", []).indicator_calls[0].arguments
    assert (str(yearly.start), str(yearly.end), yearly.compare) == ("2022-01-01", "2022-12-31", ["yoy"])
    # a period that is not the one before is two periods, not a comparison
    apart = planner.plan("2022年医疗收入和2019年比", []).indicator_calls[0].arguments
    assert apart.compare == []


def test_a_follow_up_switching_the_setting_takes_the_sibling_indicator(planner) -> None:
    plans = _plans(planner, "儿科上个月的出院人次", "门诊呢")
    query = plans[1].indicator_calls[0].arguments
    assert query.indicators == ["门诊人次"] and query.filters.department == ["儿科"]
    assert not query.filters.visit_type


def test_a_new_indicator_without_a_period_keeps_the_conversations_period(planner) -> None:
    plans = _plans(planner, "2022年第二季度药占比", "住院收入占医疗收入的比例")
    query = plans[1].indicator_calls[0].arguments
    assert (str(query.start), str(query.end)) == ("2022-04-01", "2022-06-30")


def test_a_follow_up_on_the_regulations_is_not_out_of_scope(planner) -> None:
    plans = _plans(planner, "三级医院评审标准有哪些章节", "多久评一次")
    assert plans[1].refusal is None and plans[1].calls[0].tool == "search_policy"


@pytest.mark.parametrize(
    ("question", "category"),
    [
        ("病案号A1234这个病人的出院诊断是什么", "patient_data"),
        ("张医生昨天看过的病人都有谁", "patient_data"),
        ("头晕吃布洛芬还是对乙酰氨基酚效果好", "clinical_advice"),
        ("我爸血糖很高，要不要马上打胰岛素", "clinical_advice"),
    ],
)
def test_patient_records_and_clinical_questions_are_refused_by_kind(planner, question, category) -> None:
    plan = planner.plan(question, [])
    assert plan.refusal is not None and plan.refusal.category == category
