"""Indicator values on a hand-written warehouse, checked against arithmetic done on paper."""

from datetime import date

import pytest

from indicators import IndicatorQuery, Warehouse
from tests.indicators.tiny_warehouse import build_tiny_warehouse

FEB_2024 = {"start": date(2024, 2, 1), "end": date(2024, 2, 29)}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Warehouse:
    wh = Warehouse(build_tiny_warehouse(tmp_path_factory.mktemp("tiny") / "tiny.duckdb"))
    yield wh
    wh.close()


def value(wh: Warehouse, indicator: str, **kw) -> float | None:
    params = {**FEB_2024, **kw}
    return wh.query(IndicatorQuery(indicators=[indicator], **params)).results[0].rows[0].value


def test_revenue_counts_outpatient_by_visit_and_inpatient_by_discharge(tiny: Warehouse) -> None:
    # Feb 2024: outpatient 150 + 50 + 200; stay 1 discharged 02-29 (8000 + 1000 + 3000); stay 2 in March
    assert value(tiny, "医疗收入") == 12400
    assert value(tiny, "药品收入") == 3200  # 150 + 50 (饮片) + 3000
    assert value(tiny, "药占比") == pytest.approx(3200 / 12400 * 100)
    assert value(tiny, "药占比（不含中药饮片）", version="1.0") == pytest.approx(3150 / 12400 * 100)
    assert value(tiny, "药占比（不含中药饮片）") == pytest.approx(3150 / 12350 * 100)
    assert value(tiny, "门诊次均费用") == pytest.approx(400 / 2)
    assert value(tiny, "高值耗材占比") == pytest.approx(8000 / 9000 * 100)
    assert value(tiny, "百元医疗收入卫生材料消耗") == pytest.approx(9000 / (12400 - 3200) * 100)
    assert value(tiny, "门诊收入中来自医保基金的比例") == pytest.approx(120 / 400 * 100)
    # whole March: stay 2 (1000) and one outpatient visit (40); stay 3 is still in hospital
    assert value(tiny, "医疗收入", start=date(2024, 3, 1), end=date(2024, 3, 31)) == 1040


def test_discharge_measures(tiny: Warehouse) -> None:
    march = {"start": date(2024, 2, 1), "end": date(2024, 3, 31)}
    assert value(tiny, "出院人次", **march) == 2
    assert value(tiny, "平均住院日", **march) == 6
    assert value(tiny, "出院患者手术占比", **march) == pytest.approx(3 / 2 * 100)
    assert value(tiny, "出院患者微创手术占比", **march) == pytest.approx(2 / 3 * 100)
    assert value(tiny, "出院患者四级手术比例", version="1.0", **march) == pytest.approx(1 / 3 * 100)
    # + the interventional one marked as managed at level 4
    assert value(tiny, "出院患者四级手术比例", **march) == pytest.approx(2 / 3 * 100)
    assert value(tiny, "CMI", **march) == pytest.approx((2.0 + 0.5) / 2)
    assert value(tiny, "低风险组病例死亡率", **march) == 100
    assert value(tiny, "抗菌药物使用强度", **march) == pytest.approx(6 / 12 * 100)
    assert value(tiny, "时间消耗指数", **march) == pytest.approx((9 / 10 + 3 / 4) / 2)
    assert value(tiny, "费用消耗指数", **march) == pytest.approx((12000 / 10000 + 1000 / 2000) / 2)
    assert value(tiny, "DRG组数", **march) == 2


def test_beds_per_day(tiny: Warehouse) -> None:
    period = {"start": date(2024, 2, 28), "end": date(2024, 3, 1)}
    assert value(tiny, "床位使用率", **period) == pytest.approx((8 + 9 + 6 + 15) / (10 + 10 + 12 + 20) * 100)
    assert value(tiny, "实际开放床位数", **period) == pytest.approx(52 / 3)
    rows = (
        tiny.query(IndicatorQuery(indicators=["实际开放床位数"], group_by=["month"], **period))
        .results[0]
        .rows
    )
    assert [r.value for r in rows] == [pytest.approx(40 / 2), pytest.approx(12 / 1)]


def test_leap_day_yoy_and_growth(tiny: Warehouse) -> None:
    q = IndicatorQuery(
        indicators=["门急诊人次"], start=date(2024, 2, 29), end=date(2024, 2, 29), compare=["yoy"]
    )
    row = tiny.query(q).results[0].rows[0]
    assert row.value == 2
    assert row.comparisons["yoy"].start == date(2023, 2, 28) and row.comparisons["yoy"].value == 1
    assert row.comparisons["yoy"].change == pytest.approx(100.0)
    growth = value(tiny, "门诊次均费用增幅", start=date(2024, 2, 29), end=date(2024, 2, 29))
    assert growth == pytest.approx((400 / 2) / 200 * 100 - 100)


def test_group_by_department_and_doctor_names(tiny: Warehouse) -> None:
    q = IndicatorQuery(indicators=["医疗收入"], group_by=["department", "doctor"], **FEB_2024)
    rows = tiny.query(q).results[0].rows
    assert {(r.keys["department"], r.keys["doctor"]): r.value for r in rows} == {
        ("心血管内科", "张三"): 200,
        ("骨科", "李四"): 12200,
    }
    q = IndicatorQuery(
        indicators=["医疗收入"], filters={"insurance": ["自费"], "visit_type": ["急诊"]}, **FEB_2024
    )
    assert tiny.query(q).results[0].rows[0].value == 200
