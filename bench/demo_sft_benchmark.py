"""The demo model before and after a small LoRA SFT run on CPU, and the merged model against the adapter.

    python bench/demo_sft_benchmark.py                      # train runs/sft-demo unless it exists
    python bench/demo_sft_benchmark.py --split dev --limit 30 --skip-before

1. before: the base model (``opsbrain model demo-base``) plans the eval subset with the compact
   system prompt the SFT data uses; the full-prompt figure of the same base model is in
   evals/reports/planner_llm_<split>-n<N>.md (``opsbrain eval planner --planner llm``);
2. train: ``opsbrain train sft --config training/configs/demo/sft.yaml`` (skipped when the run
   folder already holds an adapter); tokens/s from the run's metrics.jsonl;
3. after: the base model + the adapter, same prompt and subset;
4. merged: ``opsbrain model merge`` folds the adapter in; the merged folder plans the subset again
   and every turn's plan is compared with the adapter's.

Scores are the evaluation's (evals/planner.py); "model's own" counts a turn planned by the rules
fallback as a miss. Results go to bench/results/demo_sft_benchmark.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.planner import Item, TurnScore, dataset_path, load_items, score_turns, spread_subset, summarise
from indicators import Warehouse, default_catalog
from opsbrain.knowledge import ensure_indexed, open_knowledge_base
from opsbrain.settings import Settings, settings
from serving.assistant.assistant import Assistant
from serving.assistant.executor import Executor
from serving.planner.llm.factory import build_planner

RESULTS = Path(__file__).parent / "results"
CONFIG = Path("training/configs/demo/sft.yaml")


def evaluate(
    label: str, items: list[Item], model: Path, adapter: Path | None
) -> tuple[dict, list[TurnScore]]:
    config = Settings(planner="llm", llm_model=model, llm_adapter=adapter, llm_prompt_style="compact")
    warehouse = Warehouse(config.resolved_warehouse_url, max_rows=config.max_result_rows)
    catalog = default_catalog()
    kb = open_knowledge_base(config)
    ensure_indexed(kb, config)
    planner = build_planner(config, catalog, warehouse)
    assistant = Assistant(planner, Executor(warehouse, catalog, kb), warehouse.as_of)
    started = time.perf_counter()
    scores = score_turns(assistant, warehouse, items)
    seconds = time.perf_counter() - started
    report = summarise(label, "llm", items, scores)
    row = {
        "run": label,
        "model": str(model),
        "adapter": str(adapter) if adapter else None,
        "turns": report.turns,
        "plan_exact_match": report.plan_exact_match,
        "model_plan_exact_match": report.model_plan_exact_match,
        "slot_f1": report.slot_f1,
        "execution_match": report.execution_match,
        "planner_stats": planner.stats.as_dict(),
        "seconds_per_turn": round(seconds / max(report.turns, 1), 2),
    }
    print(json.dumps(row, ensure_ascii=False))
    return row, scores


def train(run: Path, data: Path, overrides: list[str]) -> dict:
    if not (run / "adapter_config.json").exists():
        command = [
            "opsbrain",
            "train",
            "sft",
            "--config",
            str(CONFIG),
            "--data",
            str(data),
            "--out",
            str(run),
        ]
        for override in overrides:
            command += ["--set", override]
        subprocess.run(command, check=True)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    summary = next(r for r in reversed(metrics) if "train_runtime" in r)
    tokens = max(r.get("num_tokens", 0) for r in metrics)
    losses = [r["loss"] for r in metrics if "loss" in r]
    return {
        "run": str(run),
        "config": str(CONFIG),
        "overrides": overrides,
        "steps": summary["step"],
        "train_runtime_s": round(summary["train_runtime"], 1),
        "tokens": int(tokens),
        "tokens_per_s": round(tokens / summary["train_runtime"], 1),
        "first_loss": round(losses[0], 3),
        "last_loss": round(losses[-1], 3),
    }


def merged_model(run: Path, base: Path) -> Path:
    out = run.with_name(run.name + "-merged")
    if not (out / "config.json").exists():
        subprocess.run(
            ["opsbrain", "model", "merge", "--base", str(base), "--adapter", str(run), "--out", str(out)],
            check=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="heldout")
    parser.add_argument("--limit", type=int, default=30, help="items spread evenly over the split")
    parser.add_argument(
        "--data", type=Path, default=Path("data/training"), help="`opsbrain train data` output"
    )
    parser.add_argument("--run", type=Path, default=Path("runs/sft-demo"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="training overrides")
    parser.add_argument("--skip-before", action="store_true", help="do not score the base model")
    args = parser.parse_args()

    base = settings.resolved_llm_model
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        path = spread_subset(dataset_path(args.split), args.limit, Path(tmp) / "subset.jsonl")
        items = load_items(path)
    subset = f"{args.split}-n{args.limit}"
    rows = []
    if not args.skip_before:
        rows.append(evaluate(f"base, compact prompt ({subset})", items, base, None)[0])
    training = train(args.run, args.data, args.overrides)
    after, after_scores = evaluate(f"base + SFT adapter ({subset})", items, base, args.run)
    merged, merged_scores = evaluate(
        f"merged SFT model ({subset})", items, merged_model(args.run, base), None
    )
    rows += [after, merged]
    same = [a.predicted == b.predicted for a, b in zip(after_scores, merged_scores, strict=True)]

    import torch

    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, no GPU",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "subset": subset,
        "training": training,
        "evaluations": rows,
        "merged_equals_adapter": {"turns": len(same), "same_plan": sum(same)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "demo_sft_benchmark.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / "demo_sft_benchmark.md").write_text(to_markdown(result))
    print(to_markdown(result))


def to_markdown(result: dict) -> str:
    t = result["training"]
    lines = [
        f"# Demo model: LoRA SFT on CPU ({result['date']})",
        "",
        f"Machine: {result['machine']}. Eval subset: {result['subset']}.",
        "",
        f"Training: `{t['config']}` {' '.join('--set ' + o for o in t['overrides'])}: {t['steps']} steps, "
        f"{t['tokens']} tokens in {t['train_runtime_s']} s = **{t['tokens_per_s']} tokens/s**; "
        f"loss {t['first_loss']} → {t['last_loss']}.",
        "",
        "| run | turns | plan exact | model's own exact | slot F1 | exec | rules fallbacks | s/turn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["evaluations"]:
        lines.append(
            f"| {r['run']} | {r['turns']} | {r['plan_exact_match']:.3f} | {r['model_plan_exact_match']:.3f} | "
            f"{r['slot_f1']:.3f} | {r['execution_match']:.3f} | {r['planner_stats']['fallbacks']} | "
            f"{r['seconds_per_turn']} |"
        )
    m = result["merged_equals_adapter"]
    lines += ["", f"Merged model vs adapter: the same plan on {m['same_plan']} of {m['turns']} turns."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
