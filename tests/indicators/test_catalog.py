from pathlib import Path

import pytest

from indicators import CatalogError, load_catalog
from indicators.catalog import CATALOG_DIR, default_catalog
from indicators.errors import UnknownIndicatorError

REQUIRED = [
    "门急诊人次",
    "出院人次",
    "医疗收入",
    "药品收入",
    "药占比",
    "药占比（不含中药饮片）",
    "耗占比",
    "百元医疗收入卫生材料消耗",
    "医疗服务收入占医疗收入比例",
    "门诊收入占医疗收入比例",
    "住院收入占医疗收入比例",
    "门诊收入中来自医保基金的比例",
    "住院收入中来自医保基金的比例",
    "门诊次均费用",
    "门诊次均药品费用",
    "住院次均费用",
    "住院次均药品费用",
    "门诊次均费用增幅",
    "门诊次均药品费用增幅",
    "住院次均费用增幅",
    "住院次均药品费用增幅",
    "平均住院日",
    "床位使用率",
    "病床周转次数",
    "出院患者手术占比",
    "出院患者微创手术占比",
    "出院患者四级手术比例",
    "抗菌药物使用强度",
    "CMI",
    "DRG组数",
    "时间消耗指数",
    "费用消耗指数",
    "低风险组病例死亡率",
]


def test_catalog_has_the_required_indicators_and_40_computable() -> None:
    catalog = default_catalog()
    for name in REQUIRED:
        assert catalog.get(name).name == name
    active = [i for i in catalog.indicators.values() if i.status == "active"]
    assert len(active) >= 40
    assert catalog.search(status="not_available"), (
        "unavailable indicators are listed so the assistant can say so"
    )


def test_every_active_indicator_resolves_its_measures_sources_and_lineage() -> None:
    catalog = default_catalog()
    for ind in catalog.indicators.values():
        if ind.status != "active":
            continue
        for version in ind.versions:
            assert catalog.measures_of(ind, version.version)
        assert catalog.dimensions_of(ind), ind.code
        assert catalog.lineage_of(ind)["raw_columns"], ind.code


def test_unverified_facts_are_marked_in_the_caliber_note() -> None:
    for ind in default_catalog().indicators.values():
        if ind.reliability == "M" and ind.status == "active":
            assert "[M" in ind.caliber_note or "未核实" in ind.caliber_note, ind.code


def test_targets_cite_a_document_and_no_national_40_percent_drug_rule() -> None:
    catalog = default_catalog()
    for ind in catalog.indicators.values():
        for target in ind.targets:
            assert target.document and target.reliability in {"V", "S", "M"}
            # the hospital's own targets come from its internal document, never from a national one
            assert (target.kind == "internal") == ("演示医院" in target.document), (ind.code, target)
    assert catalog.get("药占比").targets == []
    targets = {t.kind: t.value for t in catalog.get("药占比（不含中药饮片）").targets}
    assert targets == {"national": 30, "internal": 35}


def test_a_target_for_an_unknown_indicator_is_refused(tmp_path) -> None:
    import shutil

    from indicators.catalog import CATALOG_DIR, load_catalog
    from indicators.errors import CatalogError

    for path in CATALOG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "targets.yaml").write_text(
        "targets:\n  - {indicator: drug_ratoi, kind: internal, comparator: '<=', value: 1, scope: x, "
        "document: y, reliability: V}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"unknown indicator 'drug_ratoi'.*drug_ratio"):
        load_catalog(tmp_path)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("药占比", "drug_ratio"),
        ("drug_ratio", "drug_ratio"),
        ("药站比", "drug_ratio"),  # same pinyin
        ("DDDs", "antibiotic_intensity"),
        ("药占比(不含中药饮片)", "drug_ratio_excl_herbal"),
        ("病床使用率", "bed_occupancy_rate"),
        ("cmi", "cmi"),
    ],
)
def test_lookup_by_name_alias_code_and_pinyin(typed: str, code: str) -> None:
    assert default_catalog().get(typed).code == code


def test_unknown_indicator_error_suggests_close_matches() -> None:
    with pytest.raises(UnknownIndicatorError) as err:
        default_catalog().get("药品占比率")
    assert "药占比" in err.value.suggestions or "药品占比" in err.value.suggestions
    assert err.value.param == "indicators"


def test_versions_default_to_the_latest_and_can_be_pinned() -> None:
    ind = default_catalog().get("出院患者四级手术比例")
    assert ind.current_version.version == "2.0"
    assert ind.version("1.0").numerator == "level4_operations"


def _copy_catalog(tmp_path: Path) -> Path:
    for f in CATALOG_DIR.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_malformed_yaml_names_file_entry_and_field(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "operations.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("direction: 逐步降低", "direction: 越低越好", 1))
    with pytest.raises(CatalogError, match=r"operations.yaml: indicator \w+: direction"):
        load_catalog(folder)


def test_unknown_measure_reference_is_reported_with_a_hint(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "operations.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("numerator: drug_revenue,", "numerator: drug_revenu,", 1)
    )
    with pytest.raises(CatalogError, match=r"unknown measure 'drug_revenu'.*drug_revenue"):
        load_catalog(folder)


def test_duplicate_alias_is_refused(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "operations.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("aliases: [耗材占比,", "aliases: [药比, 耗材占比,", 1)
    )
    with pytest.raises(CatalogError, match="药比"):
        load_catalog(folder)
