"""Latency of representative indicator queries at several warehouse scales, and generator speed.

    python bench/indicator_latency.py                 # scales 1 and 10, 30 runs per query
    python bench/indicator_latency.py --scales 1 --runs 10

Warehouses are generated once into data/bench/ (scale 10 takes a few minutes) and reused.
Results go to bench/results/indicator_latency.{json,md}. Targets (issue #2): p95 < 50 ms at both
scales; scale-10 p95 within 2x of the default scale.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path

from indicators import IndicatorQuery, Warehouse
from indicators.warehouse.build import prepare_demo_warehouse

YTD = {"start": "2023-01-01", "end": "2023-09-08"}
Y2022 = {"start": "2022-01-01", "end": "2022-12-31"}
QUERIES: dict[str, dict] = {
    "药占比 本年 同比": {"indicators": ["药占比"], **YTD, "compare": ["yoy"]},
    "药占比 按月 环比": {"indicators": ["药占比"], **YTD, "group_by": ["month"], "compare": ["mom"]},
    "门诊次均费用 科室前10": {
        "indicators": ["门诊次均费用"],
        **Y2022,
        "group_by": ["department"],
        "rank": {"order": "desc", "limit": 10},
    },
    "住院次均费用 各院区 同比": {
        "indicators": ["住院次均费用"],
        **YTD,
        "group_by": ["campus"],
        "compare": ["yoy"],
    },
    "平均住院日 心内科 季度": {
        "indicators": ["平均住院日"],
        "start": "2022-10-01",
        "end": "2022-12-31",
        "filters": {"department": ["心血管内科"]},
    },
    "床位使用率 2020 按月": {
        "indicators": ["床位使用率"],
        "start": "2020-01-01",
        "end": "2020-12-31",
        "group_by": ["month"],
    },
    "病床周转次数 按科室": {"indicators": ["病床周转次数"], **Y2022, "group_by": ["department"]},
    "四级手术比例 科室前5": {
        "indicators": ["出院患者四级手术比例"],
        **YTD,
        "group_by": ["department"],
        "rank": {"order": "desc", "limit": 5},
    },
    "抗菌药物使用强度 历年": {
        "indicators": ["抗菌药物使用强度"],
        "start": "2019-01-01",
        "end": "2023-09-08",
        "group_by": ["year"],
    },
    "CMI 按科室": {"indicators": ["CMI"], **YTD, "group_by": ["department"]},
    "DRG组数 2022": {"indicators": ["DRG组数"], **Y2022},
    "时间消耗指数 各院区": {"indicators": ["时间消耗指数"], **Y2022, "group_by": ["campus"]},
    "低风险组死亡率 全期": {"indicators": ["低风险组病例死亡率"], "start": "2019-01-01", "end": "2023-09-08"},
    "门急诊人次 近30天 按日": {
        "indicators": ["门急诊人次"],
        "start": "2023-08-10",
        "end": "2023-09-08",
        "group_by": ["day"],
    },
    "医疗收入 按季度 同比": {
        "indicators": ["医疗收入"],
        **Y2022,
        "group_by": ["quarter"],
        "compare": ["yoy"],
    },
    "门诊次均费用增幅 本年": {"indicators": ["门诊次均费用增幅"], **YTD},
    "住院次均药品费用增幅 按科室": {
        "indicators": ["住院次均药品费用增幅"],
        **Y2022,
        "group_by": ["department"],
    },
    "住院医保基金占比 按医保类型": {
        "indicators": ["住院收入中来自医保基金的比例"],
        **YTD,
        "group_by": ["insurance"],
    },
    "耗占比 跨年区间 骨科": {
        "indicators": ["耗占比"],
        "start": "2021-11-15",
        "end": "2022-02-10",
        "filters": {"department": ["骨科"]},
    },
    "百元卫材 按月": {"indicators": ["百元医疗收入卫生材料消耗"], **Y2022, "group_by": ["month"]},
    "医疗服务收入占比 同比环比": {
        "indicators": ["医疗服务收入占医疗收入比例"],
        **YTD,
        "group_by": ["campus"],
        "compare": ["yoy", "mom"],
    },
    "多指标 本年": {
        "indicators": ["门急诊人次", "出院人次", "医疗收入", "药占比"],
        **YTD,
        "compare": ["yoy"],
    },
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_scale(scale: float, runs: int, folder: Path) -> dict:
    path = folder / f"scale-{scale:g}.duckdb"
    sidecar = path.with_suffix(".generation.json")  # generation figures, kept with the reused warehouse
    if not path.exists() or not sidecar.exists():
        report = prepare_demo_warehouse(path, scale=scale, progress=True)
        figures = {
            "raw_rows": sum(report.raw_rows.values()),
            "generate_s": round(report.generate_seconds, 1),
            "rows_per_s": round(report.rows_per_second),
            "aggregate_s": round(report.aggregate_seconds, 1),
        }
        sidecar.write_text(json.dumps(figures))
    generation = json.loads(sidecar.read_text())
    wh = Warehouse(path)
    per_query, everything = {}, []
    for name, body in QUERIES.items():
        q = IndicatorQuery(**body)
        wh.query(q)  # warm-up: first use loads dimensions and caches
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            wh.query(q)
            times.append((time.perf_counter() - t0) * 1000)
        per_query[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 0.95), 2),
        }
        everything += times
    wh.close()
    return {
        "scale": scale,
        "generation": generation,
        "queries": per_query,
        "p50_ms": round(statistics.median(everything), 2),
        "p95_ms": round(percentile(everything, 0.95), 2),
    }


def to_markdown(results: list[dict], machine: str) -> str:
    lines = [f"Machine: {machine}. Date: {date.today()}.", ""]
    header = "| query | " + " | ".join(f"scale {r['scale']:g} p50 / p95 (ms)" for r in results) + " |"
    lines += [header, "|---" * (len(results) + 1) + "|"]
    for name in QUERIES:
        cells = [f"{r['queries'][name]['p50_ms']} / {r['queries'][name]['p95_ms']}" for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| **all queries** | " + " | ".join(f"**{r['p50_ms']} / {r['p95_ms']}**" for r in results) + " |"
    )
    for r in results:
        if r["generation"]:
            g = r["generation"]
            lines.append(
                f"\nScale {r['scale']:g}: {g['raw_rows']:,} raw rows generated in {g['generate_s']} s "
                f"({g['rows_per_s']:,} rows/s); aggregates built in {g['aggregate_s']} s."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data", type=Path, default=Path("data/bench"))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    results = [bench_scale(s, args.runs, args.data) for s in args.scales]
    (args.out / "indicator_latency.json").write_text(
        json.dumps({"machine": machine, "results": results}, ensure_ascii=False, indent=2)
    )
    markdown = to_markdown(results, machine)
    (args.out / "indicator_latency.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
