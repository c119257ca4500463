"""The LLM parser: grammar-constrained decoding (every output a compact plan that decodes), forced
tokens without model steps, logits for the allowed rows only, the prefix KV cache, LoRA loading,
dtype selection, thread safety, the fallback to rules, and the OpenAI-compatible backend against
a real HTTP server; on the tiny random Qwen2 model and scripted backends."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import Counter
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from evals.planner import dataset_path, load_items, slots
from indicators import default_catalog
from serving.planner.llm import backends
from serving.planner.llm.backends import BackendError, LocalBackend, OpenAIBackend, resolve_dtype
from serving.planner.llm.compact import CLARIFY_SLOTS, decode, encode
from serving.planner.llm.parser import LLMParser, compact_object
from serving.planner.llm.prompt import render, to_text
from serving.planner.pipeline import Pipeline
from serving.tools import Turn
from tests.serving.llm_fixtures import (
    AS_OF,
    DATA_START,
    ScriptedBackend,
    free_port,
    small_dimensions,
    stub_openai_server,
    tiny_model_folder,
)

# routed to the model: 这个东西 and 咋样 are words no mapper explains
QUESTION = "药占比这个东西今年咋样了"
GOOD = to_text(
    {
        "intent": "figure",
        "indicators": ["药占比"],
        "time": "t1",
        "filters": [],
        "group_by": [],
        "compare": ["yoy"],
        "rank": "none",
    }
)


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def make_pipeline(backend, catalog) -> Pipeline:
    pipeline = Pipeline(catalog, small_dimensions(), AS_OF, DATA_START)
    pipeline.llm = LLMParser(backend, catalog, pipeline.intents, AS_OF)
    return pipeline


@pytest.fixture(scope="module")
def pipeline(catalog) -> Pipeline:
    """For preparing questions and requests (its parser's backend is never called)."""
    return make_pipeline(ScriptedBackend(), catalog)


@pytest.fixture(scope="module")
def rules(catalog) -> Pipeline:
    return Pipeline(catalog, small_dimensions(), AS_OF, DATA_START)


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(request, tmp_path_factory)


@pytest.fixture(scope="module")
def backend(tiny_model) -> LocalBackend:
    """fp32, so that its scores can be compared with full logits exactly; the prefix cache is
    switched off per test where a full run is wanted."""
    return LocalBackend(tiny_model, dtype="float32")


def random_questions(catalog, n: int, seed: int = 0) -> list[str]:
    """Questions put together from catalog names, periods, departments and endings: many intents,
    with and without candidates."""
    rng = random.Random(seed)
    names = sorted(i.name for i in catalog.indicators.values())
    times = ["今年", "去年", "上个月", "2022年", "今年一季度", "近三个月", "前年", ""]
    places = ["心内科", "东院区", "呼吸内科", "内科", "职工医保", "门诊", "王林华", "", ""]
    endings = [
        "是多少",
        "怎么算",
        "同比呢",
        "按月看",
        "各科室排名前五",
        "有哪些指标",
        "达标了吗",
        "咋样",
        "？",
        "",
    ]
    questions = []
    for _ in range(n):
        picked = rng.sample(names, rng.choice([0, 1, 1, 1, 2]))
        questions.append(rng.choice(times) + rng.choice(places) + "和".join(picked) + rng.choice(endings))
    return questions


def dev_conversations(splits: tuple[str, ...] = ("dev",)) -> list[list[Turn]]:
    return [
        [Turn(question=t.question, plan=t.gold) for t in item.turns]
        for split in splits
        for item in load_items(dataset_path(split))
    ]


ALL_INTENTS = {"figure", "figure_explain", "target_check", "definition", "not_available"} | {
    "policy",
    "catalog",
    "clarify",
    "refuse",
}


# ------------------------------------------------------------ the schema and the compact form
def test_schema_requires_every_field_and_offers_only_the_questions_choices(pipeline, catalog):
    ctx, reading = pipeline.prepare("今年心内科药占比多少，同比")
    _, schema, _ = pipeline.llm.request(ctx, reading)
    figure = schema["anyOf"][0]["properties"]
    assert figure["indicators"]["items"]["enum"] == ["药占比", "药占比@t1", "药占比@ytd"]
    assert figure["filters"]["items"]["enum"] == ["department:心血管内科"]
    assert figure["time"]["enum"] == ["t1", "ytd"]
    checked = 0
    for question in random_questions(catalog, 80, seed=3):
        ctx, reading = pipeline.prepare(question)
        if reading is None:
            continue
        _, schema, _ = pipeline.llm.request(ctx, reading)
        found = {c.value for c in ctx.candidates} | {"门诊", "急诊", "住院"}  # visit types are words
        intents: list[str] = []
        for shape in schema["anyOf"]:
            properties = shape["properties"]
            # a field with a default would let the grammar skip it: every one is required
            assert shape["required"] == list(properties) and shape["additionalProperties"] is False
            intents += properties["intent"].get("enum", [properties["intent"].get("const")])
            names = properties.get("indicators", {}).get("items", {}).get("enum", [])
            assert {n.partition("@")[0] for n in names} <= found, question
            values = properties.get("filters", {}).get("items", {}).get("enum", [])
            assert {v.partition(":")[2] for v in values if v != "-"} <= found, question
        assert len(intents) == len(set(intents))  # the intent alone says which shape follows
        assert "default" not in json.dumps(schema)
        checked += 1
    assert checked > 60


def test_decode_of_encode_gives_back_every_kind_of_plan(pipeline, catalog):
    """Gold plans of two dev splits: the compact form says the same as the plan (what SFT trains
    on decodes into the gold plan), and encoding the decoded plan gives the same object."""
    kinds: Counter[str] = Counter()
    for turns in dev_conversations(("dev", "dev2")):
        for n, turn in enumerate(turns):
            ctx, reading = pipeline.prepare(turn.question, turns[:n])
            if reading is None:
                continue
            _, _, choices = pipeline.llm.request(ctx, reading)
            target = encode(turn.plan, ctx, catalog, choices)
            if target is None:
                continue  # not expressible with this question's candidates
            expected = slots(turn.plan)
            if target["intent"] == "clarify":
                if not decodes(target, ctx, reading, pipeline, choices):
                    continue  # a group the small dimension index does not have (外科)
                expected = {s for s in expected if s[0] != "option"}  # its members differ too
            plan = decode(target, ctx, reading, pipeline.intents, choices)
            got = (
                slots(plan) if target["intent"] != "clarify" else {s for s in slots(plan) if s[0] != "option"}
            )
            assert got == expected, turn.question
            assert encode(plan, ctx, catalog, choices) == target, turn.question
            kinds[target["intent"]] += 1
    assert set(kinds) == ALL_INTENTS and sum(kinds.values()) > 400


# ---------------------------------------------------------------- constrained decoding
def test_every_constrained_output_is_a_schema_valid_plan_that_decodes(pipeline, backend, catalog):
    """Random scores walk every corner of the grammar: every output must validate against the
    question's schema and decode into a plan, for single questions and follow-ups."""
    rng = np.random.default_rng(0)
    cases = [(q, []) for q in random_questions(catalog, 150)]
    for turns in dev_conversations()[::3]:
        cases += [(turn.question, turns[:n]) for n, turn in enumerate(turns)]
    decoded, intents = 0, set()
    for question, history in cases:
        ctx, reading = pipeline.prepare(question, history)
        if reading is None:  # refused by the guard: no parser runs
            continue
        _, schema, choices = pipeline.llm.request(ctx, reading)
        for _ in range(2):
            out = backend.decoder.decode([0], schema, lambda tokens, allowed: rng.random(len(allowed)))
            obj = json.loads(out.text)
            jsonschema.validate(obj, schema)
            plan = decode(obj, ctx, reading, pipeline.intents, choices)
            assert plan.calls or plan.clarification or plan.refusal
            again = encode(plan, ctx, catalog, choices)  # the other way round: the plan said compactly
            assert again is not None and slots(
                decode(again, ctx, reading, pipeline.intents, choices)
            ) == slots(plan)
            decoded += 1
            intents.add(obj["intent"])
    assert decoded > 300
    assert intents == ALL_INTENTS


def test_the_tiny_model_plans_every_question_it_is_given(backend, catalog):
    """The real path (prompt, prefix cache, model, grammar, decode): 100% of answers decode."""
    recorder = Recorder(backend)
    pipeline = make_pipeline(recorder, catalog)
    pipeline.model_only = True  # every question goes to the model
    questions = random_questions(catalog, 24, seed=1)
    for question in questions:
        assert pipeline.understand(question).parser == "llm"
    stats = pipeline.llm.stats
    assert stats.questions == stats.planned == len(questions) and not stats.fallbacks
    for text, schema in recorder.outputs:
        jsonschema.validate(json.loads(text), schema)


def test_every_training_target_can_be_written_under_the_grammar(pipeline, backend, catalog):
    """The encoded gold plans of the dev split (what SFT trains on): a model that wants exactly the
    target gets exactly it, choosing tokens only at real choices."""
    targets = steps = tokens = 0
    for turns in dev_conversations():
        for n, turn in enumerate(turns):
            ctx, reading = pipeline.prepare(turn.question, turns[:n])
            if reading is None:
                continue
            _, schema, choices = pipeline.llm.request(ctx, reading)
            target = encode(turn.plan, ctx, catalog, choices)
            if target is None or not decodes(target, ctx, reading, pipeline, choices):
                continue  # not expressible with this question's candidates (small dimension index)
            out = backend.decoder.decode([], schema, teacher(to_text(target).encode(), backend.decoder))
            assert out.text == to_text(target)
            assert 0 < out.model_steps < len(out.tokens)
            targets += 1
            steps += out.model_steps
            tokens += len(out.tokens)
    assert targets > 200
    assert steps < 0.6 * tokens  # most tokens are forced: keys, quotes, the rest of each name


def decodes(obj, ctx, reading, pipeline, choices) -> bool:
    try:
        decode(obj, ctx, reading, pipeline.intents, choices)
    except ValueError:
        return False
    return True


def teacher(target: bytes, decoder):
    """A step that scores the allowed tokens by how much of ``target`` each writes from here (an
    empty prompt: every token it is fed is output, the choice it made last time first)."""
    written = bytearray()

    def step(tokens, allowed):
        written.extend(b"".join(decoder._token_bytes(t) for t in tokens))
        rest = target[len(written) :]
        pieces = [decoder._token_bytes(int(t)) for t in allowed]
        return np.array([len(p) if p and rest.startswith(p) else -1 for p in pieces], dtype=float)

    return step


def test_forced_tokens_are_appended_without_the_model(pipeline, backend):
    # a schema with one possible output: the model never runs
    only = {
        "type": "object",
        "properties": {"intent": {"const": "policy"}},
        "required": ["intent"],
        "additionalProperties": False,
    }
    out = backend.decoder.decode([1, 2, 3], only, lambda tokens, allowed: pytest.fail("model asked"))
    assert out.text == '{"intent":"policy"}' and out.model_steps == 0 and out.forced == len(out.tokens)

    ctx, reading = pipeline.prepare("今年心内科药占比多少，同比")
    _, schema, _ = pipeline.llm.request(ctx, reading)
    prompt = list(range(10, 20))
    fed: list[int] = []
    choices: list[np.ndarray] = []

    def step(tokens, allowed):
        fed.extend(tokens)
        choices.append(allowed)
        return np.linspace(1.0, 0.0, len(allowed))  # always the lowest allowed id

    out = backend.decoder.decode(prompt, schema, step)
    assert out.model_steps == len(choices) > 0
    assert out.forced + out.model_steps == len(out.tokens)  # the grammar's end needs no model step
    assert out.forced > out.model_steps
    # the model saw the prompt and then every output token once, in order, and nothing else
    assert fed == prompt + out.tokens[: len(fed) - len(prompt)]
    assert all(len(a) > 1 for a in choices)  # a single allowed token is never asked for


def test_scores_of_the_allowed_rows_pick_what_full_logits_pick(backend, pipeline):
    import torch
    from transformers import DynamicCache

    ctx, reading = pipeline.prepare(QUESTION)
    messages, schema, _ = pipeline.llm.request(ctx, reading)
    prompt = backend._encode(render(backend.tokenizer, messages))
    with torch.inference_mode():
        full = backend.model(torch.tensor([prompt])).logits[0, -1].float().numpy()
    matcher = backend.decoder.matcher(schema)
    matcher.consume_tokens(matcher.compute_ff_tokens())
    rng = np.random.default_rng(0)
    vocabulary = len(backend.tokenizer)
    for allowed in (
        backend.decoder._allowed(matcher),  # the first real choice: the intent
        np.sort(rng.choice(vocabulary, 500, replace=False)),
        np.arange(vocabulary),
    ):
        scores = backend._scorer(DynamicCache(config=backend.model.config))(prompt, allowed)
        assert allowed[np.argmax(scores)] == allowed[np.argmax(full[allowed])]
        np.testing.assert_allclose(scores, full[allowed], atol=1e-4)


# ------------------------------------------------------------ the prompt and its prefix cache
def test_the_question_part_stays_short_and_after_the_fixed_part(pipeline, backend, catalog):
    """The per-question part (everything after the cached system prompt) is at most 300 tokens,
    over random questions and dev conversations with their follow-ups."""
    prefix = backend._encode(
        render(backend.tokenizer, pipeline.llm.prompts.prefix_messages(), add_generation_prompt=False)
    )
    cases = [(q, []) for q in random_questions(catalog, 60, seed=4)]
    for turns in dev_conversations(("dev", "dev3"))[::2]:
        cases += [(turn.question, turns[:n]) for n, turn in enumerate(turns)]
    lengths = []
    for question, history in cases:
        ctx, reading = pipeline.prepare(question, history)
        if reading is None:
            continue
        messages, _, _ = pipeline.llm.request(ctx, reading)
        ids = backend._encode(render(backend.tokenizer, messages))
        assert ids[: len(prefix)] == prefix  # else the cache could not be used
        lengths.append(len(ids) - len(prefix))
    assert len(lengths) > 150 and max(lengths) <= 300, sorted(lengths)[-5:]


def test_the_fixed_part_is_computed_once(backend, pipeline, monkeypatch):
    """The first request runs the system prompt through the model; later ones only their own
    tokens on top of its cache."""
    fed: list[int] = []
    forward = backend._forward
    monkeypatch.setattr(
        backend, "_forward", lambda tokens, cache: fed.append(len(tokens)) or forward(tokens, cache)
    )
    monkeypatch.setattr(backend, "_prefix_ids", None)  # as a backend that was never warmed
    monkeypatch.setattr(backend, "_prefix_cache", None)
    prefix = len(backend._encode(render(backend.tokenizer, pipeline.llm.prompts.prefix_messages(), False)))
    for n, question in enumerate([QUESTION, "今年心内科药占比多少，同比", "门诊量这个东西去年咋样"]):
        fed.clear()
        backend.generate(*pipeline.llm.request(*pipeline.prepare(question))[:2])
        usage = backend.last_usage
        new = usage.prompt_tokens - prefix
        assert usage.cached_tokens == prefix and 0 < new <= 300
        if n == 0:
            assert fed.pop(0) == prefix  # only the first request computes the fixed part
        # then one pass per model step: the first with the question's own tokens and the forced
        # opening {"intent":" (a few tokens), the others with the tokens appended since
        assert len(fed) == usage.model_steps and new <= fed[0] <= new + 8, question


# --------------------------------------------------------------------- prefix cache
def test_prefix_cache_gives_the_same_output_as_a_full_run(backend, pipeline, rules, monkeypatch):
    prefix_length = backend.warm(pipeline.llm.prompts.prefix_messages())
    earlier = Turn(question="今年药占比多少", plan=rules.plan("今年药占比多少"))
    requests = [
        pipeline.llm.request(*pipeline.prepare(question, history))[:2]
        for question, history in [(QUESTION, []), ("那心内科呢，咋样", [earlier]), ("你好", [])]
    ]

    def run(cached: bool) -> list[tuple[str, list[np.ndarray]]]:
        monkeypatch.setattr(backend, "use_prefix_cache", cached)
        results = []
        for messages, schema in requests:
            recording = RecordingDecoder(backend.decoder)
            monkeypatch.setattr(backend, "decoder", recording)
            text = backend.generate(messages, schema)
            monkeypatch.setattr(backend, "decoder", recording.inner)
            assert backend.last_usage.cached_tokens == (prefix_length if cached else 0)
            results.append((text, recording.scores))
        return results

    cached, full = run(True), run(False)
    for (text, scores), (full_text, full_scores) in zip(cached, full, strict=True):
        assert text == full_text
        for a, b in zip(scores, full_scores, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
    assert backend._prefix_cache.get_seq_length() == prefix_length  # requests left no tokens behind

    # a request that fails halfway (too few tokens for a plan) leaves the cache as it was
    monkeypatch.setattr(backend, "use_prefix_cache", True)
    monkeypatch.setattr(backend, "max_new_tokens", 4)
    with pytest.raises(BackendError, match="incomplete"):
        backend.generate(*requests[0])
    assert backend._prefix_cache.get_seq_length() == prefix_length
    monkeypatch.setattr(backend, "max_new_tokens", 160)
    assert backend.generate(*requests[0]) == cached[0][0]


class RecordingDecoder:
    """Keeps the scores of every model step of one generation."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.scores: list[np.ndarray] = []

    def decode(self, prompt, schema, step, max_tokens=160):
        def recorded(tokens, allowed):
            scores = step(tokens, allowed)
            self.scores.append(scores)
            return scores

        return self.inner.decode(prompt, schema, recorded, max_tokens)


class Recorder:
    """Passes generations through and keeps each output with its schema."""

    name = "recorder"

    def __init__(self, inner) -> None:
        self.inner = inner
        self.outputs: list[tuple[str, dict]] = []

    def generate(self, messages, schema):
        text = self.inner.generate(messages, schema)
        self.outputs.append((text, schema))
        return text


def test_generation_is_safe_across_threads(backend, pipeline, catalog):
    requests = [pipeline.llm.request(*pipeline.prepare(q))[:2] for q in random_questions(catalog, 6, seed=2)]
    expected = [(backend.generate(*r), backend.last_usage.prompt_tokens) for r in requests]
    got: dict[int, list] = {}

    def worker(n: int) -> None:
        got[n] = [(backend.generate(*r), backend.last_usage.prompt_tokens) for r in requests]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[n] == expected for n in range(3))  # last_usage is each thread's own


# --------------------------------------------------------------- loading the model
def test_lora_adapter_is_loaded_and_merged(tiny_model, backend, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    torch.manual_seed(1)
    # init_lora_weights=False: random A and B, so the adapter visibly changes the model
    peft_model = get_peft_model(
        base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    peft_model.save_pretrained(tmp_path / "adapter")
    ids = torch.tensor([[151644, 8948, 198, 100634, 151645]])
    with torch.inference_mode():
        expected = peft_model(ids).logits

    adapted = LocalBackend(tiny_model, tmp_path / "adapter", dtype="float32")
    with torch.inference_mode():
        got = adapted.model(ids).logits
        without = backend.model(ids).logits
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, without, atol=1e-3)
    assert not any("lora" in name for name, _ in adapted.model.named_parameters())  # merged


def test_dtype_follows_the_setting_and_the_cpu(monkeypatch):
    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: True)
    assert resolve_dtype("auto", "cpu") == "bfloat16"
    assert resolve_dtype("float32", "cpu") == "float32"
    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: False)
    assert resolve_dtype("auto", "cpu") == "float32"  # emulated bf16 is slower than fp32
    assert resolve_dtype("auto", "cuda") == "bfloat16"
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype("float16", "cpu")  # type: ignore[arg-type]


def test_dtype_auto_loads_fp32_where_the_cpu_has_no_bf16(tiny_model, monkeypatch):
    import torch

    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: False)
    loaded = LocalBackend(tiny_model, dtype="auto", device="cpu")
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="does not exist"):
        LocalBackend(tmp_path / "nowhere")


# ------------------------------------------------------------ the parser and its fallback
def test_the_models_plan_is_used_and_counted(catalog):
    backend = ScriptedBackend(GOOD)
    pipeline = make_pipeline(backend, catalog)
    ctx = pipeline.understand(QUESTION)
    assert ctx.route.value == "llm" and ctx.parser == "llm" and pipeline.name == "llm"
    (call,) = ctx.plan.calls
    assert call.arguments.indicators == ["药占比"] and call.arguments.compare == ["yoy"]
    assert (call.arguments.start.isoformat(), call.arguments.end.isoformat()) == ("2023-01-01", "2023-09-08")
    counters = pipeline.llm.stats.as_dict()
    assert counters.pop("model_seconds") >= 0
    assert counters == {"questions": 1, "planned_by_model": 1, "fallbacks": 0, "fallback_reasons": {}}
    # the request: the cached system prompt, then the question part; the schema is the question's
    messages, schema = backend.calls[0], backend.schemas[0]
    assert messages[0] == pipeline.llm.prompts.prefix_messages()[0]
    assert messages[1]["content"].startswith(f"问题：{QUESTION}")
    figure = schema["anyOf"][0]["properties"]
    assert figure["time"] == {"enum": ["t1", "ytd"]} and "药占比" in figure["indicators"]["items"]["enum"]
    assert all(s["properties"]["intent"].get("const") != "clarify" for s in schema["anyOf"])  # nothing to ask


def test_clarification_is_offered_only_where_the_question_has_something_to_ask(pipeline):
    ctx, reading = pipeline.prepare("帮我瞅瞅内科的门诊量")  # 内科: 心血管内科 or 呼吸内科
    _, schema, _ = pipeline.llm.request(ctx, reading)
    (clarify,) = [s for s in schema["anyOf"] if s["properties"]["intent"].get("const") == "clarify"]
    assert clarify["properties"]["slot"] == {"enum": ["department"]}
    _, training_schema, _ = pipeline.llm.request(ctx)  # without the reading: every slot (training)
    (every,) = [s for s in training_schema["anyOf"] if s["properties"]["intent"].get("const") == "clarify"]
    assert every["properties"]["slot"] == {"enum": list(CLARIFY_SLOTS)}


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ([BackendError("down")], "backend_error"),
        (["我不知道"], "invalid_output"),
        (["[1, 2]"], "invalid_output"),
        ([GOOD.replace("药占比", "幸福指数")], "invalid_output"),  # not one of the question's names
        ([GOOD.replace('"t1"', '"t9"')], "invalid_output"),
        (['{"intent":"shrug"}'], "invalid_output"),
    ],
)
def test_no_plan_from_the_model_falls_back_to_rules_and_is_counted(catalog, rules, caplog, answers, reason):
    pipeline = make_pipeline(ScriptedBackend(*answers), catalog)
    with caplog.at_level(logging.WARNING, logger="opsbrain.planner.llm"):
        ctx = pipeline.understand(QUESTION)
    assert ctx.parser == "llm→rules" and pipeline.name == "llm→rules"
    assert ctx.plan == rules.plan(QUESTION)
    assert pipeline.llm.stats.fallbacks == {reason: 1} and pipeline.llm.stats.planned == 0
    assert caplog.records  # and logged with the reason
    # the next, successful question is labelled llm again
    pipeline.llm.backend = ScriptedBackend(GOOD)
    assert pipeline.understand(QUESTION).parser == "llm"


def test_a_bug_in_the_parser_falls_back_too(catalog, monkeypatch, caplog):
    from serving.planner.llm import parser

    def broken(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(parser, "decode", broken)
    pipeline = make_pipeline(ScriptedBackend(GOOD), catalog)
    with caplog.at_level(logging.ERROR, logger="opsbrain.planner.llm"):
        assert pipeline.understand(QUESTION).parser == "llm→rules"
    assert pipeline.llm.stats.fallbacks == {"parser_error": 1} and "RuntimeError: bug" in caplog.text


def test_compact_object_takes_the_object_out_of_a_fence():
    assert compact_object(f"```json\n{GOOD}\n```") == json.loads(GOOD)
    for bad in ("", "没有", "[1]", '"{"'):
        with pytest.raises(ValueError):
            compact_object(bad)


# --------------------------------------------------------------- OpenAI-compatible backend
def test_openai_backend_against_a_real_http_server(catalog):
    with stub_openai_server([GOOD, f"```json\n{GOOD}\n```", 500]) as (url, received):
        backend = OpenAIBackend(url, "planner-7b", api_key="sekret", max_tokens=99, timeout=5)
        pipeline = make_pipeline(backend, catalog)
        assert pipeline.understand(QUESTION).parser == "llm"
        assert pipeline.understand(QUESTION).parser == "llm"  # a fenced answer is read too
        with pytest.raises(BackendError, match="HTTP 500"):
            backend.generate([{"role": "user", "content": "hi"}], {"type": "object"})
        backend.close()
    request = received[0]
    assert request["headers"]["authorization"] == "Bearer sekret"
    body = request["body"]
    assert body["model"] == "planner-7b" and body["temperature"] == 0 and body["max_tokens"] == 99
    messages, schema, _ = pipeline.llm.request(*pipeline.prepare(QUESTION))
    assert body["messages"] == messages
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "compact_plan", "schema": schema, "strict": True},
    }


def test_unreachable_endpoint_falls_back_with_the_reason(catalog, caplog):
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=2)
    pipeline = make_pipeline(backend, catalog)
    with caplog.at_level(logging.WARNING, logger="opsbrain.planner.llm"):
        assert pipeline.understand(QUESTION).parser == "llm→rules"
    assert pipeline.llm.stats.fallbacks == {"backend_error": 1}
    assert "cannot reach http://127.0.0.1" in caplog.text
