"""PPO/GRPO prompts: questions the policy has not seen in SFT, with the gold plan for verifiable rewards.

Disjointness is by normalised text of every question of the conversation (``overlap.normalise``):
the generator is given the SFT questions as banned, so RL scores generalisation, not recall.
"""

from __future__ import annotations

from typing import Any

from serving.planner.llm.prompt import PromptBuilder
from training.data.questions import Item


def prompt_record(builder: PromptBuilder, item: Item) -> dict[str, Any]:
    return {
        "prompt": builder.messages(item.question, item.history),
        "gold": item.plan.model_dump(mode="json"),
        "tags": list(item.tags),
    }
