"""The llm planner on a local model: seconds per question, tokens, tokens/s, with and without the
prefix KV cache.

    python bench/llm_planner_benchmark.py                       # demo model, 6 dev questions
    python bench/llm_planner_benchmark.py --n 20 --threads 2
    python bench/llm_planner_benchmark.py --model data/models/x --adapter runs/lora-1

N first turns spread evenly over the split are planned twice by the same model: once with the
system prompt's KV cache computed once and copied per request, once running the whole prompt for
every request. Decoding is greedy, so both runs must produce the same text (checked) and the same number of
generations (a repair round is a second generation); only the time differs. A question's seconds
are the planner's (generations, parsing, checks; a rules fallback adds about 1 ms).
Results go to bench/results/llm_planner_benchmark.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from datetime import date
from pathlib import Path

from evals.planner import dataset_path, load_items
from indicators import Warehouse, default_catalog
from opsbrain.settings import settings
from serving.planner.llm.backends import LocalBackend, Usage
from serving.planner.llm.planner import LLMPlanner
from serving.planner.llm.prompt import Message

RESULTS = Path(__file__).parent / "results"


class Recorder:
    """Passes generations through and keeps each one's token counts and time."""

    name = "recorder"

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.usages: list[Usage] = []
        self.texts: list[str] = []

    def generate(self, messages: list[Message]) -> str:
        text = self.backend.generate(messages)
        assert self.backend.last_usage is not None
        self.usages.append(self.backend.last_usage)
        self.texts.append(text)
        return text


def questions(split: str, n: int) -> list[str]:
    items = load_items(dataset_path(split))
    picked = sorted({i * len(items) // n for i in range(min(n, len(items)))})
    return [items[i].turns[0].question for i in picked]


def run(planner: LLMPlanner, recorder: Recorder, asked: list[str], cached: bool) -> dict:
    recorder.backend.use_prefix_cache = cached
    recorder.usages.clear()
    recorder.texts.clear()
    seconds, outputs = [], []
    for question in asked:
        started = time.perf_counter()
        plan, source = planner.plan_with_source(question)
        seconds.append(time.perf_counter() - started)
        outputs.append(
            {"question": question, "source": source, "plan": plan.model_dump_json(exclude_defaults=True)}
        )
    usages = recorder.usages
    generated = sum(u.generated_tokens for u in usages)
    gen_seconds = sum(u.seconds for u in usages)
    return {
        "prefix_cache": cached,
        "questions": len(asked),
        "generations": len(usages),
        "seconds_per_question_p50": round(statistics.median(seconds), 2),
        "seconds_per_question_p95": round(_p95(seconds), 2),
        "seconds_per_question_mean": round(statistics.fmean(seconds), 2),
        "prompt_tokens_per_generation": round(statistics.fmean(u.prompt_tokens for u in usages), 1),
        "computed_prompt_tokens_per_generation": round(
            statistics.fmean(u.prompt_tokens - u.cached_tokens for u in usages), 1
        ),
        "generated_tokens_per_question": round(generated / len(asked), 1),
        "generated_tokens_per_generation": round(generated / len(usages), 1),
        "tokens_per_second": round(generated / gen_seconds, 2),
        "outputs": outputs,
        "generated_texts": list(recorder.texts),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=settings.resolved_llm_model)
    parser.add_argument("--adapter", type=Path, default=settings.llm_adapter)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--n", type=int, default=6, help="questions (first turns, spread over the split)")
    parser.add_argument("--threads", type=int, default=settings.llm_threads, help="torch CPU threads")
    parser.add_argument("--max-new-tokens", type=int, default=settings.llm_max_new_tokens)
    args = parser.parse_args()

    load_before = os.getloadavg()
    warehouse = Warehouse(settings.resolved_warehouse_url)
    started = time.perf_counter()
    backend = LocalBackend(args.model, args.adapter, max_new_tokens=args.max_new_tokens, threads=args.threads)
    load_s = time.perf_counter() - started
    recorder = Recorder(backend)
    planner = LLMPlanner(
        recorder, default_catalog(), warehouse.dimensions, warehouse.as_of, warehouse.data_start
    )
    started = time.perf_counter()
    prefix_tokens = backend.warm(planner.prompts.prefix_messages())
    warm_s = time.perf_counter() - started
    asked = questions(args.split, args.n)
    runs = [run(planner, recorder, asked, cached=True), run(planner, recorder, asked, cached=False)]
    same = runs[0]["generated_texts"] == runs[1]["generated_texts"]  # greedy: must be identical

    import torch

    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} on {backend.device} with {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "model": str(args.model),
        "adapter": str(args.adapter) if args.adapter else None,
        "dtype": str(next(backend.model.parameters()).dtype),
        "model_load_s": round(load_s, 1),
        "prefix_tokens": prefix_tokens,
        "prefix_compute_s": round(warm_s, 1),
        "split": args.split,
        "max_new_tokens": args.max_new_tokens,
        "same_text_with_and_without_cache": same,
        "planner_stats": planner.stats.as_dict(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "llm_planner_benchmark.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    )
    lines = [
        f"# llm planner benchmark ({result['date']})",
        "",
        f"Machine: {result['machine']}; load average before {result['load_average_before']}, "
        f"after {result['load_average_after']} (the cores are shared with other work).",
        f"Model: `{result['model']}` ({result['dtype']}), adapter {result['adapter'] or 'none'}; loaded in "
        f"{result['model_load_s']} s. Prompt prefix (system prompt): {prefix_tokens} tokens, computed once in "
        f"{result['prefix_compute_s']} s. {len(asked)} first turns from `{args.split}`, greedy, "
        f"max_new_tokens {args.max_new_tokens}. Same generated text with and without the cache: {same}.",
        "",
        "| prefix cache | questions | generations | s/question p50 | p95 | mean | prompt tokens/gen "
        "| computed prompt tokens/gen | generated tokens/question | tokens/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {'on' if r['prefix_cache'] else 'off'} | {r['questions']} | {r['generations']} | "
            f"{r['seconds_per_question_p50']} | {r['seconds_per_question_p95']} | "
            f"{r['seconds_per_question_mean']} | {r['prompt_tokens_per_generation']} | "
            f"{r['computed_prompt_tokens_per_generation']} | {r['generated_tokens_per_question']} | "
            f"{r['tokens_per_second']} |"
        )
    lines += [
        "",
        "tokens/s: generated tokens over generation time (the question's own prompt tokens are part of "
        "that time). Planner outcomes over both runs: "
        + json.dumps(planner.stats.as_dict(), ensure_ascii=False),
    ]
    (RESULTS / "llm_planner_benchmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
