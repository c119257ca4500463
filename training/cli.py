"""`opsbrain train …` and `opsbrain model merge`: thin commands over the training package.

Each part registers its own commands (``register``), so the data builders and the stages stay in
their own modules. Module-level imports stay light: torch, transformers and trl are imported inside
the commands, so `opsbrain --help` does not load them.
"""

from __future__ import annotations

import typer

from training.data.cli import register as register_data
from training.publish import register as register_publish
from training.stages.cli import register as register_stages
from training.stages.cli import register_model

train_app = typer.Typer(
    help="Train the planner's LLM: data, pt, sft, rm, ppo, dpo, grpo, publish.", no_args_is_help=True
)
register_data(train_app)
register_stages(train_app)
register_publish(train_app)


def register_model_commands(model_app: typer.Typer) -> None:
    """`opsbrain model merge` (the demo-base command lives with the serving code)."""
    register_model(model_app)
