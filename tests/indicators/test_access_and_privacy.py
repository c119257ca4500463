"""Data scopes, small-cell suppression and the cost guard, inside the engine (issue #15)."""

from __future__ import annotations

from datetime import date

import pytest

from indicators import IndicatorQuery, Warehouse
from indicators.query.access import DataAccess, OutOfScopeError
from indicators.query.cost import QueryTooCostlyError
from indicators.query.suppression import SmallCellError

YEAR = (date(2022, 1, 1), date(2022, 12, 31))


@pytest.fixture(scope="module")
def private(demo_db_path) -> Warehouse:
    wh = Warehouse(demo_db_path, min_cell=5)
    yield wh
    wh.close()


def _q(*names: str, **kw) -> IndicatorQuery:
    return IndicatorQuery(
        indicators=list(names), start=kw.pop("start", YEAR[0]), end=kw.pop("end", YEAR[1]), **kw
    )


def _dept(wh: Warehouse, name: str) -> DataAccess:
    code = wh.dimensions.resolve("department", [name])[0].code
    return DataAccess(label=name, department=(code,))


def test_department_scope_limits_a_breakdown_to_its_departments(warehouse):
    scope = _dept(warehouse, "心血管内科")
    result = warehouse.query(_q("药占比", group_by=["department"]), scope).results[0]
    assert [r.keys["department"] for r in result.rows] == ["心血管内科"]
    whole = warehouse.query(_q("药占比", filters={"department": ["心血管内科"]})).results[0].rows[0]
    assert result.rows[0].value == pytest.approx(whole.value)
    # the scope is a bound filter of the statement itself, beside the user's own filters
    assert all("dept_code IN (" in sql for sql in result.sql)


def test_doctor_breakdown_shows_only_the_scoped_departments_doctors(warehouse):
    scope = _dept(warehouse, "心血管内科")
    rows = warehouse.query(_q("出院人次", group_by=["doctor"]), scope).results[0].rows
    own = {m.name for m in warehouse.dimensions.members["doctor"] if scope.allows_member("doctor", m)}
    assert rows and {r.keys["doctor"] for r in rows} <= own


def test_a_filter_outside_the_scope_is_refused_naming_what_is_visible(warehouse):
    scope = _dept(warehouse, "心血管内科")
    with pytest.raises(OutOfScopeError) as err:
        warehouse.query(_q("药占比", filters={"department": ["骨科"]}), scope)
    assert err.value.http_status == 403 and err.value.valid == ["心血管内科"]
    other = next(m for m in warehouse.dimensions.members["doctor"] if not scope.allows_member("doctor", m))
    with pytest.raises(OutOfScopeError):
        warehouse.query(_q("出院人次", filters={"doctor": [other.code]}), scope)


def test_an_indicator_that_cannot_honour_the_scope_is_refused(warehouse):
    doctor = warehouse.dimensions.members["doctor"][0]
    scope = DataAccess(label=f"医生 {doctor.name}", doctor=(doctor.code,))
    with pytest.raises(OutOfScopeError, match="不能按医生区分"):
        warehouse.query(_q("床位使用率"), scope)  # beds have no doctor: the whole ward would show
    own = warehouse.query(_q("出院人次"), scope).results[0].rows[0].value
    assert own == warehouse.query(_q("出院人次", filters={"doctor": [doctor.code]})).results[0].rows[0].value


def test_subject_scope_admits_only_its_indicators(warehouse):
    scope = DataAccess(label="医保办归口指标", subjects=("医保办",))
    with pytest.raises(OutOfScopeError):
        warehouse.query(_q("药占比"), scope)  # 财务处's indicator
    fund = next(
        i
        for i in warehouse.catalog.indicators.values()
        if i.owner_department == "医保办" and i.status == "active"
    )
    assert warehouse.query(_q(fund.code), scope).results


def test_covers_is_a_superset_test():
    whole, cardio = DataAccess(), DataAccess(label="x", department=("NK01",))
    both = DataAccess(label="y", department=("NK01", "NK02"))
    assert whole.covers(cardio) and both.covers(cardio)
    assert not cardio.covers(whole) and not cardio.covers(both)


def test_mortality_by_doctor_and_day_is_refused_for_small_cells(private):
    """The reviewer's example: 1/1 = 100% cells name one patient's death."""
    with pytest.raises(SmallCellError, match="保护患者隐私"):
        private.query(
            _q(
                "住院患者死亡率",
                filters={"department": ["心血管内科"]},
                group_by=["doctor", "day"],
                start=date(2023, 1, 1),
                end=date(2023, 1, 31),
            )
        )


def test_no_value_resting_on_fewer_than_k_cases_leaves_the_engine(private, warehouse):
    q = _q(
        "出院人次",
        "住院次均费用",
        "住院患者死亡率",
        group_by=["doctor"],
        filters={"department": ["心血管内科"]},
    )
    plain = {r.keys["doctor"]: r for r in warehouse.query(q).results[0].rows}
    result = private.query(q)
    assert result.min_cell == 5
    for ind in result.results:
        for row in ind.rows:
            discharges = plain[row.keys["doctor"]].value
            if discharges < 5:
                assert (
                    row.suppressed and row.value is None and row.numerator is None and row.denominator is None
                )
            else:
                assert not row.suppressed and (row.value is not None or ind.kind == "ratio")
        if any(r.suppressed for r in ind.rows):
            assert any("保护患者隐私" in n for n in ind.notes)
    assert any(r.suppressed for r in result.results[0].rows), "the 5% test data has small doctors"


def test_comparison_periods_are_masked_too(private, warehouse):
    q = _q("出院人次", group_by=["doctor"], filters={"department": ["心血管内科"]}, compare=["yoy"])
    before = {r.keys["doctor"]: r.comparisons["yoy"].value for r in warehouse.query(q).results[0].rows}
    masked = 0
    for row in private.query(q).results[0].rows:
        c = row.comparisons["yoy"]
        if before[row.keys["doctor"]] is not None and before[row.keys["doctor"]] < 5:
            assert c.suppressed and c.value is None
            masked += 1
        else:
            assert not c.suppressed
    assert masked, "2021 has doctors with fewer than 5 discharges in the test data"


def test_whole_hospital_figures_are_unchanged_by_suppression(private, warehouse):
    q = _q("药占比", "医疗收入", compare=["yoy"])
    assert private.query(q).results[0].rows[0].value == warehouse.query(q).results[0].rows[0].value


def test_cost_guard_refuses_before_running(warehouse):
    names = ["药占比", "医疗收入", "门急诊人次", "出院人次", "住院次均费用"]
    q = _q(*names, group_by=["doctor", "day", "insurance"], start=date(2019, 1, 1), end=date(2023, 8, 31))
    with pytest.raises(QueryTooCostlyError, match="未执行") as err:
        warehouse.query(q)
    assert "按月" in err.value.suggestions
    # a department's doctors by month is well inside the limit
    ok = _q("出院人次", group_by=["doctor", "month"], filters={"department": ["心血管内科"]})
    assert warehouse.query(ok).results[0].rows
