"""`opsbrain train publish`: copy a LoRA run's adapter into the folder the server loads by default.

The folder (training/adapters/planner) holds only what serving needs and what reproduces it: the
adapter (``adapter_config.json``, ``adapter_model.safetensors``), the stage config the run used and
``manifest.json`` with the sha256 of the training data file, its row count, the base model, the
adapter's own sha256 and size, the commands (the one that reproduces it, the run's own) and the
run's training time and tokens. The tokenizer is the base model's (not copied: 11 MB).
``Settings.resolved_llm_adapter`` picks the folder up when the model is the demo model. The adapter
is committed with the project, so one larger than ``MAX_ADAPTER_BYTES`` is refused.

    opsbrain train publish --run runs/sft-planner --data data/training-planner/sft.jsonl
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field

from training.stages.cli import COMMAND_FILE

DEFAULT_OUT = Path("training/adapters/planner")
FILES = ("adapter_config.json", "adapter_model.safetensors")
MAX_ADAPTER_BYTES = 10 * 1024 * 1024  # committed to git: a larger LoRA (rank, modules) is a config mistake
REPRODUCE = "bash scripts/train_planner.sh"  # data → sft → publish, the whole chain in one command


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DataRecord(BaseModel):
    file: str
    sha256: str
    rows: int
    rows_used: int = Field(description="rows of the kinds the config trains on")


class Manifest(BaseModel):
    """What the published folder holds and how to make it again."""

    base_model: str | None
    lora: dict[str, Any]
    adapter_sha256: str
    adapter_bytes: int
    training_data: DataRecord
    config: dict[str, Any] = Field(description="the stage config the run used (stage_config.json)")
    command: dict[str, str | None] = Field(
        description="reproduce: the one command; train: the stage command of the run (if recorded)"
    )
    train: dict[str, Any] = Field(description="steps, seconds, tokens, first and last loss")


def publish(run: Path, data: Path, out: Path = DEFAULT_OUT) -> Manifest:
    """Copy the adapter of ``run`` into ``out`` with a manifest; returns the manifest.

    Raises:
        FileNotFoundError: the run is not a LoRA run folder, or the data file is missing.
        ValueError: the adapter is larger than ``MAX_ADAPTER_BYTES``.
    """
    for name in (*FILES, "stage_config.json"):
        if not (run / name).exists():
            raise FileNotFoundError(f"{run} holds no {name}: publish takes a LoRA stage's output folder")
    if not data.is_file():
        raise FileNotFoundError(f"training data {data} does not exist")
    size = (run / "adapter_model.safetensors").stat().st_size
    if size > MAX_ADAPTER_BYTES:
        raise ValueError(
            f"the adapter is {size / 2**20:.1f} MiB, over the 10 MiB limit: lower lora.r or target fewer modules"
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(run / name, out / name)
    config = json.loads((run / "stage_config.json").read_text(encoding="utf-8"))
    (out / "stage_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    adapter = json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = config.get("kinds")
    command = run / COMMAND_FILE
    manifest = Manifest(
        base_model=adapter.get("base_model_name_or_path"),
        lora={k: adapter.get(k) for k in ("r", "lora_alpha", "lora_dropout", "target_modules")},
        adapter_sha256=sha256(out / "adapter_model.safetensors"),
        adapter_bytes=(out / "adapter_model.safetensors").stat().st_size,
        training_data=DataRecord(
            file=data.name,
            sha256=sha256(data),
            rows=len(rows),
            rows_used=sum(kinds is None or r.get("kind") in kinds for r in rows),
        ),
        config=config,
        command={
            "reproduce": REPRODUCE,
            "train": command.read_text(encoding="utf-8").strip() if command.exists() else None,
        },
        train=_metrics(run),
    )
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest


def _metrics(run: Path) -> dict[str, Any]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return {}
    logged = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    last = next((r for r in reversed(logged) if "train_runtime" in r), {})
    tokens = max((r.get("num_tokens", 0) for r in logged), default=0)
    losses = [r["loss"] for r in logged if "loss" in r]
    runtime = last.get("train_runtime")
    return {
        "steps": last.get("step"),
        "train_seconds": runtime,
        "tokens": tokens,
        "tokens_per_second": round(tokens / runtime, 1) if runtime else None,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
    }


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish_command(
        run: Annotated[Path, typer.Option("--run", help="a LoRA stage's output folder")],
        data: Annotated[Path, typer.Option("--data", help="the training data file the run read")],
        out: Annotated[Path, typer.Option("--out", help="where the server finds it")] = DEFAULT_OUT,
    ) -> None:
        """Copy a LoRA adapter with its config and a manifest (data sha256) to training/adapters/planner."""
        try:
            manifest = publish(run, data, out)
        except (FileNotFoundError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        size = manifest.adapter_bytes / 1e6
        typer.echo(f"published {out} ({size:.1f} MB, adapter sha256 {manifest.adapter_sha256[:12]}…)")
