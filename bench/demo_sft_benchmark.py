"""The demo model alone, before and after the planner adapter: model-only exact match on the dev splits.

    python bench/demo_sft_benchmark.py                                  # base and shipped adapter, dev/dev2/dev3
    python bench/demo_sft_benchmark.py --splits dev --limit 60 --adapter runs/sft-planner --skip-base
    python bench/demo_sft_benchmark.py --adapter runs/grpo-planner --name grpo_benchmark

Every turn goes to the model (``pipeline.model_only``: the guard's refusals and the questions the
rules would explain too), decoded under the question's grammar (serving/planner/llm/constrained.py),
so "model's own exact" is the model's plan exact match with nothing borrowed from the rules parser
(a fallback counts as a miss). Dialogues are played with the model's own earlier plans as history,
as in the product. Scores are the evaluation's (evals/planner.py); only the dev splits are used
here (the held-out splits are scored by whoever owns the issue). Results go to
bench/results/<name>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.planner import dataset_path, load_items, score_turns, spread_subset, summarise
from indicators import Warehouse, default_catalog
from opsbrain.knowledge import ensure_indexed, open_knowledge_base
from opsbrain.settings import Settings, settings
from serving.assistant.assistant import Assistant
from serving.assistant.executor import Executor
from serving.planner.llm.factory import build_planner

RESULTS = Path(__file__).parent / "results"
DEV_SPLITS = ("dev", "dev2", "dev3")
SHIPPED = Path("training/adapters/planner")


def evaluate(split: str, limit: int | None, model: Path, adapter: Path | None, label: str) -> dict:
    config = Settings(planner="llm", llm_model=model, llm_adapter=adapter)
    warehouse = Warehouse(config.resolved_warehouse_url, max_rows=config.max_result_rows)
    catalog = default_catalog()
    kb = open_knowledge_base(config)
    ensure_indexed(kb, config)
    pipeline = build_planner(config, catalog, warehouse, embedder=kb.embedder)
    pipeline.model_only = True
    assistant = Assistant(pipeline, Executor(warehouse, catalog, kb), warehouse.as_of)
    with tempfile.TemporaryDirectory() as tmp:
        path = dataset_path(split)
        if limit:
            path = spread_subset(path, limit, Path(tmp) / f"planner_{split}-n{limit}.jsonl")
        items = load_items(path)
    started = time.perf_counter()
    scores = score_turns(assistant, warehouse, items)
    seconds = time.perf_counter() - started
    report = summarise(path.name, "llm-model-only", items, scores)
    row = {
        "run": label,
        "split": split + (f"-n{limit}" if limit else ""),
        "adapter": str(adapter) if adapter else None,
        "turns": report.turns,
        "model_plan_exact_match": report.model_plan_exact_match,
        "slot_f1": report.slot_f1,
        "execution_match": report.execution_match,
        "by_class": {k: v.model_dump() for k, v in report.by_class.items()},
        "planner_stats": pipeline.llm.stats.as_dict(),
        "seconds_per_turn": round(seconds / max(report.turns, 1), 2),
        "misses": [{"question": s.question, "predicted": s.predicted} for s in report.failures[:200]],
    }
    print(json.dumps({k: v for k, v in row.items() if k not in ("misses", "by_class")}, ensure_ascii=False))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--splits", default=",".join(DEV_SPLITS))
    parser.add_argument("--limit", type=int, default=None, help="items spread evenly over each split")
    parser.add_argument("--adapter", type=Path, default=SHIPPED, help="the adapter to score")
    parser.add_argument("--skip-base", action="store_true", help="do not score the base model")
    parser.add_argument("--name", default="demo_sft_benchmark", help="result file name in bench/results")
    args = parser.parse_args()
    splits = args.splits.split(",")
    if any(s not in DEV_SPLITS for s in splits):
        parser.error(f"only the dev splits {DEV_SPLITS} are scored here")
    base = settings.resolved_llm_model
    load_before = os.getloadavg()
    rows = []
    for split in splits:
        if not args.skip_base:
            rows.append(evaluate(split, args.limit, base, None, "base model"))
        rows.append(evaluate(split, args.limit, base, args.adapter, f"base + {args.adapter}"))

    import torch

    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, no GPU",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "evaluations": rows,
    }
    manifest = args.adapter / "manifest.json"
    if manifest.exists():
        result["adapter_manifest"] = json.loads(manifest.read_text(encoding="utf-8"))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(to_markdown(result))
    print(to_markdown(result))


def to_markdown(result: dict) -> str:
    lines = [
        f"# The demo model alone: model-only plan exact match ({result['date']})",
        "",
        f"Machine: {result['machine']}; load average before {result['load_average_before']}, "
        f"after {result['load_average_after']}.",
        "",
        "| run | split | turns | model's own exact | slot F1 | exec | fallbacks | s/turn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["evaluations"]:
        lines.append(
            f"| {r['run']} | {r['split']} | {r['turns']} | {r['model_plan_exact_match']:.3f} | "
            f"{r['slot_f1']:.3f} | {r['execution_match']:.3f} | {r['planner_stats']['fallbacks']} | "
            f"{r['seconds_per_turn']} |"
        )
    manifest = result.get("adapter_manifest")
    if manifest:
        lines += [
            "",
            f"Adapter sha256 {manifest['adapter_sha256']}, {manifest['adapter_bytes']:,} bytes; training data "
            f"{manifest['training_data']['file']} sha256 {manifest['training_data']['sha256']} "
            f"({manifest['training_data']['rows_used']} rows).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
