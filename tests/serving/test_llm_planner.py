"""The llm planner: prompt, parsing, semantic checks, repair and fallback, both backends, the
prefix KV cache and LoRA loading, on a tiny random Qwen2 model and scripted/stub backends."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from evals.planner import dataset_path, load_items
from indicators import default_catalog
from serving.planner.llm.backends import BackendError, LocalBackend, OpenAIBackend
from serving.planner.llm.planner import FALLBACK, LLM, LLMPlanner
from serving.planner.llm.prompt import (
    PlanParseError,
    PromptBuilder,
    compact_tool_schema,
    parse_plan,
    plan_to_text,
    render,
)
from serving.planner.llm.validate import PlanSemanticError, check_plan
from serving.planner.rules import RulesPlanner
from serving.tools import Plan, Turn
from tests.serving.llm_fixtures import (
    AS_OF,
    DATA_START,
    ScriptedBackend,
    free_port,
    small_dimensions,
    stub_openai_server,
)

GOOD = (
    '{"calls":[{"tool":"query_indicator","arguments":{"indicators":["药占比"],'
    '"start":"2023-01-01","end":"2023-09-08","compare":["yoy"]}}]}'
)


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.fixture(scope="module")
def dimensions():
    return small_dimensions()


@pytest.fixture(scope="module")
def rules(catalog, dimensions):
    return RulesPlanner(catalog, dimensions, AS_OF, DATA_START)


@pytest.fixture(scope="module")
def prompts(catalog, dimensions):
    names = {d: [m.name for m in ms] for d, ms in dimensions.members.items() if d != "doctor"}
    return PromptBuilder(catalog, AS_OF, DATA_START, names)


def make_planner(backend, catalog, dimensions, rules) -> LLMPlanner:
    return LLMPlanner(backend, catalog, dimensions, AS_OF, DATA_START, rules)


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once and kept in pytest's cache folder (keyed by the builder's source): ~20 s to build."""
    from serving.planner.llm import tiny

    key = hashlib.sha256(Path(tiny.__file__).read_bytes()).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir(f"opsbrain-tiny-qwen2-{key}") if cache else None
    folder = folder or tmp_path_factory.mktemp("tiny-qwen2")
    if not (folder / "model.safetensors").exists() or not (folder / "tokenizer.json").exists():
        tiny.build_tiny_model(folder)
    return folder


@pytest.fixture(scope="module")
def cached_backend(tiny_model) -> LocalBackend:
    return LocalBackend(tiny_model, max_new_tokens=8)


@pytest.fixture(scope="module")
def plain_backend(tiny_model) -> LocalBackend:
    return LocalBackend(tiny_model, max_new_tokens=8, use_prefix_cache=False)


# ------------------------------------------------------------------------------------ the prompt
def test_prompt_holds_schema_dates_and_history(prompts, catalog):
    earlier = Turn(question="今年药占比是多少", plan=parse_plan(GOOD))
    messages = prompts.messages("心内科呢", [earlier])

    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert compact_tool_schema(catalog) in system  # the generated schema, indicator enum included
    assert '"enum":["CMI"' in system and "search_policy" in system
    assert "2023-09-08" in system and "2019-01-01" in system
    assert "心血管内科" in system  # dimension members
    assert messages[1]["content"] == "今年药占比是多少"
    assert parse_plan(messages[2]["content"]) == earlier.plan
    assert messages[3]["content"] == "心内科呢"


def test_prompt_renders_with_the_chat_template(prompts, plain_backend):
    tokenizer = plain_backend.tokenizer
    text = render(tokenizer, prompts.messages("门诊量"))
    assert text.startswith("<|im_start|>system\n你是医院运营助手的规划器")
    assert text.endswith("<|im_start|>user\n门诊量<|im_end|>\n<|im_start|>assistant\n")
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == 151644 and ids[-3:] == [151644, 77091, 198]  # Qwen2.5's ids for "assistant\n"


def test_gold_plans_survive_the_compact_target_format():
    golds = [t.gold for item in load_items(dataset_path("dev")) for t in item.turns]
    for gold in golds:
        text = plan_to_text(gold)
        assert "null" not in text and "[]" not in text  # defaults are left out
        assert parse_plan(text) == gold
    assert any('"tool":"query_indicator"' in plan_to_text(g) for g in golds)


def test_parse_plan_takes_the_object_out_of_fences_and_chatter():
    text = f"好的，计划如下：\n```json\n{GOOD}\n```\n希望有帮助。"
    assert parse_plan(text) == parse_plan(GOOD)
    lone_call = json.loads(GOOD)["calls"][0]
    assert parse_plan(json.dumps(lone_call, ensure_ascii=False)) == parse_plan(GOOD)
    for bad in ("没有 JSON", '{"calls": [', '{"calls":[{"tool":"drop_table","arguments":{}}]}'):
        with pytest.raises(PlanParseError):
            parse_plan(bad)


