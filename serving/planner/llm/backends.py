"""Where the LLM parser's compact plan comes from: a local transformers model decoded under the
question's grammar, or an OpenAI-compatible server asked for the same JSON schema.

Both take chat messages and the question's JSON schema and return the JSON text. "No answer"
(server unreachable, bad status, model failed to load) is :class:`BackendError`; the pipeline then
plans with the rules parser.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx
import numpy as np

from serving.planner.llm.prompt import Message, render

if TYPE_CHECKING:
    from serving.planner.llm.constrained import Step

log = logging.getLogger("opsbrain.planner.llm")
DType = Literal["auto", "bfloat16", "float32"]


class BackendError(RuntimeError):
    """The backend produced no text: the message says why (for logs and the fallback counter)."""


class Backend(Protocol):
    name: str

    def generate(self, messages: list[Message], schema: dict[str, Any]) -> str: ...


@dataclass
class Usage:
    """What one local generation cost: for the benchmark and for logs."""

    prompt_tokens: int
    cached_tokens: int  # of prompt_tokens, taken from the prefix cache instead of computed
    generated_tokens: int
    model_steps: int  # forward passes (the first one also runs the prompt's new tokens)
    forced_tokens: int  # of generated_tokens, appended by the grammar without the model
    seconds: float


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 matrix instructions (AVX-512 BF16 or AMX): then bf16 is
    faster than fp32 for prompt processing; elsewhere it is emulated and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def resolve_dtype(dtype: DType, device: str) -> Literal["bfloat16", "float32"]:
    """``auto``: bf16 on a GPU and on CPUs with bf16 instructions, fp32 elsewhere."""
    if dtype not in ("auto", "bfloat16", "float32"):
        raise ValueError(f"dtype must be auto, bfloat16 or float32, got {dtype!r}")
    if dtype != "auto":
        return dtype
    return "bfloat16" if device.startswith("cuda") or cpu_supports_bf16() else "float32"


class LocalBackend:
    """A transformers model folder (optionally with a LoRA adapter), greedy grammar-constrained decoding.

    The system prompt is the same for every question, so its KV cache is computed once; each
    request appends its own tokens to that cache and cuts them off again afterwards, so a request
    pays only for its own tokens and no copy of the cache is made. One generation runs at a time
    (a lock: the model and the cache are shared); ``last_usage`` is per thread.
    """

    name = "local"

    def __init__(
        self,
        model_path: Path | str,
        adapter_path: Path | str | None = None,
        *,
        max_new_tokens: int = 160,
        use_prefix_cache: bool = True,
        device: str | None = None,
        threads: int | None = None,
        dtype: DType = "auto",
    ) -> None:
        """
        Args:
            model_path: a transformers causal-LM folder (``opsbrain model demo-base`` builds one).
            adapter_path: a peft LoRA adapter folder, merged into the weights at load.
            max_new_tokens: the longest output; a plan still incomplete then is a BackendError.
            use_prefix_cache: reuse the system prompt's KV cache (same output, less work).
            device: ``cuda``, ``cpu``; default: cuda when available.
            threads: torch CPU threads (``torch.set_num_threads``, process-wide).
            dtype: ``auto`` (bf16 on a GPU or a CPU with bf16 instructions, else fp32),
                ``bfloat16`` or ``float32``.

        Raises:
            BackendError: a folder does not exist.
            ValueError: an unknown dtype.
        """
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from serving.planner.llm.constrained import ConstrainedDecoder

        self.model_path = Path(model_path)
        self.adapter_path = Path(adapter_path) if adapter_path else None
        for folder in filter(None, (self.model_path, self.adapter_path)):
            if not folder.is_dir():
                raise BackendError(f"model folder {folder} does not exist (see `opsbrain model demo-base`)")
        self.max_new_tokens = max_new_tokens
        self.use_prefix_cache = use_prefix_cache
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = getattr(torch, resolve_dtype(dtype, self.device))
        if threads:
            # process-wide: on a CPU shared with other busy processes fewer threads can be faster
            torch.set_num_threads(threads)
        tokenizer_dir = (
            self.adapter_path
            if self.adapter_path and (self.adapter_path / "tokenizer_config.json").exists()
            else self.model_path
        )
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        # an adapter is merged in fp32 and the sum rounded once, not added to already-rounded weights
        load_dtype = torch.float32 if self.adapter_path else self.dtype
        model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=load_dtype)
        if self.adapter_path:
            from peft import PeftModel

            # merged once at load: generation then runs at the base model's speed
            model = PeftModel.from_pretrained(model, self.adapter_path).merge_and_unload()
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.stop_ids = sorted(
            {
                i
                for i in (
                    self.tokenizer.eos_token_id,
                    self.tokenizer.convert_tokens_to_ids("<|im_end|>"),
                    self.tokenizer.convert_tokens_to_ids("<|endoftext|>"),
                )
                if isinstance(i, int) and i >= 0 and i != self.tokenizer.unk_token_id
            }
        )
        self.decoder = ConstrainedDecoder(self.tokenizer, self.stop_ids)
        self._lock = threading.Lock()  # one generation at a time: the model and the cache are shared
        self._local = threading.local()
        self._prefix_ids: list[int] | None = None
        self._prefix_cache: Any = None

    # ------------------------------------------------------------------ public
    @property
    def last_usage(self) -> Usage | None:
        """What this thread's last :meth:`generate` cost (None before the first)."""
        return getattr(self._local, "usage", None)

    def warm(self, prefix_messages: list[Message]) -> int:
        """Compute the prefix cache now (else the first request does); returns its length in tokens."""
        with self._lock:
            ids = self._encode(render(self.tokenizer, prefix_messages, add_generation_prompt=False))
            self._ensure_prefix(ids)
        return len(ids)

    def generate(self, messages: list[Message], schema: dict[str, Any]) -> str:
        """The JSON text of the model's greedy answer under ``schema``.

        Raises:
            BackendError: anything that kept the model from answering (out of memory, a grammar
                llguidance cannot compile, an output still incomplete at ``max_new_tokens``).
        """
        try:
            with self._lock:  # tokenising inside too: a fast tokenizer is not safe across threads
                prompt_ids = self._encode(render(self.tokenizer, messages))
                prefix_ids = (
                    self._encode(render(self.tokenizer, messages[:1], add_generation_prompt=False))
                    if self.use_prefix_cache and messages and messages[0]["role"] == "system"
                    else []
                )
                return self._generate(prompt_ids, prefix_ids, schema)
        except Exception as exc:  # the pipeline falls back to rules; the log keeps the traceback
            log.exception("local generation failed")
            raise BackendError(f"local generation failed: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ internals
    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _ensure_prefix(self, prefix_ids: list[int]) -> None:
        import torch
        from transformers import DynamicCache

        if prefix_ids == self._prefix_ids and self._prefix_cache is not None:
            return
        self._prefix_ids, self._prefix_cache = None, None
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            self._forward(prefix_ids, cache)
        self._prefix_ids, self._prefix_cache = prefix_ids, cache

    def _restore_prefix(self, length: int) -> None:
        """Cut the request's tokens off the shared cache (a view of the first ``length`` positions:
        nothing is copied); a pass that stopped halfway through the layers drops the cache instead,
        and the next request computes it again."""
        cache = self._prefix_cache
        lengths = {layer.get_seq_length() for layer in cache.layers}
        if len(lengths) != 1 or min(lengths) < length:
            self._prefix_ids, self._prefix_cache = None, None
            return
        extra = lengths.pop() - length
        if extra:
            cache.crop(-extra)

    def _scorer(self, cache: Any) -> Step:
        """The decoder's ``step``: runs the new tokens through the model on top of ``cache`` and
        scores only the allowed tokens (their rows of the output layer, in fp32: bf16 logits would
        round near-ties into ties)."""
        import torch

        head = self.model.get_output_embeddings()
        rows_in_head = head.weight.shape[0]

        def step(tokens: list[int], allowed: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                hidden = self._forward(tokens, cache).last_hidden_state[0, -1]
                rows = torch.as_tensor(allowed[allowed < rows_in_head], device=self.device)
                scores = head.weight[rows].float() @ hidden.float()
                if getattr(head, "bias", None) is not None:
                    scores += head.bias[rows].float()
                scores = scores.cpu().numpy()
            if len(scores) < len(allowed):  # ids past the output layer (never chosen)
                scores = np.concatenate([scores, np.full(len(allowed) - len(scores), -np.inf)])
            return scores

        return step

    def _forward(self, tokens: list[int], cache: Any) -> Any:
        """The transformer without its output layer on ``tokens`` after ``cache`` (which grows):
        hidden states, not 151,936 logits per token."""
        import torch

        stack = getattr(self.model, self.model.base_model_prefix, self.model)
        # transformers 5.24 renamed past_key_values to cache (the old name goes in 5.40)
        name = "cache" if "cache" in inspect.signature(stack.forward).parameters else "past_key_values"
        return stack(torch.tensor([tokens], device=self.device), use_cache=True, **{name: cache})

    def _generate(self, prompt_ids: list[int], prefix_ids: list[int], schema: dict[str, Any]) -> str:
        from transformers import DynamicCache

        started = time.perf_counter()
        fed = prompt_ids
        shared = False
        # the cache is usable only if the prompt's tokens start with exactly the prefix's tokens
        if prefix_ids and prompt_ids[: len(prefix_ids)] == prefix_ids and len(prompt_ids) > len(prefix_ids):
            self._ensure_prefix(prefix_ids)
            cache, shared = self._prefix_cache, True
            fed = prompt_ids[len(prefix_ids) :]
        else:
            if prefix_ids:
                log.warning("prompt does not start with the cached prefix's tokens; running it whole")
            cache = DynamicCache(config=self.model.config)
        step = self._scorer(cache)
        try:
            decoded = self.decoder.decode(fed, schema, step, max_tokens=self.max_new_tokens)
        finally:
            if shared:
                self._restore_prefix(len(prefix_ids))
        self._local.usage = Usage(
            prompt_tokens=len(prompt_ids),
            cached_tokens=len(prompt_ids) - len(fed),
            generated_tokens=len(decoded.tokens),
            model_steps=decoded.model_steps,
            forced_tokens=decoded.forced,
            seconds=time.perf_counter() - started,
        )
        return decoded.text


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp's server, …) asked for the
    question's JSON schema through ``response_format``."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        max_tokens: int = 160,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base URL must start with http:// or https://, got {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.max_tokens = max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def generate(self, messages: list[Message], schema: dict[str, Any]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": False,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "compact_plan", "schema": schema, "strict": True},
            },
        }
        try:
            response = self._client.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise BackendError(f"{self.url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise BackendError(f"{self.url} answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"{self.url} sent no chat completion: {response.text[:300]}") from exc
        if not isinstance(content, str):
            raise BackendError(f"{self.url} sent a completion without text content")
        return content

    def close(self) -> None:
        self._client.close()
