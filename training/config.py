"""Stage configs: a checked-in YAML file, command-line overrides, one validated pydantic model.

A file (training/configs/tiny/sft.yaml) names the stage, the model and the data; a ``lora`` section
(absent or null: full fine-tuning); a ``trainer`` section passed to the trl config class of the stage
(SFTConfig, RewardConfig, PPOConfig, DPOConfig, GRPOConfig; transformers' TrainingArguments fields
included). Overrides are dotted paths with YAML values::

    --set trainer.learning_rate=1e-4 --set lora=null --set model=runs/sft-demo

Every key is checked, ``trainer`` keys against the trl class itself: a typo is an error that names
the keys that exist (and the closest one), never a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Stage = Literal["pt", "sft", "rm", "ppo", "dpo", "grpo"]
STAGES: tuple[str, ...] = ("pt", "sft", "rm", "ppo", "dpo", "grpo")


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says what to change."""


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1, description="adapter rank")
    alpha: int = Field(32, ge=1, description="scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | str = Field("all-linear", description="peft target_modules")


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    name: str = Field("run", description="run name: the output is runs/<stage>-<name> unless --out")
    model: str = Field(description="`tiny`, a local Hugging Face folder, or an earlier stage's output")
    data: str = Field(description="file name inside the data folder (--data), e.g. sft.jsonl")
    max_examples: int | None = Field(None, ge=1, description="use only the first N examples")
    kinds: list[str] | None = Field(
        None, description="use only rows of these kinds (sft.jsonl: plan, answer; rm.jsonl: plan, answer)"
    )
    seed: int = 42
    lora: LoraSettings | None = Field(None, description="absent/null: full fine-tuning")
    gradient_checkpointing: bool = False
    dtype: Literal["auto", "bfloat16", "float32"] = Field(
        "auto",
        description="weights' dtype; auto: bf16 on a GPU, and on a CPU with bf16 instructions "
        "(AVX-512 BF16, AMX) when only a LoRA adapter is trained; else fp32",
    )
    continue_adapter: bool = Field(
        False,
        description="sft/dpo/grpo: `model` is a LoRA adapter folder whose weights go on training (one "
        "adapter on the base, publishable as the planner's), instead of merging it and adding a new one",
    )
    prefix_cache: bool = Field(
        False,
        description="sft: compute the system prompt shared by every row once per batch, without "
        "gradients, as the server caches it (training/stages/prefix.py)",
    )
    resume: bool = Field(False, description="continue from the newest checkpoint in the run folder")
    trainer: dict[str, Any] = Field(default_factory=dict, description="fields of the stage's trl config")
    # ppo: the reward model (stage rm's output) and the value model's start (default: the same)
    reward_model: str | None = None
    value_model: str | None = None
    # grpo: run both plans' indicator queries against the warehouse for an execution bonus
    execute_queries: bool = False
    # grpo: the reward maps each prompt's question again (serving pipeline) to decode completions
    warehouse: str | None = Field(None, description="grpo: warehouse file or URL; default the settings'")
    embedding_mapper: bool = Field(
        True,
        description="grpo: map questions with the knowledge base's embedding model, as the data was built",
    )

    @model_validator(mode="after")
    def _one_adapter(self) -> StageConfig:
        if self.continue_adapter and self.lora is not None:
            raise ValueError("continue_adapter trains the adapter `model` names: leave `lora` out")
        return self

    def output_dir(self, out: str | Path | None = None) -> Path:
        return Path(out) if out else Path("runs") / f"{self.stage}-{self.name}"


def trainer_class(stage: str) -> type:
    """The trl config class whose fields a stage's ``trainer`` section may set."""
    if stage in ("pt", "sft"):
        from trl import SFTConfig

        return SFTConfig
    if stage == "rm":
        from trl import RewardConfig

        return RewardConfig
    if stage == "dpo":
        from trl import DPOConfig

        return DPOConfig
    if stage == "grpo":
        from trl import GRPOConfig

        return GRPOConfig
    from training.common import quiet_trl

    quiet_trl()
    from trl.experimental.ppo import PPOConfig

    return PPOConfig


def load_config(
    path: str | Path, overrides: list[str] | None = None, stage: str | None = None
) -> StageConfig:
    """Read ``path``, apply ``KEY=VALUE`` overrides, validate (``trainer`` keys against trl too).

    Raises:
        ConfigError: missing file, bad YAML, unknown or invalid key, a stage other than ``stage``.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist (see training/configs/)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    for item in overrides or []:
        apply_override(raw, item)
    if stage is not None:
        raw.setdefault("stage", stage)
        if raw["stage"] != stage:
            raise ConfigError(f"{path} is a `{raw['stage']}` config, not `{stage}`")
    try:
        cfg = StageConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(path, exc)) from None
    check_trainer_keys(cfg.stage, cfg.trainer, path)
    return cfg


def apply_override(raw: dict[str, Any], item: str) -> None:
    """``a.b=value`` sets raw["a"]["b"] (value parsed as YAML: 1e-4, null, [q_proj, v_proj])."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} is not KEY=VALUE (e.g. trainer.learning_rate=1e-4)")
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override {item!r}: `{part}` is not a section")
        node = child
    node[parts[-1]] = _parse_value(value)


def _parse_value(value: str) -> Any:
    if value.strip().lower() in ("yes", "no", "on", "off", "y", "n"):
        return value.strip()  # YAML 1.1 booleans; `save_strategy=no` means the string
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str):
        # YAML 1.1 reads `1e-4` (no dot) as text; on a command line it is always meant as a number
        try:
            return float(parsed)
        except ValueError:
            return parsed
    return parsed


def check_trainer_keys(stage: str, trainer: dict[str, Any], path: Path) -> None:
    known = {f.name for f in dataclasses.fields(trainer_class(stage))}
    for key in trainer:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"{path}: unknown trainer key `trainer.{key}` for stage {stage}{hint} "
                f"(the keys are the fields of trl's {trainer_class(stage).__name__})"
            )


def _explain(path: Path, exc: ValidationError) -> str:
    known = ", ".join(StageConfig.model_fields)
    lora = ", ".join(LoraSettings.model_fields)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            keys = lora if where.startswith("lora.") else known
            close = difflib.get_close_matches(str(err["loc"][-1]), keys.split(", "), n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            problems.append(f"unknown key `{where}`{hint}; the keys are: {keys}")
            known = lora = "…"  # list the keys once
        else:
            problems.append(f"`{where}`: {err['msg']}")
    return f"{path}: " + "; ".join(problems)
