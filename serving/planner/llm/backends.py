"""Where the planner's text comes from: a local transformers model, or an OpenAI-compatible server.

Both take chat messages and return the assistant's text; the planner does the parsing. Errors
that mean "no answer" (server unreachable, bad status, model failed to load) are
:class:`BackendError`, which the planner answers with its rules fallback.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from serving.planner.llm.prompt import Message, render

log = logging.getLogger("opsbrain.planner.llm")


class BackendError(RuntimeError):
    """The backend produced no text: the message says why (for logs and the fallback counter)."""


class Backend(Protocol):
    name: str

    def generate(self, messages: list[Message]) -> str: ...


@dataclass
class Usage:
    """What one local generation cost: for the benchmark and for logs."""

    prompt_tokens: int
    cached_tokens: int  # of prompt_tokens, taken from the prefix cache instead of computed
    generated_tokens: int
    seconds: float


class LocalBackend:
    """A transformers model folder (optionally with a LoRA adapter), greedy decoding.

    The system prompt is the same for every question, so its KV cache is computed once and a copy
    of it is the starting cache of each request: a request then pays for its own tokens (history,
    question, generated answer) only. ``use_prefix_cache=False`` runs the whole prompt every time
    (the benchmark's baseline; the output is the same).
    """

    name = "local"

    def __init__(
        self,
        model_path: Path | str,
        adapter_path: Path | str | None = None,
        *,
        max_new_tokens: int = 256,
        use_prefix_cache: bool = True,
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = Path(model_path)
        self.adapter_path = Path(adapter_path) if adapter_path else None
        self.max_new_tokens = max_new_tokens
        self.use_prefix_cache = use_prefix_cache
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if threads:
            # process-wide. On a CPU shared with other busy processes, fewer OpenMP threads than
            # cores is faster: measured here, 1 thread decoded 3.0 tokens/s and 2 threads 1.1
            # on 2 cores with a load average of 4
            torch.set_num_threads(threads)
        # fp32 on CPU: bf16 matmuls are slow there; bf16 on a GPU: half the memory, same quality
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        for folder in filter(None, (self.model_path, self.adapter_path)):
            if not folder.is_dir():
                raise BackendError(f"model folder {folder} does not exist (see `opsbrain model demo-base`)")
        # an adapter trained with a changed chat template saves its own tokenizer: prefer it
        tokenizer_dir = (
            self.adapter_path
            if self.adapter_path and (self.adapter_path / "tokenizer_config.json").exists()
            else self.model_path
        )
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=dtype)
        if self.adapter_path:
            from peft import PeftModel

            # merged once at load: generation then runs at the base model's speed
            model = PeftModel.from_pretrained(model, self.adapter_path).merge_and_unload()
        self.model = model.to(self.device).eval()
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
        self.pad_id = (
            self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0]
        )
        self._lock = threading.Lock()  # one generation at a time: the model and the cache are shared
        self._prefix_ids: list[int] | None = None
        self._prefix_cache: Any = None
        self.last_usage: Usage | None = None

    # ------------------------------------------------------------------ public
    def warm(self, prefix_messages: list[Message]) -> int:
        """Compute the prefix cache now (else the first request does); returns its length in tokens."""
        with self._lock:
            ids = self._encode(render(self.tokenizer, prefix_messages, add_generation_prompt=False))
            self._ensure_prefix(ids)
        return len(ids)

    def generate(self, messages: list[Message]) -> str:
        try:
            # tokenising inside the lock too: a fast tokenizer called from two threads at once can
            # fail with "Already borrowed" (it resets its padding/truncation state per call)
            with self._lock:
                prompt_ids = self._encode(render(self.tokenizer, messages))
                prefix_ids = (
                    self._encode(render(self.tokenizer, messages[:1], add_generation_prompt=False))
                    if self.use_prefix_cache and messages and messages[0]["role"] == "system"
                    else []
                )
                return self._generate(prompt_ids, prefix_ids)
        except Exception as exc:  # out of memory, a broken adapter: the planner falls back
            log.exception("local generation failed")
            raise BackendError(f"local generation failed: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ internals
    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _ensure_prefix(self, prefix_ids: list[int]) -> None:
        import torch
        from transformers import DynamicCache

        if prefix_ids == self._prefix_ids:
            return
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            # logits_to_keep=1: the prefix's logits are never used (all of them would be
            # prefix length x 151,936 floats, 1.5 GB for the demo prompt)
            self.model(
                torch.tensor([prefix_ids], device=self.device),
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
        self._prefix_ids, self._prefix_cache = prefix_ids, cache

    def _generate(self, prompt_ids: list[int], prefix_ids: list[int]) -> str:
        import torch

        started = time.perf_counter()
        cache = None
        # the cache is usable only if the prompt's tokens start with exactly the prefix's tokens
        # (the chat template ends the system turn with a newline before a special token, so the
        # tokeniser cannot merge across the boundary; checked anyway) and something follows it
        if prefix_ids and prompt_ids[: len(prefix_ids)] == prefix_ids and len(prompt_ids) > len(prefix_ids):
            self._ensure_prefix(prefix_ids)
            cache = copy.deepcopy(self._prefix_cache)  # requests must not grow the shared cache
        elif prefix_ids:
            log.warning("prompt does not start with the cached prefix's tokens; running it whole")
        input_ids = torch.tensor([prompt_ids], device=self.device)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                past_key_values=cache,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=1.0,  # not the folder's generation_config (Qwen's says 1.05)
                eos_token_id=self.stop_ids,
                pad_token_id=self.pad_id,
                stopping_criteria=[_json_object_done(self.tokenizer, len(prompt_ids))],
            )
        new_tokens = output[0, len(prompt_ids) :].tolist()
        while new_tokens and new_tokens[-1] in self.stop_ids:
            new_tokens.pop()
        self.last_usage = Usage(
            prompt_tokens=len(prompt_ids),
            cached_tokens=len(prefix_ids) if cache is not None else 0,
            generated_tokens=len(output[0]) - len(prompt_ids),
            seconds=time.perf_counter() - started,
        )
        return self.tokenizer.decode(new_tokens, skip_special_tokens=True)


def _json_object_done(tokenizer: Any, prompt_length: int) -> Any:
    """A stopping criterion: one complete JSON object has been written, chatter after it is waste."""
    import torch
    from transformers import StoppingCriteria

    class JsonObjectDone(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            text = tokenizer.decode(input_ids[0, prompt_length:], skip_special_tokens=True)
            start = text.find("{")
            done = False
            if start >= 0 and text.rstrip().endswith("}"):
                with contextlib.suppress(json.JSONDecodeError):  # not complete yet: keep generating
                    json.JSONDecoder().raw_decode(text[start:])
                    done = True
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    return JsonObjectDone()


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (vLLM, TGI, Ollama, …): ``{base_url}/chat/completions``."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        max_tokens: int = 256,
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

    def generate(self, messages: list[Message]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": False,
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
