"""Behaviour of the query engine on the small demo warehouse."""

from datetime import date

import pytest

from indicators import IndicatorError, IndicatorQuery, Warehouse
from indicators.errors import (
    IndicatorNotAvailableError,
    InvalidPeriodError,
    UnknownDimensionValueError,
    UnknownIndicatorError,
    UnknownVersionError,
    UnsupportedDimensionError,
)

YEAR_TO_DATE = {"start": date(2023, 1, 1), "end": date(2023, 9, 8)}


def run(wh: Warehouse, indicator: str, **kw):
    params = {**YEAR_TO_DATE, **kw}
    return wh.query(IndicatorQuery(indicators=[indicator], **params)).results[0]


def test_seed_question_drug_ratio_this_year_with_yoy(warehouse: Warehouse) -> None:
    r = run(warehouse, "药占比", compare=["yoy"])
    row = r.rows[0]
    assert r.unit == "%" and r.version == "1.0"
    assert 20 < row.value < 60
    assert row.value == pytest.approx(row.numerator / row.denominator * 100)
    yoy = row.comparisons["yoy"]
    assert (yoy.start, yoy.end) == (date(2022, 1, 1), date(2022, 9, 8))
    assert yoy.change_unit == "百分点"
    assert yoy.change == pytest.approx(row.value - yoy.value)
    assert r.sql and "agg_fee_monthly" in r.sql[0] and "agg_fee_daily" in r.sql[0]


def test_amount_changes_are_percentages(warehouse: Warehouse) -> None:
    row = run(warehouse, "门诊次均费用", compare=["yoy", "mom"]).rows[0]
    for kind in ("yoy", "mom"):
        c = row.comparisons[kind]
        assert c.change_unit == "%"
        assert c.change == pytest.approx((row.value - c.value) / c.value * 100)
    assert (row.comparisons["mom"].start, row.comparisons["mom"].end) == (
        date(2022, 4, 25),  # 251 days, like 2023-01-01..09-08
        date(2022, 12, 31),
    )


def test_ratio_of_groups_is_sum_over_sum_not_average(warehouse: Warehouse) -> None:
    total = run(warehouse, "住院次均费用").rows[0]
    by_dept = run(warehouse, "住院次均费用", group_by=["department"]).rows
    assert len(by_dept) > 10
    assert sum(r.numerator for r in by_dept) == pytest.approx(total.numerator)
    assert sum(r.denominator for r in by_dept) == pytest.approx(total.denominator)
    with_values = [r.value for r in by_dept if r.value is not None]
    mean_of_ratios = sum(with_values) / len(with_values)
    assert total.value == pytest.approx(total.numerator / total.denominator)
    assert total.value != pytest.approx(mean_of_ratios, rel=1e-9)


def test_monthly_trend_has_partial_last_month(warehouse: Warehouse) -> None:
    rows = run(warehouse, "出院人次", group_by=["month"], compare=["mom"]).rows
    assert [r.keys["month"] for r in rows] == [f"2023-{m:02d}" for m in range(1, 10)]
    assert rows[-1].end == date(2023, 9, 8)
    assert (rows[-1].comparisons["mom"].start, rows[-1].comparisons["mom"].end) == (
        date(2023, 8, 1),
        date(2023, 8, 8),
    )
    assert rows[1].comparisons["mom"].value == rows[0].value  # February compares with January
    assert sum(r.value for r in rows) == run(warehouse, "出院人次").rows[0].value


def test_month_and_day_tables_agree(warehouse: Warehouse) -> None:
    period = {"start": date(2022, 11, 15), "end": date(2023, 2, 10)}
    whole = run(warehouse, "医疗收入", **period).rows[0].value
    by_day = run(warehouse, "医疗收入", group_by=["day"], **period).rows
    assert len(by_day) <= 88
    assert sum(r.value for r in by_day) == pytest.approx(whole)


def test_ranking_returns_top_n_in_order(warehouse: Warehouse) -> None:
    rows = run(warehouse, "住院次均费用", group_by=["department"], rank={"order": "desc", "limit": 5}).rows
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5]
    assert [r.value for r in rows] == sorted((r.value for r in rows), reverse=True)
    lowest = run(warehouse, "住院次均费用", group_by=["department"], rank={"order": "asc", "limit": 3}).rows
    assert lowest[0].value <= rows[-1].value


def test_filters_by_campus_department_and_doctor(warehouse: Warehouse) -> None:
    all_campus = run(warehouse, "门急诊人次", group_by=["campus"]).rows
    assert {r.keys["campus"] for r in all_campus} == {"本部", "东院区", "西院区"}
    east = run(warehouse, "门急诊人次", filters={"campus": ["东院区"]}).rows[0]
    assert east.value == next(r.value for r in all_campus if r.keys["campus"] == "东院区")
    doctor = warehouse.dimensions.members["doctor"][0]
    by_doctor = run(warehouse, "门急诊人次", filters={"doctor": [doctor.name]}).rows[0]
    dept = run(warehouse, "门急诊人次", filters={"department": [doctor.attributes["dept_code"]]}).rows[0]
    assert 0 < by_doctor.value <= dept.value