# ------------------------------------------------------------------------- semantic checks
def test_check_plan_canonicalises_aliases_and_rejects_unknown_names_and_dates(catalog, dimensions):
    plan = parse_plan(
        '{"calls":[{"tool":"query_indicator","arguments":{"indicators":["门诊量"],"start":"2023-01-01",'
        '"end":"2023-09-08","filters":{"department":["心内科"]}}}]}'
    )
    checked = check_plan(plan, catalog, AS_OF, DATA_START, dimensions)
    args = checked.calls[0].arguments
    assert args.indicators == ["门诊人次"] and args.filters.department == ["心血管内科"]
    repeated = parse_plan(plan_to_text(plan).replace('["门诊量"]', '["门诊量","门诊人次","门诊量"]'))
    assert check_plan(repeated, catalog, AS_OF, DATA_START, dimensions).calls[0].arguments.indicators == [
        "门诊人次"
    ]

    cases = {
        '"indicators":["不存在的指标"],"start":"2023-01-01","end":"2023-09-08"': "未知指标",
        '"indicators":["资产负债率"],"start":"2023-01-01","end":"2023-09-08"': "explain_indicator",
        '"indicators":["药占比"],"start":"2023-01-01","end":"2023-12-31"': "晚于数据截止日",
        '"indicators":["药占比"],"start":"2018-01-01","end":"2018-12-31"': "早于数据开始日",
        '"indicators":["药占比"],"start":"2023-05-01","end":"2023-01-31"': "晚于结束日期",
        '"indicators":["药占比"],"start":"2023-01-01","end":"2023-09-08","filters":{"department":["牙科"]}': "未知科室",
    }
    for arguments, message in cases.items():
        bad = parse_plan('{"calls":[{"tool":"query_indicator","arguments":{' + arguments + "}}]}")
        with pytest.raises(PlanSemanticError, match=message):
            check_plan(bad, catalog, AS_OF, DATA_START, dimensions)
    with pytest.raises(PlanSemanticError, match="计划为空"):
        check_plan(Plan(), catalog, AS_OF, DATA_START, dimensions)


# ------------------------------------------------------- repair and fallback (scripted backend)
def test_valid_first_time(catalog, dimensions, rules):
    backend = ScriptedBackend(GOOD)
    planner = make_planner(backend, catalog, dimensions, rules)
    plan = planner.plan("今年药占比多少，同比")
    assert plan == parse_plan(GOOD)
    assert planner.name == LLM and len(backend.calls) == 1
    assert planner.stats.as_dict() == {
        "questions": 1,
        "valid_first_time": 1,
        "repaired": 0,
        "fallbacks": 0,
        "fallback_reasons": {},
    }


def test_repaired_after_one_bad_answer(catalog, dimensions, rules):
    bad = GOOD.replace("药占比", "不存在的指标")
    backend = ScriptedBackend(bad, GOOD)
    planner = make_planner(backend, catalog, dimensions, rules)
    assert planner.plan("今年药占比多少，同比") == parse_plan(GOOD)
    assert planner.name == LLM
    repair = backend.calls[1]
    assert repair[-2] == {"role": "assistant", "content": bad}
    assert "未知指标“不存在的指标”" in repair[-1]["content"]  # the model is told what was wrong
    assert planner.stats.repaired == 1 and planner.stats.valid_first_time == 0


def test_falls_back_to_rules_after_two_bad_answers(catalog, dimensions, rules, caplog):
    backend = ScriptedBackend("我不知道", '{"calls":[{"tool":"query_indicator"}]}')
    planner = make_planner(backend, catalog, dimensions, rules)
    question = "今年药占比多少，同比"
    with caplog.at_level(logging.WARNING, logger="opsbrain.planner.llm"):
        plan = planner.plan(question)
    assert plan == rules.plan(question)
    assert planner.name == FALLBACK
    assert planner.stats.fallbacks == {"invalid_output": 1} and planner.stats.questions == 1
    assert "rules fallback" in caplog.text
    # the next, successful question is labelled llm again
    planner.backend = ScriptedBackend(GOOD)
    planner.plan(question)
    assert planner.name == LLM


