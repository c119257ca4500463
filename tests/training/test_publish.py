"""`opsbrain train publish`: the adapter copied with a manifest that pins the data and the commands."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training import publish
from training.stages.cli import run_stage

TINY_SFT = Path("training/configs/tiny/sft.yaml")


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path, training_data: Path) -> Path:
    """One LoRA SFT step on the tiny model, started the way the CLI starts it (command recorded)."""
    out = tmp_path_factory.mktemp("lora-run")
    overrides = [
        f"model={tiny_base}",
        "trainer.max_steps=1",
        "trainer.per_device_train_batch_size=1",
        "trainer.save_strategy=no",
        "trainer.report_to=[]",
        "lora.r=4",
        "lora.alpha=8",
    ]
    command = "opsbrain train sft --config training/configs/tiny/sft.yaml"
    return run_stage("sft", TINY_SFT, overrides, training_data, out, command)


def test_publish_writes_the_adapter_and_a_manifest_with_the_data_hash(
    lora_run: Path, training_data: Path, tmp_path: Path
) -> None:
    data = training_data / "sft.jsonl"
    out = tmp_path / "planner"
    result = CliRunner().invoke(
        _app(), ["train", "publish", "--run", str(lora_run), "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {*publish.FILES, "stage_config.json", "manifest.json"}
    manifest = publish.Manifest.model_validate_json((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.training_data.sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (
        manifest.training_data.rows == manifest.training_data.rows_used == len(data.read_text().splitlines())
    )
    weights = (out / "adapter_model.safetensors").read_bytes()
    assert manifest.adapter_sha256 == hashlib.sha256(weights).hexdigest()
    assert manifest.adapter_bytes == len(weights) <= publish.MAX_ADAPTER_BYTES
    assert manifest.command == {
        "reproduce": "bash scripts/train_planner.sh",
        "train": "opsbrain train sft --config training/configs/tiny/sft.yaml",
    }
    assert manifest.config["stage"] == "sft" and manifest.config["lora"]["r"] == 4
    assert manifest.lora["r"] == 4 and manifest.train["steps"] == 1
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4


def test_publish_refuses_a_full_model_run_a_missing_file_and_a_large_adapter(
    lora_run: Path, training_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = training_data / "sft.jsonl"
    with pytest.raises(FileNotFoundError, match="LoRA stage"):
        publish.publish(tmp_path, data, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        publish.publish(lora_run, tmp_path / "none.jsonl", tmp_path / "out")
    monkeypatch.setattr(publish, "MAX_ADAPTER_BYTES", 1000)
    with pytest.raises(ValueError, match="over the 10 MiB limit"):
        publish.publish(lora_run, data, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-published


def _app():  # the full CLI, as the script calls it
    from opsbrain.cli import app

    return app
