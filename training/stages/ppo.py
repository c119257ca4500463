"""Stage `ppo`: PPO against the stage-`rm` reward model (trl 1.12.0, ``trl.experimental.ppo``).

PPO exists in trl only up to 1.12.0, hence the pin (docs/training.md). The policy starts from the
given model (the SFT output); the value model starts from the reward model (``value_model`` to
choose another), both one-score sequence classifiers; the reference policy is ``ref_model=None``:
trl copies the policy (full) or disables the adapter (LoRA). Prompts (prompts.jsonl) are rendered
with serving's template and pre-tokenised into ``input_ids``, as PPOTrainer expects.
``per_device_train_batch_size`` must be divisible by ``num_mini_batches``.

PPOTrainer.train() takes no checkpoint to resume from: ``resume`` is refused for this stage.

    opsbrain train ppo --config training/configs/tiny/ppo.yaml
"""

from __future__ import annotations

from pathlib import Path

from training import common
from training.config import ConfigError, StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    common.quiet_trl()
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    if cfg.reward_model is None:
        raise ConfigError("stage ppo needs `reward_model` (the output folder of stage rm)")
    if cfg.resume:
        raise ConfigError("trl's PPOTrainer cannot resume from a checkpoint; set resume: false")
    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    tokenizer.padding_side = "left"  # generation continues each prompt from its right end
    policy = common.load_causal_lm(cfg.model, cfg.gradient_checkpointing, common.stage_dtype(cfg))
    reward = common.load_sequence_classifier(cfg.reward_model, dtype=common.stage_dtype(cfg))
    value = common.load_sequence_classifier(
        cfg.value_model or cfg.reward_model, cfg.gradient_checkpointing, common.stage_dtype(cfg)
    )
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset(
        [
            {
                "input_ids": tokenizer(
                    common.prompt_text(tokenizer, row["prompt"]), add_special_tokens=False
                )["input_ids"]
            }
            for row in rows
        ]
    )
    args = common.trainer_args(PPOConfig, cfg, out, **{"stop_token": "eos", **cfg.trainer})
    trainer = PPOTrainer(
        args=args,
        processing_class=tokenizer,
        model=policy,
        ref_model=None,
        reward_model=reward,
        train_dataset=dataset,
        value_model=value,
        peft_config=common.lora_config(cfg.lora, "CAUSAL_LM"),
        callbacks=[common.metrics_callback(out)],
    )
    trainer.train()  # trl's PPOTrainer.train takes no resume_from_checkpoint (refused above)
    return common.save_run(trainer, tokenizer, out, cfg)