def test_unknown_indicator_from_the_model_never_reaches_the_plan(catalog, dimensions, rules):
    bad = GOOD.replace("药占比", "幸福指数")
    planner = make_planner(ScriptedBackend(bad, bad), catalog, dimensions, rules)
    plan = planner.plan("今年药占比多少，同比")
    assert all("幸福指数" not in c.arguments.indicators for c in plan.indicator_calls)
    assert planner.stats.fallbacks["invalid_output"] == 1


def test_backend_error_falls_back_with_its_reason(catalog, dimensions, rules):
    planner = make_planner(ScriptedBackend(BackendError("down")), catalog, dimensions, rules)
    assert planner.plan("今年药占比多少") == rules.plan("今年药占比多少")
    assert planner.stats.fallbacks == {"backend_error": 1}


def test_plan_with_source_reports_the_outcome_without_thread_state(catalog, dimensions, rules):
    planner = make_planner(ScriptedBackend(GOOD, "x", "y"), catalog, dimensions, rules)
    assert planner.plan_with_source("今年药占比多少，同比")[1] == LLM
    assert planner.plan_with_source("今年药占比多少，同比")[1] == FALLBACK


def test_history_reaches_the_model(catalog, dimensions, rules):
    backend = ScriptedBackend(GOOD)
    planner = make_planner(backend, catalog, dimensions, rules)
    earlier = Turn(question="今年药占比多少", plan=parse_plan(GOOD))
    planner.plan("同比呢", [earlier])
    assert [m["content"] for m in backend.calls[0][1:]] == [
        "今年药占比多少",
        plan_to_text(earlier.plan),
        "同比呢",
    ]


# --------------------------------------------------------------------- OpenAI-compatible backend
def test_openai_backend_against_a_real_http_server(catalog, dimensions, rules):
    with stub_openai_server(["```json\n" + GOOD + "\n```", 500]) as (url, received):
        backend = OpenAIBackend(url, "planner-7b", api_key="sekret", timeout=5)
        planner = make_planner(backend, catalog, dimensions, rules)
        assert planner.plan("今年药占比多少，同比") == parse_plan(GOOD)
        with pytest.raises(BackendError, match="HTTP 500"):
            backend.generate([{"role": "user", "content": "hi"}])
    request = received[0]
    assert request["headers"]["authorization"] == "Bearer sekret"
    assert request["body"]["model"] == "planner-7b" and request["body"]["temperature"] == 0
    assert request["body"]["messages"][0]["role"] == "system"
    assert request["body"]["messages"][-1] == {"role": "user", "content": "今年药占比多少，同比"}


def test_unreachable_endpoint_falls_back_with_the_reason(catalog, dimensions, rules, caplog):
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=2)
    planner = make_planner(backend, catalog, dimensions, rules)
    with caplog.at_level(logging.WARNING, logger="opsbrain.planner.llm"):
        assert planner.plan("今年药占比多少") == rules.plan("今年药占比多少")
    assert planner.stats.fallbacks == {"backend_error": 1}
    assert "cannot reach http://127.0.0.1" in caplog.text


# ------------------------------------------------------------------- local backend, tiny model
def test_prefix_cache_gives_the_same_greedy_output_as_a_full_run(cached_backend, plain_backend, prompts):
    cached, plain = cached_backend, plain_backend
    prefix_length = cached.warm(prompts.prefix_messages())
    earlier = Turn(question="今年药占比多少", plan=parse_plan(GOOD))
    for question, history in [("门诊量", []), ("同比呢", [earlier]), ("门诊量", [])]:
        messages = prompts.messages(question, history)
        text = cached.generate(messages)
        assert cached.last_usage.cached_tokens == prefix_length > 1000
        assert text == plain.generate(messages)
        assert plain.last_usage.cached_tokens == 0
        assert cached.last_usage.generated_tokens == plain.last_usage.generated_tokens > 0
    # requests worked on copies: the shared cache still holds exactly the prefix
    assert cached._prefix_cache.get_seq_length() == prefix_length


def test_garbage_from_a_real_model_falls_back_to_rules(cached_backend, catalog, dimensions, rules):
    planner = make_planner(cached_backend, catalog, dimensions, rules)
    question = "今年药占比多少"
    assert planner.plan(question) == rules.plan(question)
    assert planner.name == FALLBACK
    assert planner.stats.fallbacks == {"invalid_output": 1}


def test_lora_adapter_is_loaded_and_merged(tiny_model, plain_backend, tmp_path):
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

    adapted = LocalBackend(tiny_model, tmp_path / "adapter")
    with torch.inference_mode():
        got = adapted.model(ids).logits
        without = plain_backend.model(ids).logits
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, without, atol=1e-3)
    assert not any("lora" in name for name, _ in adapted.model.named_parameters())  # merged


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="does not exist"):
        LocalBackend(tmp_path / "nowhere")
