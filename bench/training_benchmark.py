"""Throughput of each training stage (pt → sft → rm → ppo, dpo, grpo), CPU.

Runs the checked-in configs of a chain (training/configs/tiny or training/configs/demo) shortened
by overrides, on the test fixtures (tests/training/conftest.py) or on a data folder from
`opsbrain train data` (--data), each stage starting from the previous stage's output, and reads
each run's metrics.jsonl: tokens/s is the tokens the trainer reports (``num_tokens``: prompt and
completion tokens seen) over its train runtime; PPO reports none, so its figure is counted here:
episodes x (prompt + response tokens). The fixtures are the parser's conversations on the demo
warehouse (``opsbrain demo-data``). No GPU was available when it was written: the figures are CPU
figures.

    python bench/training_benchmark.py [--data data/training] [--steps 10]
    python bench/training_benchmark.py --chain demo --data data/training --steps 2 --name training_benchmark_demo
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training import common
from training.stages.cli import run_stage

RESULTS = Path("bench/results")
CONFIGS = Path("training/configs")
PPO_EPISODES = {"tiny": 8, "demo": 4}
PPO_RESPONSE = 32
MODELS = {
    "tiny": "tiny random Qwen2 (hidden 64, 2 layers, Qwen2.5 vocabulary 151,936), full fine-tuning",
    "demo": "Qwen2.5-Coder-0.5B-Instruct (data/models/qwen2.5-coder-0.5b-instruct), LoRA r=16 all-linear, "
    "dtype auto (bf16 on a CPU with AMX/AVX-512 BF16)",
}


def stage_overrides(chain: str, stage: str, steps: int, runs: Path) -> list[str]:
    base = ["trainer.save_strategy=no", "trainer.report_to=[]", "trainer.logging_steps=1"]
    if chain == "demo":
        return base + demo_overrides(stage, steps, runs)
    per_stage = {
        "pt": ["model=tiny", f"trainer.max_steps={steps}", "trainer.max_length=256"],
        "sft": [
            f"model={runs / 'pt'}",
            f"trainer.max_steps={steps}",
            "trainer.per_device_train_batch_size=1",
        ],
        "rm": [f"model={runs / 'sft'}", f"trainer.max_steps={steps}"],
        "ppo": [
            f"model={runs / 'sft'}",
            f"reward_model={runs / 'rm'}",
            "trainer.total_episodes=8",
            "trainer.per_device_train_batch_size=4",
            "trainer.num_mini_batches=2",
            "trainer.response_length=32",
        ],
        "dpo": [
            f"model={runs / 'sft'}",
            f"trainer.max_steps={max(2, steps // 3)}",
            "trainer.per_device_train_batch_size=2",
        ],
        "grpo": [
            f"model={runs / 'sft'}",
            f"trainer.max_steps={max(1, steps // 5)}",
            "trainer.per_device_train_batch_size=4",
            "trainer.num_generations=4",
            "trainer.max_completion_length=32",
        ],
    }
    return base + per_stage[stage]


def demo_overrides(stage: str, steps: int, runs: Path) -> list[str]:
    """The demo configs at one example per optimizer step: a few steps measure tokens/s, not learning."""
    single = [f"trainer.max_steps={steps}", "trainer.per_device_train_batch_size=1"]
    per_stage = {
        "pt": [*single, "trainer.gradient_accumulation_steps=1", "trainer.max_length=512"],
        "sft": [f"model={runs / 'pt'}", *single, "trainer.gradient_accumulation_steps=1"],
        "rm": [f"model={runs / 'sft'}", *single, "trainer.gradient_accumulation_steps=1"],
        "ppo": [
            f"model={runs / 'sft'}",
            f"reward_model={runs / 'rm'}",
            f"trainer.total_episodes={PPO_EPISODES['demo']}",
            "trainer.per_device_train_batch_size=2",
            "trainer.num_mini_batches=1",
            f"trainer.response_length={PPO_RESPONSE}",
        ],
        "dpo": [f"model={runs / 'sft'}", *single, "trainer.gradient_accumulation_steps=1"],
        "grpo": [
            f"model={runs / 'sft'}",
            "trainer.max_steps=1",
            "trainer.per_device_train_batch_size=2",
            "trainer.num_generations=2",
            f"trainer.max_completion_length={PPO_RESPONSE}",
        ],
    }
    return per_stage[stage]


def measure(chain: str, stage: str, data: Path, runs: Path, steps: int) -> dict:
    out = runs / stage
    started = time.perf_counter()
    run_stage(stage, CONFIGS / chain / f"{stage}.yaml", stage_overrides(chain, stage, steps, runs), data, out)
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    summary = next((r for r in reversed(rows) if "train_runtime" in r), {})
    runtime = summary.get("train_runtime") or max((r["elapsed_s"] for r in rows), default=wall)
    tokens = max((r.get("num_tokens", 0) for r in rows), default=0)
    note = "trainer-reported num_tokens"
    if stage == "ppo":  # PPOTrainer logs no token count: prompts + generated responses
        tokenizer = common.load_tokenizer(out)
        episodes = PPO_EPISODES[chain]
        prompts = common.read_jsonl(data / "prompts.jsonl", episodes)
        mean_prompt = sum(
            len(tokenizer(common.prompt_text(tokenizer, p["prompt"]))["input_ids"]) for p in prompts
        ) / len(prompts)
        tokens = episodes * (mean_prompt + PPO_RESPONSE)
        note = (
            f"{episodes} episodes x (mean prompt + {PPO_RESPONSE} response tokens), counted by the benchmark"
        )
    steps_done = max((r["step"] for r in rows), default=0)
    return {
        "stage": stage,
        "steps": steps_done,
        "train_runtime_s": round(runtime, 2),
        "wall_s_with_loading": round(wall, 2),
        "tokens": int(tokens),
        "tokens_per_s": round(tokens / runtime, 1) if tokens and runtime else None,
        "tokens_note": note,
        "last_loss": next((r["loss"] for r in reversed(rows) if "loss" in r), None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data folder (default: the test fixtures)")
    parser.add_argument("--chain", choices=sorted(MODELS), default="tiny", help="training/configs/<chain>")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--stages", default="pt,sft,rm,ppo,dpo,grpo")
    parser.add_argument("--name", default="training_benchmark", help="result file name in bench/results")
    args = parser.parse_args()
    common.quiet_trl()
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data
        if data is None:
            from indicators import Warehouse
            from opsbrain.settings import settings
            from tests.training.conftest import write_fixtures

            data = write_fixtures(Path(scratch) / "data", Warehouse(settings.resolved_warehouse_url))
        runs = Path(scratch) / "runs"
        results = [measure(args.chain, stage, data, runs, args.steps) for stage in args.stages.split(",")]
    import torch

    report = {
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "device": "cpu (no GPU available in this session)",
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg(),
        "data": str(args.data or "tests/training fixtures"),
        "model": MODELS[args.chain],
        "stages": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = [
        f"# Training stages on the {args.chain} chain (CPU)",
        "",
        f"Model: {report['model']}.",
        "",
        f"{report['created']}, {report['cpu_count']} cores shared (load average at the end "
        f"{', '.join(f'{x:.1f}' for x in report['load_average'])}), {report['device']}. Data: {report['data']}.",
        "",
        "| stage | steps | train s | wall s (with loading) | tokens | tokens/s | last loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        loss = f"{r['last_loss']:.3f}" if isinstance(r["last_loss"], float) else "–"
        lines.append(
            f"| {r['stage']} | {r['steps']} | {r['train_runtime_s']} | {r['wall_s_with_loading']} | {r['tokens']} | "
            f"{r['tokens_per_s']} | {loss} |"
        )
    lines += ["", "tokens: " + "; ".join(f"{r['stage']}: {r['tokens_note']}" for r in results)]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
