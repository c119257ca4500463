"""Stage `sft`: supervised fine-tuning on planner conversations (sft.jsonl), trl SFTTrainer.

Each conversation becomes trl's prompt–completion pair: the prompt is everything before the last
message rendered by serving's own ``render`` with the assistant turn opened, the completion the
last (assistant) message plus EOS. The loss is on the completion only, and the model is trained on
exactly the text the planner sends at inference.

    opsbrain train sft --config training/configs/demo/sft.yaml --set trainer.max_steps=200
"""

from __future__ import annotations

from pathlib import Path

from training import common
from training.config import StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import SFTConfig, SFTTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_causal_lm(cfg.model, cfg.gradient_checkpointing)
    rows = common.read_jsonl(data_dir / cfg.data, cfg.max_examples)
    dataset = common.to_dataset([common.sft_example(tokenizer, row) for row in rows])
    # completion_only_loss: the prompt (system prompt, question) is given, never learned
    args = common.trainer_args(SFTConfig, cfg, out, **{"completion_only_loss": True, **cfg.trainer})
    return common.fit(SFTTrainer, cfg, out, model, tokenizer, dataset, args)
