"""Stage `pt`: continued pretraining, causal LM on domain text (pt.jsonl ``{"text", "source"}``).

Packing: trl SFTTrainer on the ``text`` column with ``packing_strategy="wrapped"``: documents are
joined with EOS and cut into ``max_length`` blocks, as in GPT/Llama pretraining. Documents in one
block attend to each other (only flash-attention kernels can separate them; on CPU with SDPA they
cannot, see ../shared/notes/offline-models.md); the EOS between them marks the boundary. For
continued pretraining on short domain texts this cross-document attention is the usual, accepted
trade for no padding. On a GPU with flash-attention, ``--set trainer.packing_strategy=bfd`` packs
whole documents with per-document attention instead.

    opsbrain train pt --config training/configs/tiny/pt.yaml [--set trainer.max_steps=20]
"""

from __future__ import annotations

from pathlib import Path

from training import common
from training.config import StageConfig


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import SFTConfig, SFTTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_causal_lm(cfg.model, cfg.gradient_checkpointing, common.stage_dtype(cfg))
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset([{"text": row["text"]} for row in rows])
    args = common.trainer_args(
        SFTConfig,
        cfg,
        out,
        **{"dataset_text_field": "text", "packing": True, "packing_strategy": "wrapped", **cfg.trainer},
    )
    return common.fit(SFTTrainer, cfg, out, model, tokenizer, dataset, args)
