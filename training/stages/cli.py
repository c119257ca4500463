"""`opsbrain train pt|sft|rm|ppo|dpo|grpo` and `opsbrain model merge`: filled in by the stages."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the stage commands to ``app``."""


def register_model(model_app: typer.Typer) -> None:
    """Add `merge` to the `opsbrain model` group."""
