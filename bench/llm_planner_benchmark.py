"""The LLM parser on a local model: seconds per question, prompt tokens (fixed and new), the
schema-valid rate and the model's own plan exact match over an evaluation split.

    python bench/llm_planner_benchmark.py --limit 40                  # demo model, 40 planner_dev items
    python bench/llm_planner_benchmark.py --limit 40 --adapter training/adapters/planner
    python bench/llm_planner_benchmark.py --split planner_dev2 --limit 0 --threads 2   # a whole split

Every turn goes to the model (the pipeline's ``model_only``: the guard's refusals too), one model
call per question, with the model's own earlier plans as history. A turn counts as the model's exact
match only if the model planned it (a rules fallback is a miss) and its plan says what the gold plan
says (``evals.planner.slots``). Seconds are the whole understanding of a question (mapping, prompt,
generation, decoding); the mapping takes milliseconds. Writes bench/results/llm_planner_benchmark.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_benchmark import machine as host

from evals.planner import dataset_path, load_items, plan_matches, slots
from indicators import Warehouse, default_catalog
from opsbrain.settings import settings
from serving.planner.llm.backends import BackendError, LocalBackend, Usage
from serving.planner.llm.parser import LLMParser
from serving.planner.llm.prompt import Message
from serving.planner.pipeline import Pipeline
from serving.tools import Turn

RESULTS = Path(__file__).parent / "results"


class Recorder:
    """Passes generations through and keeps, per call, the usage and whether the text is schema-valid."""

    name = "local"

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.calls: list[dict[str, Any]] = []

    def generate(self, messages: list[Message], schema: dict[str, Any]) -> str:
        record: dict[str, Any] = {"valid": False, "usage": None, "text": None}
        self.calls.append(record)
        try:
            text = self.backend.generate(messages, schema)
        except BackendError as exc:
            record["error"] = str(exc)[:200]
            raise
        record.update(text=text, usage=self.backend.last_usage, valid=_valid(text, schema))
        return text


def _valid(text: str, schema: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(json.loads(text), schema)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


def spread(items: list, limit: int) -> list:
    """Every k-th item rather than the first ``limit``: the splits are ordered by kind."""
    if not limit or limit >= len(items):
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def run(pipeline: Pipeline, recorder: Recorder, items: list) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        history: list[Turn] = []
        for n, turn in enumerate(item.turns):
            calls = len(recorder.calls)
            started = time.perf_counter()
            ctx = pipeline.understand(turn.question, history)
            seconds = time.perf_counter() - started
            history.append(Turn(question=turn.question, plan=ctx.plan))
            made = recorder.calls[calls:]
            usage: Usage | None = made[-1]["usage"] if made else None
            print(
                f"{len(rows) + 1:>4} {seconds:6.2f} s {ctx.parser:<9} {turn.question}",
                file=sys.stderr,
                flush=True,
            )
            rows.append(
                {
                    "id": item.id,
                    "turn": n,
                    "question": turn.question,
                    "seconds": round(seconds, 3),
                    "parser": ctx.parser,
                    "model_calls": len(made),
                    "schema_valid": bool(made) and all(c["valid"] for c in made),
                    "exact": slots(ctx.plan) == slots(turn.gold),
                    "output": made[-1]["text"] if made else None,
                    **({k: getattr(usage, k) for k in Usage.__dataclass_fields__} if usage else {}),
                }
            )
    return rows


def summary(rows: list[dict[str, Any]], rules_exact: float) -> dict[str, Any]:
    seconds = sorted(r["seconds"] for r in rows)
    used = [r for r in rows if "prompt_tokens" in r]
    new = [r["prompt_tokens"] - r["cached_tokens"] for r in used]

    def mean(key: str) -> float:
        return round(statistics.fmean(r[key] for r in used), 1) if used else 0.0

    return {
        "questions": len(rows),
        "model_calls": sum(r["model_calls"] for r in rows),
        "seconds_p50": round(statistics.median(seconds), 2),
        "seconds_p95": round(seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))], 2),
        "seconds_mean": round(statistics.fmean(seconds), 2),
        "fixed_prompt_tokens": used[0]["cached_tokens"] if used else 0,
        "new_prompt_tokens_mean": round(statistics.fmean(new), 1) if new else 0.0,
        "new_prompt_tokens_max": max(new, default=0),
        "generated_tokens_mean": mean("generated_tokens"),
        "forced_tokens_mean": mean("forced_tokens"),
        "model_steps_mean": mean("model_steps"),
        "schema_valid_rate": round(sum(r["schema_valid"] for r in rows) / len(rows), 4),
        "planned_by_model": sum(r["parser"] == "llm" for r in rows),
        "model_exact_match": round(sum(r["exact"] and r["parser"] == "llm" for r in rows) / len(rows), 4),
        "rules_exact_match_same_turns": rules_exact,
    }


def machine(backend: LocalBackend) -> str:
    import torch

    cpu = host()["cpu"]  # the chat benchmark's reading of /proc/cpuinfo
    return (
        f"{cpu}, {os.cpu_count()} CPUs visible, torch {torch.__version__} on {backend.device} with "
        f"{torch.get_num_threads()} threads, Python {platform.python_version()}"
    )


def to_markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    return "\n".join(
        [
            f"# LLM parser benchmark ({result['date']})",
            "",
            f"Command: `{result['command']}`",
            "",
            f"Machine: {result['machine']}; load average before {result['load_before']}, after "
            f"{result['load_after']} (the cores are shared with other work).",
            f"Model: `{result['model']}` ({result['dtype']}), adapter {result['adapter'] or 'none'}; "
            f"loaded in {result['load_s']} s, fixed prompt computed once in {result['warm_s']} s. "
            f"Data: {s['questions']} turns of {result['items']} items spread over `{result['split']}`, "
            f"every turn to the model, greedy, max_new_tokens {result['max_new_tokens']}.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| seconds per question p50 / p95 / mean | {s['seconds_p50']} / {s['seconds_p95']} / {s['seconds_mean']} |",
            f"| model calls per question | {s['model_calls'] / max(s['questions'], 1):.2f} |",
            f"| prompt tokens: fixed (cached) | {s['fixed_prompt_tokens']} |",
            f"| prompt tokens: new per question, mean / max | {s['new_prompt_tokens_mean']} / {s['new_prompt_tokens_max']} |",
            f"| output tokens per question (forced by the grammar) | {s['generated_tokens_mean']} ({s['forced_tokens_mean']}) |",
            f"| model forward passes per question | {s['model_steps_mean']} |",
            f"| schema-valid outputs | {s['schema_valid_rate']:.1%} |",
            f"| planned by the model (not a rules fallback) | {s['planned_by_model']} of {s['questions']} |",
            f"| model's own plan exact match (fallback = miss) | {s['model_exact_match']:.1%} |",
            f"| rules parser alone, same turns | {s['rules_exact_match_same_turns']:.1%} |",
            "",
            "Per-question rows (output, tokens, seconds) are in llm_planner_benchmark.json.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=settings.resolved_llm_model)
    parser.add_argument("--adapter", type=Path, default=None, help="peft LoRA adapter folder")
    parser.add_argument(
        "--split", default="planner_dev", help="planner_dev, planner_dev2, … (or dev, dev2, …)"
    )
    parser.add_argument("--limit", type=int, default=40, help="items spread over the split; 0: all")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--dtype", default=settings.llm_dtype, choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--max-new-tokens", type=int, default=settings.llm_max_new_tokens)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    split = args.split.removeprefix("planner_")
    items = spread(load_items(dataset_path(split)), args.limit)
    catalog = default_catalog()
    warehouse = Warehouse(settings.resolved_warehouse_url)
    dims = (catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start)
    # the baseline: the rules parser alone on the same turns, its own plans as history
    matches = plan_matches(Pipeline(*dims), items)
    rules_exact = round(sum(exact for _, _, exact in matches) / max(len(matches), 1), 4)

    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    backend = LocalBackend(
        args.model, args.adapter, max_new_tokens=args.max_new_tokens, threads=args.threads, dtype=args.dtype
    )
    load_s = time.perf_counter() - started
    recorder = Recorder(backend)
    pipeline = Pipeline(*dims)
    pipeline.llm = LLMParser(recorder, catalog, pipeline.intents, warehouse.as_of)
    pipeline.model_only = True
    started = time.perf_counter()
    backend.warm(pipeline.llm.prompts.prefix_messages())
    warm_s = time.perf_counter() - started
    rows = run(pipeline, recorder, items)

    result = {
        "date": date.today().isoformat(),
        "command": shlex.join(["python", *sys.argv]),
        "machine": machine(backend),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "model": str(args.model),
        "adapter": str(args.adapter) if args.adapter else None,
        "dtype": str(next(backend.model.parameters()).dtype).removeprefix("torch."),
        "load_s": round(load_s, 1),
        "warm_s": round(warm_s, 1),
        "split": f"planner_{split}",
        "items": len(items),
        "turns": len(rows),
        "max_new_tokens": args.max_new_tokens,
        "summary": summary(rows, rules_exact),
        "parser_stats": pipeline.llm.stats.as_dict(),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "llm_planner_benchmark.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    markdown = to_markdown(result)
    (args.out / "llm_planner_benchmark.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
