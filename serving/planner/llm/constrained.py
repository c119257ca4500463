"""Grammar-constrained greedy decoding with llguidance: every output is valid under the schema.

The grammar (a JSON schema compiled by llguidance) says which tokens may come next. Where it
forces the next bytes (keys, quotes, the rest of a name once its first characters choose it), the
tokens are appended without asking the model; the model runs only where there is a real choice,
and then on all the tokens appended since its last run at once. Logits are computed only for the
tokens the grammar allows (a few rows of the output layer instead of 151,936), which is most of a
decoding step's cost on a CPU.

Forced bytes come back from llguidance in two parts: ``compute_ff_tokens`` gives their canonical
tokens but holds the last one back while a longer token might still extend it; when every token
the grammar then allows lies inside the forced bytes (``":"`` versus ``":`` and ``"``), nothing
is left to choose and the longest one is taken, again without the model. Decoding ends as soon as
the grammar is complete (the closing brace): the end-of-turn token is never asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# (tokens to append to the model's input, allowed next tokens) → a score per allowed token
Step = Callable[[list[int], np.ndarray], np.ndarray]

JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"}


class GrammarError(RuntimeError):
    """The grammar could not be compiled or the output did not complete it; the message says which."""


@dataclass
class Decoded:
    text: str
    tokens: list[int]  # the output's tokens (the end-of-turn token is never part of them)
    model_steps: int  # forward passes of the model (the first one also runs the prompt)
    forced: int  # of ``tokens``, appended without the model; the rest are the model's choices


class ConstrainedDecoder:
    """Decodes with a tokenizer's llguidance view; one instance per tokenizer (building it takes ~2 s).

    Safe to share between threads: each :meth:`decode` has its own matcher, and the byte cache is
    only ever filled with the same values.
    """

    def __init__(self, tokenizer: Any, stop_ids: Sequence[int]) -> None:
        import llguidance.hf

        if not stop_ids:
            raise ValueError("stop_ids must name at least one end-of-turn token")
        self.tokenizer = tokenizer
        self.stop_ids = set(stop_ids)
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id in self.stop_ids else min(self.stop_ids)
        self.lltokenizer = llguidance.hf.from_tokenizer(tokenizer, eos_token=eos)
        self._bytes: dict[int, bytes] = {}

    def compile(self, schema: dict[str, Any]) -> str:
        """The llguidance grammar of a JSON schema, written compactly (no spaces, as ``to_text``)."""
        from llguidance import LLMatcher

        return LLMatcher.grammar_from_json_schema(
            json.dumps(schema, ensure_ascii=False), defaults=JSON_OPTIONS
        )

    def matcher(self, schema: dict[str, Any]) -> Any:
        """A fresh matcher for ``schema``.

        Raises:
            GrammarError: the schema is not one llguidance can compile.
        """
        from llguidance import LLMatcher

        matcher = LLMatcher(self.lltokenizer, self.compile(schema), log_level=0)
        if matcher.is_error():
            raise GrammarError(f"schema does not compile: {matcher.get_error()}")
        return matcher

    def decode(self, prompt: list[int], schema: dict[str, Any], step: Step, max_tokens: int = 160) -> Decoded:
        """Greedy decoding of ``prompt``'s continuation under ``schema``.

        ``step(tokens, allowed)`` runs the model on ``tokens`` (the prompt on the first call, then
        the tokens appended since the last call) and scores the ``allowed`` token ids; it is
        called only where the grammar leaves a real choice.

        Raises:
            GrammarError: the schema does not compile, or the output is still incomplete after
                ``max_tokens`` tokens.
        """
        matcher = self.matcher(schema)
        pending, out = list(prompt), []
        steps = forced = 0

        def append(tokens: list[int]) -> None:
            if not matcher.consume_tokens(tokens):
                raise GrammarError(f"token rejected by the grammar: {matcher.get_error()}")
            pending.extend(tokens)
            out.extend(tokens)

        while not matcher.is_stopped() and len(out) < max_tokens:
            ff = matcher.compute_ff_tokens()  # canonical tokens of the forced bytes
            if ff:
                append(ff)
                forced += len(ff)
                continue
            allowed = self._allowed(matcher)
            if len(allowed) == 0:
                raise GrammarError(matcher.get_error() or "the grammar allows no token")
            if len(allowed) == 1 and int(allowed[0]) in self.stop_ids:
                break  # complete: only the end-of-turn token is left
            inside = int(allowed[0]) if len(allowed) == 1 else self._inside_forced(matcher, allowed)
            if inside is not None:  # one token, or only ways of writing the forced bytes
                append([inside])
                forced += 1
                continue
            scores = step(pending, allowed)
            steps += 1
            pending = []
            token = int(allowed[int(np.argmax(scores))])
            if token in self.stop_ids:  # allowed only where the grammar is complete
                break
            append([token])
        if matcher.is_error() or not matcher.is_accepting():
            raise GrammarError(
                f"output incomplete after {len(out)} tokens (max {max_tokens}): "
                f"{self.lltokenizer.decode_str(out)[-80:]!r} {matcher.get_error() or ''}".rstrip()
            )
        return Decoded(text=self.lltokenizer.decode_str(out), tokens=out, model_steps=steps, forced=forced)

    # ------------------------------------------------------------------ internals
    def _allowed(self, matcher: Any) -> np.ndarray:
        """The allowed token ids, ascending (the bitmask is little-endian 32-bit words)."""
        mask = np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8)
        return np.flatnonzero(np.unpackbits(mask, bitorder="little"))

    def _inside_forced(self, matcher: Any, allowed: np.ndarray) -> int | None:
        """The longest allowed token, when every allowed token only writes part of the forced bytes
        (the end-of-turn token never is); else None: the model has to choose."""
        wanted = matcher.compute_ff_bytes()
        if not wanted:
            return None
        best, best_length = None, 0
        for t in allowed:
            piece = self._token_bytes(int(t))
            if not piece or not wanted.startswith(piece):
                return None  # this token goes past the forced bytes: a real choice
            if len(piece) > best_length:
                best, best_length = int(t), len(piece)
        return best

    def _token_bytes(self, token: int) -> bytes:
        piece = self._bytes.get(token)
        if piece is None:
            piece = b"" if token in self.stop_ids else self.lltokenizer.decode_bytes([token])
            self._bytes[token] = piece
        return piece
