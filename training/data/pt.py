"""The continued-pretraining corpus: policy documents, the catalog as text, reports from real numbers.

Reports are written from the indicator API's own results (values, 同比/环比, the departments whose
change was largest), never from invented figures, so the model reads the hospital's vocabulary
and the shape of an operations analysis with numbers that are true for this warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from indicators import Catalog, Indicator, IndicatorError, IndicatorQuery, Warehouse

REPORT_INDICATORS = (
    "门急诊人次",
    "出院人次",
    "医疗收入",
    "药占比",
    "耗占比",
    "平均住院日",
    "住院次均费用",
    "门诊次均费用",
    "床位使用率",
)
CAUSE_INDICATORS = ("门急诊人次", "出院人次", "医疗收入")  # additive: department changes sum to the total's


def policy_documents(corpus_dirs: list[Path]) -> Iterator[dict[str, str]]:
    for folder in corpus_dirs:
        for path in sorted(folder.glob("*.md")):
            yield {"text": path.read_text(encoding="utf-8").strip(), "source": f"policy:{path.stem}"}


def catalog_documents(catalog: Catalog) -> Iterator[dict[str, str]]:
    for ind in catalog.indicators.values():
        yield {"text": indicator_text(ind), "source": f"catalog:{ind.code}"}


def indicator_text(ind: Indicator) -> str:
    lines = [f"指标：{ind.name}（{ind.english_name}）"]
    if ind.aliases:
        lines.append(f"别名：{'、'.join(ind.aliases)}")
    lines += [f"定义：{ind.definition}", f"公式：{ind.formula}", f"单位：{ind.unit}；导向：{ind.direction}"]
    if ind.caliber_note:
        lines.append(f"口径说明：{ind.caliber_note}")
    lines.append(f"所属体系：{'、'.join(ind.systems)}；来源文件：{ind.source_document}")
    if ind.status == "not_available":
        lines.append(f"该指标无法从数据仓库计算：{ind.unavailable_reason}")
    for v in ind.versions:
        lines.append(f"口径版本 {v.version}：{v.effective_from.isoformat()} 起。{v.note}".rstrip())
    for t in ind.targets:
        lines.append(f"目标：{t.comparator} {t.value:g}（{t.kind}，{t.scope}；{t.document}）")
    if ind.status != "not_available":
        lines.append(ind.comparison_rule)
    return "\n".join(lines)


def report_documents(warehouse: Warehouse, catalog: Catalog, months: int = 12) -> Iterator[dict[str, str]]:
    """One analysis per complete month, the latest ``months`` of them."""
    names = [n for n in REPORT_INDICATORS if _known(catalog, n)]
    end = warehouse.as_of.replace(day=1) - timedelta(days=1)
    for _ in range(months):
        start = end.replace(day=1)
        if start < warehouse.data_start:
            break
        text = monthly_report(warehouse, catalog, names, start, end)
        if text:
            yield {"text": text, "source": f"report:{start:%Y-%m}"}
        end = start - timedelta(days=1)


def monthly_report(warehouse: Warehouse, catalog: Catalog, names: list[str], start: date, end: date) -> str:
    try:
        result = warehouse.query(
            IndicatorQuery(indicators=names, start=start, end=end, compare=["yoy", "mom"])
        )
    except IndicatorError:
        return ""
    lines = [f"{start.year}年{start.month}月运营分析", "", "一、主要指标"]
    for ind in result.results:
        if not ind.rows or ind.rows[0].value is None:
            continue
        row = ind.rows[0]
        sentence = f"- {ind.name}：{_fmt(row.value, ind.precision)}{_unit(ind.unit)}"
        for comp in row.comparisons.values():
            if comp.value is None or comp.change is None:
                continue
            trend = "上升" if comp.change > 0 else "下降" if comp.change < 0 else "持平"
            sentence += f"；{comp.label}{trend} {abs(comp.change):.2f}{comp.change_unit}（比较期 {_fmt(comp.value, ind.precision)}）"
        lines.append(sentence + "。")
    causes = [c for name in CAUSE_INDICATORS if name in names for c in _causes(warehouse, name, start, end)]
    if causes:
        lines += ["", "二、变化来源（按科室，同比）", *causes]
    lines += ["", "说明：数据来自指标查询接口，口径见指标目录。"]
    return "\n".join(lines)


def _causes(warehouse: Warehouse, name: str, start: date, end: date, top: int = 3) -> list[str]:
    """The departments whose year-on-year change of an additive indicator was largest."""
    try:
        result = warehouse.query(
            IndicatorQuery(indicators=[name], start=start, end=end, group_by=["department"], compare=["yoy"])
        )
    except IndicatorError:
        return []
    ind = result.results[0]
    changes = []
    for row in ind.rows:
        comp = row.comparisons.get("yoy")
        if row.value is not None and comp is not None and comp.value is not None:
            changes.append((row.value - comp.value, row.keys.get("department", ""), row.value, comp.value))
    changes.sort(key=lambda c: -abs(c[0]))
    return [
        f"- {name}变化最大的科室：{dept}，本期 {_fmt(now, ind.precision)}，上年同期 {_fmt(before, ind.precision)}，"
        f"{'增加' if diff > 0 else '减少'} {_fmt(abs(diff), ind.precision)}{_unit(ind.unit)}。"
        for diff, dept, now, before in changes[:top]
    ]


def text_dir_documents(folders: list[Path]) -> Iterator[dict[str, str]]:
    """User text: each ``*.txt`` file is one document; each ``*.jsonl`` line with a ``text`` field is one."""
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix == ".txt":
                text = path.read_text(encoding="utf-8").strip()
                if text:
                    yield {"text": text, "source": f"user:{path.name}"}
            elif path.suffix == ".jsonl":
                for line in path.read_text(encoding="utf-8").splitlines():
                    record: Any = json.loads(line) if line.strip() else None
                    if isinstance(record, dict) and str(record.get("text", "")).strip():
                        yield {"text": str(record["text"]).strip(), "source": f"user:{path.name}"}


def _known(catalog: Catalog, name: str) -> bool:
    try:
        return catalog.get(name).status == "active"
    except IndicatorError:
        return False


def _fmt(value: float, precision: int) -> str:
    return f"{value:,.{precision}f}"


def _unit(unit: str) -> str:
    return "" if unit in ("无量纲", "比值") else unit
