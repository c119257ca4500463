"""Reading the evaluation sets: JSONL files shipped in evals/datasets/, one validated object per line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def dataset_file(name: str) -> Path:
    return Path(str(resources.files("evals").joinpath(f"datasets/{name}")))


def load_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every non-empty line as ``model``; a bad line fails with its file and line number."""
    items: list[M] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(model.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from None
    return items


def write_report(report: BaseModel, markdown: str, out: Path, stem: str) -> dict[str, Path]:
    """``stem``.json (the whole report) and ``stem``.md (its table) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
    paths["markdown"].write_text(markdown)
    return paths
