"""The training stages on the tiny model: pt → sft → rm → ppo chain, dpo, grpo, LoRA merge, resume,
the shared-prefix loss, dtype choice, config errors. CPU only, tiny sizes; every stage runs for
real (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.planner import slots
from serving.planner.llm.backends import LocalBackend
from serving.planner.llm.parser import LLMParser, compact_object
from serving.planner.llm.prompt import render
from serving.tools import PLAN_ADAPTER
from tests.training.conftest import PLANS, QUESTIONS, encode
from training import common
from training.config import ConfigError, load_config
from training.stages.cli import run_stage
from training.stages.rewards import EXACT_BONUS, INVALID, CompactDecoder

TINY = Path("training/configs/tiny")
FAST = ["trainer.logging_steps=1", "trainer.save_strategy=no", "trainer.report_to=[]"]


def stage(name: str, out: Path, data: Path, *overrides: str) -> Path:
    return run_stage(name, TINY / f"{name}.yaml", [*FAST, *overrides], data, out)


def metrics(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, training_data: Path, tiny_base: Path) -> dict[str, Path]:
    """pt → sft → rm → ppo with the tiny configs, shortened by overrides."""
    runs = tmp_path_factory.mktemp("runs")
    out: dict[str, Path] = {}
    # pretraining on the fixture's planner transcripts (cheap 64-token blocks) teaches the random
    # tiny model the compact plan; SFT then learns to write it after the parser's real prompt
    out["pt"] = stage(
        "pt",
        runs / "pt",
        training_data,
        f"model={tiny_base}",
        "trainer.max_steps=80",
        "trainer.max_length=64",
        "trainer.learning_rate=5e-3",
    )
    out["sft"] = stage(
        "sft",
        runs / "sft",
        training_data,
        f"model={out['pt']}",
        "trainer.max_steps=30",
        "trainer.per_device_train_batch_size=1",
        "trainer.learning_rate=3e-3",
    )
    out["rm"] = stage("rm", runs / "rm", training_data, f"model={out['sft']}", "trainer.max_steps=30")
    out["ppo"] = stage(
        "ppo",
        runs / "ppo",
        training_data,
        f"model={out['sft']}",
        f"reward_model={out['rm']}",
        "trainer.total_episodes=4",
        "trainer.per_device_train_batch_size=2",
        "trainer.num_mini_batches=2",
        "trainer.local_rollout_forward_batch_size=2",
        "trainer.response_length=16",
        "trainer.learning_rate=1e-6",
    )
    return out


# ------------------------------------------------------------------------------------ the chain
def test_each_stage_output_loads(chain: dict[str, Path]) -> None:
    for name in ("pt", "sft", "ppo"):
        model = common.load_causal_lm(chain[name])
        assert model.config.architectures == ["Qwen2ForCausalLM"], name
        assert common.load_tokenizer(chain[name]).eos_token == "<|im_end|>"
    reward = common.load_sequence_classifier(chain["rm"])
    assert reward.config.num_labels == 1
    for name in ("pt", "sft", "rm"):
        logged = metrics(chain[name])
        assert any("loss" in row for row in logged), name
        assert json.loads((chain[name] / "stage_config.json").read_text())["stage"] == name


def test_sft_lowers_loss_on_the_completion(chain: dict[str, Path]) -> None:
    losses = [row["loss"] for row in metrics(chain["sft"]) if "loss" in row]
    assert losses[-1] < 0.3 * losses[0], losses


def test_reward_model_prefers_correct_plans_on_held_out_pairs(
    chain: dict[str, Path], training_data: Path
) -> None:
    from training.stages.rm import score

    tokenizer = common.load_tokenizer(chain["rm"])
    margins = []
    for row in common.read_jsonl(training_data / "rm_heldout.jsonl"):
        pair = common.preference_example(tokenizer, row)
        chosen, rejected = score(
            chain["rm"], chain["rm"], [pair["prompt"] + pair["chosen"], pair["prompt"] + pair["rejected"]]
        )
        margins.append(chosen - rejected)
    assert sum(m > 0 for m in margins) >= 2, margins
    assert sum(margins) / len(margins) > 0, margins


def test_final_model_serves_its_own_plans(chain: dict[str, Path], parser_view) -> None:
    """The PPO output behind the LLM parser, grammar-constrained, on the pipeline the data came from."""
    pipeline = parser_view.pipeline
    backend = LocalBackend(chain["ppo"], max_new_tokens=64, dtype="float32")
    llm = LLMParser(backend, parser_view.catalog, pipeline.intents, parser_view.parser.as_of)
    saved = pipeline.llm
    pipeline.llm = llm
    try:
        ctx = pipeline.understand("今年药占比多少")
    finally:
        pipeline.llm = saved
    assert ctx.parser == "llm" and llm.stats.planned == 1, llm.stats.as_dict()
    assert ("indicator", "药占比") in slots(ctx.plan)  # the trained choice among the candidates


# ------------------------------------------------------------------------------------ alternatives
def test_dpo_runs_a_few_steps(chain: dict[str, Path], training_data: Path, tmp_path: Path) -> None:
    out = stage(
        "dpo",
        tmp_path / "dpo",
        training_data,
        f"model={chain['sft']}",
        "trainer.max_steps=2",  # the config's max_length: the parser's prompt alone is ~500 tokens
    )
    assert any("loss" in row for row in metrics(out))
    assert common.load_causal_lm(out) is not None


def test_grpo_runs_with_the_plan_reward(
    chain: dict[str, Path], training_data: Path, tmp_path: Path, demo_db_path: Path
) -> None:
    out = stage(
        "grpo",
        tmp_path / "grpo",
        training_data,
        f"model={chain['sft']}",
        "trainer.max_steps=1",
        "trainer.per_device_train_batch_size=2",
        "trainer.num_generations=2",
        "trainer.max_completion_length=16",
        f"warehouse={demo_db_path}",
        "embedding_mapper=false",
    )
    rewards = [row for row in metrics(out) if "rewards/plan_reward/mean" in row]
    assert rewards and rewards[0]["rewards/plan_reward/mean"] >= INVALID
    assert common.load_causal_lm(out) is not None


def test_compact_reward_orders_invalid_partial_exact(parser_view) -> None:
    """A right and a wrong completion of one question score differently, through compact.decode."""
    question, gold = QUESTIONS[1][0], PLAN_ADAPTER.validate_python(PLANS[1][1])
    right = encode(parser_view, question, PLANS[1][1])
    decoder = CompactDecoder(parser_view)
    exact = decoder.reward(right.text, question, [], gold)
    partial = decoder.reward(json.dumps({**right.target, "compare": []}), question, [], gold)
    wrong_kind = decoder.reward(
        json.dumps({"intent": "refuse", "category": "out_of_scope"}), question, [], gold
    )
    not_a_choice = decoder.reward(
        json.dumps({**right.target, "indicators": ["床位使用率"]}), question, [], gold
    )
    broken = decoder.reward(right.text[:20], question, [], gold)
    assert exact == 1 + EXACT_BONUS and not_a_choice == broken == INVALID
    assert exact > partial > wrong_kind > broken, (exact, partial, wrong_kind, broken)
    assert decoder.plan(right.text, question, []) is not None


# ------------------------------------------------------------------------------------ LoRA, merge, resume
def lora_sft(base: Path, data: Path, out: Path, *overrides: str) -> Path:
    """A few LoRA SFT steps on the tiny base (r=4, alpha=8), a high rate so the adapter changes outputs."""
    settings = [
        "trainer.per_device_train_batch_size=1",
        "trainer.learning_rate=5e-2",
        "lora.r=4",
        "lora.alpha=8",
    ]
    return stage("sft", out, data, f"model={base}", *settings, *overrides)


def test_lora_merge_gives_the_same_greedy_output(
    tiny_base: Path, training_data: Path, tmp_path: Path
) -> None:
    import torch
    from peft import PeftModel

    from opsbrain.cli import app

    adapter = lora_sft(tiny_base, training_data, tmp_path / "lora", "trainer.max_steps=2", "lora.dropout=0")
    assert common.is_adapter(adapter)
    merged = tmp_path / "merged"
    result = CliRunner().invoke(
        app, ["model", "merge", "--base", str(tiny_base), "--adapter", str(adapter), "--out", str(merged)]
    )
    assert result.exit_code == 0, result.output
    tokenizer = common.load_tokenizer(adapter)
    base = common.load_causal_lm(tiny_base)
    unmerged = PeftModel.from_pretrained(common.load_causal_lm(tiny_base), adapter).eval()
    full = common.load_causal_lm(merged).eval()
    differs = False
    for row in common.read_jsonl(training_data / "prompts.jsonl"):
        ids = tokenizer(render(tokenizer, row["prompt"]), return_tensors="pt", add_special_tokens=False)
        kwargs = {"max_new_tokens": 8, "do_sample": False, "pad_token_id": tokenizer.pad_token_id}
        with torch.inference_mode():
            a = unmerged.generate(**ids, **kwargs)
            b = full.generate(**ids, **kwargs)
            differs |= not torch.equal(base.generate(**ids, **kwargs), b)
        assert torch.equal(a, b), row["question"]
    assert differs, "the adapter changed nothing: the comparison would prove nothing"


def test_resume_continues_from_the_last_checkpoint(
    tiny_base: Path, training_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pt"
    common_args = [
        f"model={tiny_base}",
        "trainer.max_length=32",
        "trainer.per_device_train_batch_size=1",
        "trainer.save_strategy=steps",
        "trainer.save_steps=2",
    ]
    stage("pt", out, training_data, *common_args, "trainer.max_steps=2")
    assert (out / "checkpoint-2").is_dir()
    (out / "metrics.jsonl").unlink()
    stage("pt", out, training_data, *common_args, "trainer.max_steps=3", "resume=true")
    steps = [row["step"] for row in metrics(out) if "loss" in row]
    assert steps == [3], steps  # steps 1–2 came from the checkpoint, not trained again
    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3


# ------------------------------------------------------------------------------------ config and CLI
def test_config_typo_names_the_right_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"trainer\.learnig_rate.*did you mean learning_rate"):
        load_config(TINY / "sft.yaml", ["trainer.learnig_rate=1e-4"])
    with pytest.raises(ConfigError, match=r"unknown key `modle`.*`model`.*the keys are: stage, name, model"):
        load_config(TINY / "sft.yaml", ["modle=x"])
    with pytest.raises(ConfigError, match=r"lora\.rank"):
        load_config(TINY / "sft.yaml", ["lora.rank=4"])
    with pytest.raises(ConfigError, match="is a `sft` config, not `rm`"):
        load_config(TINY / "sft.yaml", stage="rm")
    cfg = load_config(TINY / "sft.yaml", ["trainer.learning_rate=1e-4", "lora=null"])
    assert cfg.trainer["learning_rate"] == 1e-4 and cfg.lora is None


@pytest.mark.parametrize("path", sorted(Path("training/configs").glob("[!a]*/*.yaml")), ids=str)
def test_every_checked_in_stage_config_loads(path: Path) -> None:
    # trainer keys are checked against the stage's trl config class: a config that drifted from the
    # pinned trl fails here, not an hour into a demo run
    cfg = load_config(path)
    assert cfg.stage == path.stem and cfg.trainer


def test_cli_reports_config_errors_and_has_help() -> None:
    from opsbrain.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["train", "sft", "--config", str(TINY / "sft.yaml"), "--set", "trainer.max_step=1"]
    )
    assert result.exit_code == 2 and "did you mean max_steps" in result.output
    for command in ("pt", "sft", "rm", "ppo", "dpo", "grpo"):
        assert runner.invoke(app, ["train", command, "--help"]).exit_code == 0
    assert runner.invoke(app, ["model", "merge", "--help"]).exit_code == 0


def test_sft_prompt_is_the_serving_prompt(tiny_base: Path, training_data: Path) -> None:
    tokenizer = common.load_tokenizer(tiny_base)
    row = common.read_jsonl(training_data / "sft.jsonl")[0]
    example = common.sft_example(tokenizer, row)
    assert example["prompt"] == render(tokenizer, row["messages"][:-1], add_generation_prompt=True)
    assert example["prompt"].endswith("<|im_start|>assistant\n")
    assert example["completion"].endswith("<|im_end|>")
    assert compact_object(example["completion"].removesuffix("<|im_end|>"))["intent"] == "figure"


def test_shared_prefix_loss_is_the_plain_loss(tiny_base: Path, training_data: Path) -> None:
    """The system prompt run once for the batch gives the same loss as every row run whole."""
    import torch

    from training.stages.prefix import shared_prefix_ids, shared_prefix_loss

    tokenizer = common.load_tokenizer(tiny_base)
    model = common.load_causal_lm(tiny_base).eval()
    rows = common.read_jsonl(training_data / "sft.jsonl")[:3]
    prefix = shared_prefix_ids(tokenizer, rows[0]["messages"][:1])
    encoded = []
    for row in rows:
        example = common.sft_example(tokenizer, row)
        prompt = tokenizer(example["prompt"], add_special_tokens=False)["input_ids"]
        full = tokenizer(example["prompt"] + example["completion"], add_special_tokens=False)["input_ids"]
        assert full[: len(prefix)] == prefix and full[: len(prompt)] == prompt
        encoded.append((full, [-100] * len(prompt) + full[len(prompt) :]))
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.tensor([f + [0] * (width - len(f)) for f, _ in encoded])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in encoded])
    mask = torch.tensor([[1] * len(f) + [0] * (width - len(f)) for f, _ in encoded])
    with torch.no_grad():
        plain = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        cached, _, target = shared_prefix_loss(model, ids, mask, labels, len(prefix))
    assert len(target) == int((labels[:, 1:] != -100).sum())
    assert torch.allclose(plain, cached, atol=1e-4), (plain, cached)


def test_dtype_follows_the_hardware_and_the_lora(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from serving.planner.llm import backends

    monkeypatch.setattr(common, "use_cuda", lambda: False)
    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: True)
    assert common.choose_dtype("auto", lora=True) == torch.bfloat16
    assert common.choose_dtype("auto", lora=False) == torch.float32  # full fine-tuning stays fp32
    assert common.choose_dtype("float32", lora=True) == torch.float32
    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: False)
    assert common.choose_dtype("auto", lora=True) == torch.float32


def test_trainer_args_say_gradient_checkpointing(tmp_path: Path) -> None:
    from trl import SFTConfig

    cfg = load_config(Path("training/configs/planner/sft.yaml"))
    assert common.trainer_args(SFTConfig, cfg, tmp_path).gradient_checkpointing is False


def test_a_lora_sft_adapter_loads_under_a_score_head(
    tiny_base: Path, training_data: Path, tmp_path: Path
) -> None:
    """rm/ppo start from the SFT output; a LoRA SFT run leaves a causal-LM adapter, not a full model."""
    import torch

    adapter = lora_sft(tiny_base, training_data, tmp_path / "lora", "trainer.max_steps=1")
    classifier = common.load_sequence_classifier(adapter)
    causal = common.load_causal_lm(adapter)  # merged the usual way
    plain = common.load_causal_lm(tiny_base)
    name = "layers.0.self_attn.q_proj.weight"
    merged_weight = classifier.model.state_dict()[name]
    assert torch.equal(merged_weight, causal.model.state_dict()[name])  # the adapter was merged in
    assert not torch.equal(merged_weight, plain.model.state_dict()[name])  # and it changed something
