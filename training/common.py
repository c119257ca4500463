"""What every training stage shares: models, tokenizers, LoRA, data, seeds, dtype, metrics.

The stages (training/stages/*.py) are thin: config → data → trainer → train → save. Everything they
have in common lives here, once, so that a stage cannot drift from the others (a different chat
template, a different dtype rule, a different way to load an adapter).

Chat template: conversations are rendered with :func:`serving.planner.llm.prompt.render`, the
function the ``llm`` planner uses at inference. trl then sees plain strings (prompt–completion,
prompt/chosen/rejected), never messages, so trl's own template handling cannot differ from serving.
"""

from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.planner.llm.prompt import Message, render

if TYPE_CHECKING:  # heavy imports only inside functions: the CLI must start fast
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback

log = logging.getLogger("opsbrain.training")

TINY = "tiny"
TINY_FOLDER = Path("data/models/tiny-qwen2")
ADAPTER_CONFIG = "adapter_config.json"


# ----------------------------------------------------------------------------- environment
def set_seed(seed: int) -> None:
    """Python, NumPy and torch (all devices) seeded: the same config gives the same run on CPU."""
    from transformers import set_seed as hf_set_seed

    random.seed(seed)
    hf_set_seed(seed)


def use_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_dtype(requested: str = "auto", lora: bool = False) -> Any:
    """The weights' dtype. ``auto``: bf16 on a GPU (half the memory, fp32 range); on a CPU bf16 only
    when it has bf16 instructions (AVX-512 BF16 or AMX: ~10× the fp32 matmul speed; emulated and
    slow elsewhere) and only a LoRA adapter is trained (its weights stay fp32; full fine-tuning of
    bf16 weights on CPU would round small updates away), fp32 otherwise."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if use_cuda():
        return torch.bfloat16
    from serving.planner.llm.backends import cpu_supports_bf16

    return torch.bfloat16 if lora and cpu_supports_bf16() else torch.float32


def stage_dtype(cfg: Any) -> Any:
    """The dtype a stage loads its models in (``cfg.dtype``, its LoRA section)."""
    return choose_dtype(cfg.dtype, lora=cfg.lora is not None)


def quiet_trl() -> None:
    # PPO lives in trl.experimental (trl 1.12.0 is pinned for it): the warning says nothing new
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub here: fail fast instead of retrying


# ----------------------------------------------------------------------------- models
def resolve_model(name: str) -> Path:
    """A model folder for ``name``: ``tiny`` (built once into data/models/tiny-qwen2) or a path."""
    if name == TINY:
        if not (TINY_FOLDER / "config.json").exists():
            from serving.planner.llm.tiny import build_tiny_model

            log.info("building the tiny model into %s", TINY_FOLDER)
            build_tiny_model(TINY_FOLDER)
        return TINY_FOLDER
    folder = Path(name)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"model folder {folder} does not exist: give `tiny`, a local Hugging Face folder, or the "
            "output folder of an earlier stage (nothing is downloaded from a hub)"
        )
    return folder


def is_adapter(folder: Path) -> bool:
    return (folder / ADAPTER_CONFIG).exists()


def base_of_adapter(folder: Path) -> Path:
    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    return resolve_model(config["base_model_name_or_path"])


def load_tokenizer(name: str | Path) -> PreTrainedTokenizerBase:
    """The folder's tokenizer (an adapter's own copy first), with a pad token that is not EOS-less."""
    from transformers import AutoTokenizer

    folder = resolve_model(str(name))
    if is_adapter(folder) and not (folder / "tokenizer_config.json").exists():
        folder = base_of_adapter(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:  # batching needs one; EOS is the usual stand-in
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(
    name: str | Path, gradient_checkpointing: bool = False, dtype: Any = None
) -> PreTrainedModel:
    """A causal LM; an adapter folder (a LoRA stage's output) is merged into its base first.

    Merging makes each stage's input an ordinary model whatever the previous stage was (LoRA or
    full), so a new LoRA can be trained on top of a LoRA-trained SFT model.
    """
    from transformers import AutoModelForCausalLM

    return _load(AutoModelForCausalLM, resolve_model(str(name)), gradient_checkpointing, dtype=dtype)


def load_policy(cfg: Any) -> PreTrainedModel:
    """A stage's policy: with ``continue_adapter`` the adapter folder loaded trainable on its base
    (its LoRA weights in fp32), else :func:`load_causal_lm`."""
    if not cfg.continue_adapter:
        return load_causal_lm(cfg.model, cfg.gradient_checkpointing, stage_dtype(cfg))
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    folder = resolve_model(cfg.model)
    if not is_adapter(folder):
        raise ValueError(f"continue_adapter needs a LoRA adapter folder; {folder} holds a full model")
    dtype = choose_dtype(cfg.dtype, lora=True)
    base = AutoModelForCausalLM.from_pretrained(base_of_adapter(folder), dtype=dtype)
    model = PeftModel.from_pretrained(base, folder, is_trainable=True)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    return model


def load_sequence_classifier(
    name: str | Path, gradient_checkpointing: bool = False, dtype: Any = None
) -> PreTrainedModel:
    """A one-score sequence classifier (reward and value models); a new ``score`` head if absent."""
    from transformers import AutoModelForSequenceClassification

    model = _load(
        AutoModelForSequenceClassification,
        resolve_model(str(name)),
        gradient_checkpointing,
        dtype=dtype,
        num_labels=1,
    )
    if model.config.pad_token_id is None:  # the score is read at the last non-pad token
        model.config.pad_token_id = load_tokenizer(name).pad_token_id
    return model


def _load(
    auto: Any, folder: Path, gradient_checkpointing: bool, dtype: Any = None, **kwargs: Any
) -> PreTrainedModel:
    import torch

    dtype = dtype or choose_dtype()
    if is_adapter(folder):
        from peft import PeftConfig, PeftModel

        # merged in fp32 and rounded once, as the server merges it (LocalBackend)
        base = auto.from_pretrained(base_of_adapter(folder), dtype=torch.float32, **kwargs)
        config = PeftConfig.from_pretrained(folder)
        if config.task_type != _task_type(base):
            # e.g. a LoRA SFT adapter (CAUSAL_LM) under the reward model's new score head: peft's
            # task wrapper would expect the other head, the plain PeftModel does not, and the
            # adapter's backbone weights (model.layers.*) line up in both classes
            config.task_type = None
        model = PeftModel.from_pretrained(base, folder, config=config).merge_and_unload().to(dtype)
    else:
        model = auto.from_pretrained(folder, dtype=dtype, **kwargs)
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False  # the cache is useless with checkpointing and warns
    return model


def _task_type(model: Any) -> str:
    return "SEQ_CLS" if type(model).__name__.endswith("ForSequenceClassification") else "CAUSAL_LM"


def lora_config(settings: Any, task_type: str) -> Any:
    """A peft LoraConfig from the stage's ``lora`` section (None: full fine-tuning)."""
    if settings is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type=task_type,
        # a reward/value head is new: it must be trained and saved in full, not adapted
        modules_to_save=["score"] if task_type == "SEQ_CLS" else None,
    )


