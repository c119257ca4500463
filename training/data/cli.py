"""`opsbrain train data`: build the training files (pt, sft, rm, prompts, report).

Example::

    opsbrain train data --out data/training --sft 2000 --rm 600 --prompts 300 --seed 0
    opsbrain train data --out data/training-planner --sft 2400 --answers 0   # plan conversations only
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add the data command(s) to ``app``."""
    app.command("data")(data)


def data(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("data/training"),
    sft: Annotated[
        int, typer.Option(help="generated items → plan conversations, one per turn (answers: a fifth more)")
    ] = 2000,
    answers: Annotated[
        int | None, typer.Option(help="tool results → answer examples (default: a fifth of --sft)")
    ] = None,
    rm: Annotated[int, typer.Option(help="preference pairs")] = 600,
    prompts: Annotated[int, typer.Option(help="PPO/GRPO prompts, disjoint from SFT")] = 300,
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 0,
    text_dir: Annotated[
        list[Path] | None, typer.Option(help="extra *.txt / *.jsonl (text field) for PT")
    ] = None,
    with_kb: Annotated[
        bool,
        typer.Option(
            help="open the policy knowledge base: cited answer examples, and its embedding model for "
            "the pipeline's embedding mapper (as the server has it)"
        ),
    ] = True,
) -> None:
    """Generate pt.jsonl, sft.jsonl, rm.jsonl, prompts.jsonl and report.json/report.md."""
    # heavy imports here, not at module level: `opsbrain --help` stays fast
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from indicators import Warehouse, default_catalog
    from opsbrain.settings import Settings
    from training.data.build import build_all

    config = Settings()
    warehouse = Warehouse(config.demo_warehouse_path)
    kb = _knowledge_base(config) if with_kb else None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bar:
        tasks: dict[str, int] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = build_all(
            out,
            warehouse,
            default_catalog(),
            kb=kb,
            sft_size=sft,
            answer_size=answers,
            rm_size=rm,
            prompts_size=prompts,
            seed=seed,
            extra_text_dirs=text_dir or [],
            progress=step,
        )
    typer.echo((out / "report.md").read_text(encoding="utf-8"))
    typer.echo(f"eval overlap {report['eval_overlap']}; files in {out}")


def _knowledge_base(config: Any) -> Any:  # Settings / KnowledgeBase: imported lazily
    """The configured knowledge base, indexed; None (answers without citations) when it cannot open."""
    try:
        from opsbrain.knowledge import ensure_indexed, open_knowledge_base

        kb = open_knowledge_base(config)
        ensure_indexed(kb, config)
        return kb
    except Exception as exc:  # a missing embedding model must not stop the data build
        typer.echo(f"knowledge base unavailable ({exc}); answer examples without policy results", err=True)
        return None
