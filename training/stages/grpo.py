"""Stage `grpo`: group-relative policy optimisation with a verifiable reward (trl GRPOTrainer).

Prompts come from prompts.jsonl (questions disjoint from SFT) rendered with serving's template;
each group of sampled plans is scored by ``training.stages.rewards.plan_reward`` against the gold
plan: invalid JSON lowest, then slot F1, exact match and (``execute_queries: true``) an execution
bonus from running the queries against the warehouse.

    opsbrain train grpo --config training/configs/tiny/grpo.yaml
"""

from __future__ import annotations

import json
from pathlib import Path

from training import common
from training.config import StageConfig
from training.stages.rewards import grpo_reward_function


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import GRPOConfig, GRPOTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_causal_lm(cfg.model, cfg.gradient_checkpointing)
    rows = common.read_jsonl(data_dir / cfg.data, cfg.max_examples)
    dataset = common.to_dataset(
        [
            # gold as JSON text: plans have different keys, which Arrow columns cannot hold
            {
                "prompt": common.prompt_text(tokenizer, row["prompt"]),
                "gold": json.dumps(row["gold"], ensure_ascii=False),
            }
            for row in rows
        ]
    )
    reward = grpo_reward_function(_warehouse() if cfg.execute_queries else None)
    args = common.trainer_args(GRPOConfig, cfg, out)
    return common.fit(GRPOTrainer, cfg, out, model, tokenizer, dataset, args, reward_funcs=[reward])


def _warehouse() -> object:
    from indicators import Warehouse
    from opsbrain.settings import settings

    return Warehouse(settings.resolved_warehouse_url, max_rows=settings.max_result_rows)
