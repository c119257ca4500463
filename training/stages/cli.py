"""`opsbrain train pt|sft|rm|ppo|dpo|grpo` and `opsbrain model merge`.

Imports stay light at module level (typer only): torch, transformers and trl load inside commands.

    opsbrain train sft --config training/configs/tiny/sft.yaml --set trainer.max_steps=5 --out runs/x
    opsbrain model merge --base data/models/qwen2.5-coder-0.5b-instruct --adapter runs/sft-demo --out runs/merged
"""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from training.config import STAGES

DEFAULT_DATA = Path("data/training")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="stage YAML (training/configs/…)")]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="override KEY=VALUE, e.g. trainer.learning_rate=1e-4")
]
DataOption = Annotated[Path, typer.Option("--data", help="folder with pt/sft/rm/prompts .jsonl")]
OutOption = Annotated[Path | None, typer.Option("--out", help="run folder (default runs/<stage>-<name>)")]


COMMAND_FILE = "command.txt"


def run_stage(
    stage: str,
    config: Path,
    overrides: list[str] | None,
    data: Path,
    out: Path | None,
    command: str | None = None,
) -> Path:
    """Load and validate the config, run the stage, return its output folder.

    ``command``: the command line that started the run, kept in the folder (``command.txt``) so
    that ``opsbrain train publish`` can record how the adapter was made."""
    from training.config import load_config

    cfg = load_config(config, overrides, stage=stage)
    folder = cfg.output_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    if command:
        (folder / COMMAND_FILE).write_text(command + "\n", encoding="utf-8")
    module = importlib.import_module(f"training.stages.{stage}")
    return module.run(cfg, data, folder)


def _command(stage: str) -> typer.models.CommandFunctionType:
    def command(
        config: ConfigOption, set_: SetOption = None, data: DataOption = DEFAULT_DATA, out: OutOption = None
    ) -> None:
        from training.config import ConfigError

        try:
            folder = run_stage(stage, config, set_, data, out, command_line())
        except (ConfigError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"{stage}: saved to {folder}")

    return command


def command_line() -> str:
    """The running `opsbrain …` command, quoted as a shell would take it back."""
    return shlex.join(["opsbrain", *sys.argv[1:]])


def register(app: typer.Typer) -> None:
    """Add the stage commands to ``app``."""
    for stage in STAGES:
        app.command(stage, help=f"Run training stage `{stage}` (see docs/training.md).")(_command(stage))


def merge(base: Path, adapter: Path, out: Path) -> Path:
    """Merge a LoRA adapter into its base model (peft merge_and_unload) and save with the tokenizer."""
    from peft import PeftModel

    from training import common

    tokenizer = common.load_tokenizer(adapter)
    model = common.load_causal_lm(base)  # the base folder as given: `--base` wins over the adapter's record
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def register_model(model_app: typer.Typer) -> None:
    """Add `merge` to the `opsbrain model` group."""

    @model_app.command("merge")
    def merge_command(
        base: Annotated[Path, typer.Option("--base", help="base model folder")],
        adapter: Annotated[Path, typer.Option("--adapter", help="LoRA adapter folder (a stage's output)")],
        out: Annotated[Path, typer.Option("--out", help="where to write the merged model")],
    ) -> None:
        """Merge a LoRA adapter into its base: a full model folder the planner serves without peft."""
        for folder in (base, adapter):
            if not folder.is_dir():
                typer.echo(f"error: {folder} is not a folder", err=True)
                raise typer.Exit(2)
        typer.echo(f"merged into {merge(base, adapter, out)}")