# ----------------------------------------------------------------------------- data
def read_rows(path: Path, cfg: Any) -> list[dict[str, Any]]:
    """A stage's rows: those of ``cfg.kinds`` (all when None), the first ``cfg.max_examples``."""
    rows = read_jsonl(path)
    if cfg.kinds is not None:
        rows = [r for r in rows if r.get("kind") in cfg.kinds]
        if not rows:
            raise ValueError(f"{path} holds no rows of kind {cfg.kinds}")
    return rows[: cfg.max_examples] if cfg.max_examples else rows


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: build it with `opsbrain train data` or pass --data")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if limit is not None and len(rows) >= limit:
                break
    if not rows:
        raise ValueError(f"{path} holds no examples")
    return rows


def prompt_text(tokenizer: Any, messages: list[Message]) -> str:
    """The inference prompt: serving's render with the assistant turn opened."""
    return render(tokenizer, messages, add_generation_prompt=True)


def sft_example(tokenizer: Any, row: dict[str, Any]) -> dict[str, str]:
    """sft.jsonl row → trl prompt–completion: loss on the last (assistant) message only."""
    messages = row["messages"]
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError("an SFT example must end with the assistant message it teaches")
    return {
        "prompt": prompt_text(tokenizer, messages[:-1]),
        "completion": messages[-1]["content"] + tokenizer.eos_token,
    }


