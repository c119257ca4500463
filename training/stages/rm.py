"""Stage `rm`: a reward model (one score per sequence) on preference pairs (rm.jsonl), trl RewardTrainer.

The model is the causal LM given (usually the SFT output) with a new ``score`` head
(AutoModelForSequenceClassification, num_labels=1); the pairs are rendered with serving's template,
so the model scores (inference prompt + answer). PPO then uses the saved folder as reward model
and as the start of its value model.

    opsbrain train rm --config training/configs/tiny/rm.yaml
"""

from __future__ import annotations

from pathlib import Path

from training import common
from training.config import StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import RewardConfig, RewardTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_sequence_classifier(cfg.model, cfg.gradient_checkpointing, common.stage_dtype(cfg))
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset([common.preference_example(tokenizer, row) for row in rows])
    args = common.trainer_args(RewardConfig, cfg, out)
    return common.fit(RewardTrainer, cfg, out, model, tokenizer, dataset, args, task_type="SEQ_CLS")


def score(model_folder: str | Path, tokenizer_folder: str | Path, texts: list[str]) -> list[float]:
    """The reward model's score for each full text (prompt + answer): for tests and inspection."""
    import torch

    tokenizer = common.load_tokenizer(tokenizer_folder)
    model = common.load_sequence_classifier(model_folder).eval()
    scores = []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
            scores.append(float(model(**ids).logits[0, 0]))
    return scores
