"""The training stages (pt, sft, rm, ppo, dpo, grpo): thin entry points over training.common."""