def preference_example(tokenizer: Any, row: dict[str, Any]) -> dict[str, str]:
    """rm.jsonl row → trl's standard (string) preference format, for RewardTrainer and DPOTrainer."""
    return {
        "prompt": prompt_text(tokenizer, row["prompt"]),
        "chosen": row["chosen"][-1]["content"] + tokenizer.eos_token,
        "rejected": row["rejected"][-1]["content"] + tokenizer.eos_token,
    }


def to_dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)


# ----------------------------------------------------------------------------- trainer arguments
def trainer_args(config_class: type, cfg: Any, out: Path, **fixed: Any) -> Any:
    """The trl/transformers config for a stage: shared defaults < the YAML's ``trainer`` < ``fixed``.

    Unknown keys in ``trainer`` were already refused by training.config (against the same class).
    """
    cuda = use_cuda()
    values: dict[str, Any] = {
        "output_dir": str(out),
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "bf16": cuda,  # fp32 on CPU
        "report_to": ["tensorboard"],
        "logging_dir": str(out / "tensorboard"),
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": 50,
        "save_total_limit": 2,
        "use_cpu": not cuda,
        "dataloader_num_workers": 0,
    }
    # always said: trl's configs default to True, which silently recomputed every forward pass
    # (about a third more time) in runs whose YAML said `gradient_checkpointing: false`
    values["gradient_checkpointing"] = cfg.gradient_checkpointing
    values.update(cfg.trainer)
    values.update(fixed)
    if "logging_dir" not in _fields(config_class):
        values.pop("logging_dir")
    return config_class(**values)


def _fields(config_class: type) -> set[str]:
    import dataclasses

    return {f.name for f in dataclasses.fields(config_class)}


def last_checkpoint(out: Path) -> str | None:
    """The newest ``checkpoint-N`` in the run folder, to resume from (None: start fresh)."""
    checkpoints = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def metrics_callback(out: Path) -> TrainerCallback:
    """Appends every logged dict (loss, lr, reward, tokens/s…) to ``out/metrics.jsonl``.

    TensorBoard gets the same numbers through ``report_to``; the JSONL is for scripts and tests.
    """
    import time

    from transformers import TrainerCallback

    class MetricsJsonl(TrainerCallback):
        def __init__(self) -> None:
            self.path = out / "metrics.jsonl"
            self.started = time.perf_counter()

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any
        ) -> None:
            if not state.is_world_process_zero or not logs:
                return
            record = {"step": state.global_step, "elapsed_s": round(time.perf_counter() - self.started, 3)}
            record.update({k: v for k, v in logs.items() if isinstance(v, int | float | str)})
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    return MetricsJsonl()


def fit(
    trainer_class: type,
    cfg: Any,
    out: Path,
    model: Any,
    tokenizer: Any,
    dataset: Any,
    args: Any,
    task_type: str = "CAUSAL_LM",
    **extra: Any,
) -> Path:
    """Build a trl trainer with the arguments every stage shares (LoRA, metrics), train and save.

    ``extra`` holds what only one trainer takes (DPO's ``ref_model``, GRPO's ``reward_funcs``).
    """
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=None if cfg.continue_adapter else lora_config(cfg.lora, task_type),
        callbacks=[metrics_callback(out)],
        **extra,
    )
    return train_and_save(trainer, tokenizer, out, cfg)


def train_and_save(trainer: Any, tokenizer: Any, out: Path, cfg: Any) -> Path:
    """Train (from the newest checkpoint when the config says resume), then save the run."""
    trainer.train(resume_from_checkpoint=last_checkpoint(out) if cfg.resume else None)
    return save_run(trainer, tokenizer, out, cfg)


def save_run(trainer: Any, tokenizer: Any, out: Path, cfg: Any) -> Path:
    """Model (or adapter), tokenizer and the resolved config in the run folder; returns it."""
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)  # the folder then serves on its own (LocalBackend, next stage)
    (out / "stage_config.json").write_text(cfg.model_dump_json(indent=2), encoding="utf-8")
    return out
