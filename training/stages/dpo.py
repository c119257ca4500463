"""Stage `dpo`: direct preference optimisation on rm.jsonl (an alternative to rm + ppo), trl DPOTrainer.

No reward model: the pairs train the policy directly against a frozen reference (the starting
model; with LoRA, the same model with the adapter disabled, so no second copy in memory).

    opsbrain train dpo --config training/configs/tiny/dpo.yaml
"""

from __future__ import annotations

from pathlib import Path

from training import common
from training.config import StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import DPOConfig, DPOTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_policy(cfg)
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset([common.preference_example(tokenizer, row) for row in rows])
    args = common.trainer_args(DPOConfig, cfg, out)
    return common.fit(DPOTrainer, cfg, out, model, tokenizer, dataset, args, ref_model=None)