def test_caliber_versions_can_be_pinned(warehouse: Warehouse) -> None:
    v2 = run(warehouse, "出院患者四级手术比例")
    v1 = run(warehouse, "出院患者四级手术比例", version="1.0")
    assert (v1.version, v2.version) == ("1.0", "2.0")
    assert v1.rows[0].numerator <= v2.rows[0].numerator
    assert v1.rows[0].denominator == v2.rows[0].denominator


def test_growth_indicator_uses_the_same_period_last_year(warehouse: Warehouse) -> None:
    growth = run(warehouse, "门诊次均费用增幅").rows[0]
    now = run(warehouse, "门诊次均费用").rows[0].value
    before = run(warehouse, "门诊次均费用", start=date(2022, 1, 1), end=date(2022, 9, 8)).rows[0].value
    assert growth.value == pytest.approx((now / before - 1) * 100)


def test_comparison_before_data_start_is_empty_with_a_note(warehouse: Warehouse) -> None:
    r = run(warehouse, "药占比", start=date(2019, 1, 1), end=date(2019, 12, 31), compare=["yoy"])
    assert r.rows[0].comparisons["yoy"].value is None
    assert any("早于数据起始日" in n for n in r.notes)


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"indicators": ["药品占比率"]}, UnknownIndicatorError, "indicators"),
        ({"indicators": ["门诊患者满意度"]}, IndicatorNotAvailableError, "indicators"),
        ({"version": "9.9"}, UnknownVersionError, "version"),
        ({"filters": {"department": ["心内科室"]}}, UnknownDimensionValueError, "filters.department"),
        (
            {"filters": {"department": ["心血管内科'; DROP TABLE agg_fee_daily; --"]}},
            UnknownDimensionValueError,
            "filters.department",
        ),
        ({"indicators": ["床位使用率"], "group_by": ["doctor"]}, UnsupportedDimensionError, "group_by"),
        ({"start": date(2023, 9, 1), "end": date(2024, 1, 31)}, InvalidPeriodError, "end"),
        ({"start": date(2018, 1, 1), "end": date(2018, 12, 31)}, InvalidPeriodError, "start"),
        ({"start": date(2023, 5, 1), "end": date(2023, 4, 1)}, InvalidPeriodError, "start"),
        ({"group_by": ["month", "year"]}, IndicatorError, "group_by"),
        ({"rank": {"order": "desc", "limit": 5}}, IndicatorError, "rank"),
    ],
)
def test_bad_queries_say_what_is_wrong(warehouse: Warehouse, kwargs: dict, error: type, param: str) -> None:
    params = {"indicators": ["药占比"], **YEAR_TO_DATE, **kwargs}
    with pytest.raises(error) as caught:
        warehouse.query(IndicatorQuery(**params))
    assert caught.value.param == param
    assert caught.value.message


def test_errors_list_valid_values_and_close_matches(warehouse: Warehouse) -> None:
    with pytest.raises(UnsupportedDimensionError) as e1:
        run(warehouse, "床位使用率", filters={"doctor": ["x"]})
    assert e1.value.valid == ["campus", "department"]
    with pytest.raises(UnknownDimensionValueError) as e2:
        run(warehouse, "药占比", filters={"campus": ["东区"]})
    assert "东院区" in e2.value.valid
    with pytest.raises(UnknownDimensionValueError) as e3:
        run(warehouse, "药占比", filters={"department": ["心血管内"]})
    assert "心血管内科" in e3.value.suggestions
    with pytest.raises(InvalidPeriodError) as e4:
        run(warehouse, "药占比", start=date(2023, 1, 1), end=date(2023, 12, 31))
    assert "2023-09-08" in e4.value.message


def test_result_row_limit(demo_db_path) -> None:
    small = Warehouse(demo_db_path, max_rows=10, max_cells=10**6)  # past the cost guard, to the row limit
    with pytest.raises(IndicatorError, match="超过上限 10 行"):
        run(small, "门急诊人次", group_by=["day"])
    small.close()


def test_a_warehouse_without_aggregates_says_how_to_fix_it(tmp_path) -> None:
    import duckdb

    from indicators.errors import WarehouseNotReadyError

    path = tmp_path / "raw_only.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta_warehouse (key VARCHAR, value VARCHAR)")
    con.close()
    wh = Warehouse(path)
    with pytest.raises(WarehouseNotReadyError, match="build-aggregates") as caught:
        run(wh, "药占比")
    assert "agg_fee_monthly" in caught.value.valid
    wh.close()
