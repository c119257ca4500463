"""Stage `sft`: supervised fine-tuning on planner conversations (sft.jsonl), trl SFTTrainer.

Each conversation becomes trl's prompt–completion pair: the prompt is everything before the last
message rendered by serving's own ``render`` with the assistant turn opened, the completion the
last (assistant) message plus EOS. The loss is on the completion only, and the model is trained on
exactly the text the planner sends at inference. With ``prefix_cache: true`` the system prompt
every row shares is run once per batch, as the server runs it once (training/stages/prefix.py).

    opsbrain train sft --config training/configs/planner/sft.yaml
    opsbrain train sft --config training/configs/demo/sft.yaml --set trainer.max_steps=200
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training import common
from training.config import StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import SFTConfig, SFTTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_policy(cfg)
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset([common.sft_example(tokenizer, row) for row in rows])
    # completion_only_loss: the prompt (system prompt, question) is given, never learned
    args = common.trainer_args(SFTConfig, cfg, out, **{"completion_only_loss": True, **cfg.trainer})
    trainer_class: Any = SFTTrainer
    extra: dict[str, Any] = {}
    if cfg.prefix_cache:
        from training.stages.prefix import SharedPrefixSFTTrainer, shared_prefix_ids

        systems = {tuple(m.items()) for row in rows for m in row["messages"][:1]}
        if len(systems) != 1 or rows[0]["messages"][0]["role"] != "system":
            raise ValueError("prefix_cache needs every row to open with the same system message")
        trainer_class = SharedPrefixSFTTrainer
        extra["prefix_ids"] = shared_prefix_ids(tokenizer, rows[0]["messages"][:1])
    return common.fit(trainer_class, cfg, out, model, tokenizer, dataset, args, **extra)
