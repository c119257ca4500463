"""PPO/GRPO prompts: questions the policy has not seen in SFT, with the gold plan for verifiable rewards.

Each row holds the parser's messages for the question (``prompt``), the question and its history
(so the reward maps the question again and decodes the completion with ``compact.decode``), the
gold plan and its compact target. Only questions whose gold the candidates can express are kept:
a reward no completion can earn teaches nothing. Disjointness is by normalised text of every
question of the conversation (``overlap.normalise``): the generator is given the SFT questions as
banned, so RL scores generalisation, not recall.
"""

from __future__ import annotations

from typing import Any

from serving.tools import Plan, Turn
from training.data.conversations import Encoded
from training.data.sft import turn_record


def prompt_record(
    encoded: Encoded, question: str, history: tuple[Turn, ...], gold: Plan, tags: list[str]
) -> dict[str, Any]:
    return {
        "prompt": encoded.messages,
        "target": encoded.text,
        "tags": tags,
        **turn_record(question, history, gold),
    }
