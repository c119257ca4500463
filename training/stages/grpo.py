"""Stage `grpo`: group-relative policy optimisation with a verifiable reward (trl GRPOTrainer).

Prompts come from prompts.jsonl (questions disjoint from SFT, the parser's messages) rendered with
serving's template; each group of sampled compact plans is decoded as the server decodes it and
scored by ``training.stages.rewards`` against the gold plan: no plan for the question lowest, then
slot F1, exact match and (``execute_queries: true``) an execution bonus from running the queries
against the warehouse. The reward maps each question with the serving pipeline over the warehouse
(``warehouse``, default the settings') and, with ``embedding_mapper: true``, the knowledge base's
embedding model, as the data was built.

    opsbrain train grpo --config training/configs/planner/grpo.yaml
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training import common
from training.config import StageConfig
from training.stages.rewards import CompactDecoder, grpo_reward_function


def run(cfg: StageConfig, data_dir: Path, out: Path) -> Path:
    from trl import GRPOConfig, GRPOTrainer

    common.set_seed(cfg.seed)
    tokenizer = common.load_tokenizer(cfg.model)
    model = common.load_policy(cfg)
    rows = common.read_rows(data_dir / cfg.data, cfg)
    dataset = common.to_dataset(
        [
            {
                "prompt": common.prompt_text(tokenizer, row["prompt"]),
                "gold": json.dumps(row["gold"], ensure_ascii=False),
                "question": row["question"],
                "history": json.dumps(row["history"], ensure_ascii=False),
            }
            for row in rows
        ]
    )
    warehouse = _warehouse(cfg.warehouse)
    decoder = CompactDecoder(_view(warehouse, cfg.embedding_mapper))
    reward = grpo_reward_function(decoder, warehouse if cfg.execute_queries else None)
    args = common.trainer_args(GRPOConfig, cfg, out)
    return common.fit(GRPOTrainer, cfg, out, model, tokenizer, dataset, args, reward_funcs=[reward])


def _warehouse(location: str | None) -> Any:
    from indicators import Warehouse
    from opsbrain.settings import settings

    return Warehouse(location or settings.resolved_warehouse_url, max_rows=settings.max_result_rows)


def _view(warehouse: Any, embedding_mapper: bool) -> Any:
    from indicators import default_catalog
    from training.data.conversations import ParserView

    embedder = None
    if embedding_mapper:
        from opsbrain.knowledge import open_knowledge_base
        from opsbrain.settings import settings

        embedder = open_knowledge_base(settings).embedder
    return ParserView(default_catalog(), warehouse, embedder)
