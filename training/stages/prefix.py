"""SFT with the shared system prompt computed once per batch, as the planner computes it once at serving.

Every plan conversation starts with the same rendered system message (about 350 tokens); the
per-question part and the compact plan are 150 to 300 more. The serving backend runs the system
prompt once and reuses its KV cache; this trainer does the same per optimisation batch: the prefix
is run once, without gradients (the adapter of that step, dropout off), its cache is shared by every
row of the batch, and only the rest of each row is run with gradients. The forward pass is exactly
the one served; what is left out is the gradient through the system prompt's own positions, which
no served question can change anyway. Logits are computed only where the loss is (the completion),
not for all 151,936 vocabulary rows at every position. On 2 CPU cores this is about 3 times the
speed of the plain SFTTrainer step (docs/training.md).

A batch whose rows do not all start with the prefix falls back to trl's own loss.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from trl import SFTTrainer


class SharedPrefixSFTTrainer(SFTTrainer):
    """trl's SFTTrainer with the shared prefix of every row computed once per batch."""

    def __init__(self, *args: Any, prefix_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not prefix_ids:
            raise ValueError("prefix_ids must hold the shared prefix's tokens")
        self.prefix_ids = torch.tensor(prefix_ids, dtype=torch.long)
        # the loss is a mean over this batch's completion tokens; the Trainer averages the
        # accumulated batches (the same weighting as trl's default)
        self.model_accepts_loss_kwargs = False
        self.prefix_batches = 0

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        ids, mask, labels = inputs["input_ids"], inputs.get("attention_mask"), inputs.get("labels")
        size = len(self.prefix_ids)
        if mask is None or labels is None or not self._shares_prefix(ids, mask, labels):
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        self.prefix_batches += 1
        loss, logits, target = shared_prefix_loss(model, ids, mask, labels, size)
        self._log_batch(logits, target, mask)
        return (loss, {"loss": loss}) if return_outputs else loss

    def _shares_prefix(self, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> bool:
        size = len(self.prefix_ids)
        if ids.shape[1] <= size:
            return False
        prefix = self.prefix_ids.to(ids.device)
        return bool(
            (ids[:, :size] == prefix).all() and mask[:, :size].all() and (labels[:, : size + 1] == -100).all()
        )

    def _log_batch(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
        mode = "train" if self.model.training else "eval"
        with torch.no_grad():
            accuracy = (logits.argmax(-1) == target).float().mean().item() if len(target) else 0.0
        self._metrics[mode]["mean_token_accuracy"].append(accuracy)
        if mode == "train":
            self._total_train_tokens += int(mask.sum().item())
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]


def shared_prefix_loss(
    model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean cross-entropy over the labelled tokens, with the first ``size`` tokens (the same in
    every row) run once without gradients; returns the loss, the completion logits and targets."""
    decoder, head = decoder_and_head(model)
    batch = ids.shape[0]
    cache = DynamicCache(config=decoder.config)
    training = model.training
    model.eval()  # the served prefix has no dropout
    with torch.no_grad():
        decoder(input_ids=ids[:1, :size], past_key_values=cache, use_cache=True)
    model.train(training)
    for layer in cache.layers:
        layer.keys = layer.keys.expand(batch, -1, -1, -1).contiguous()
        layer.values = layer.values.expand(batch, -1, -1, -1).contiguous()
    hidden = decoder(
        input_ids=ids[:, size:], attention_mask=mask, past_key_values=cache, use_cache=True
    ).last_hidden_state
    # hidden[:, i] is position size + i and predicts the token at size + i + 1
    target = labels[:, size + 1 :]
    keep = target != -100
    rows = hidden[:, :-1][keep]  # 2-D and contiguous: a 3-D slice makes matmul copy the head
    logits = head(rows).float()
    return F.cross_entropy(logits, target[keep]), logits, target[keep]


def decoder_and_head(model: Any) -> tuple[Any, Any]:
    """The transformer stack (hidden states, no logits) and the output layer of a causal LM, under
    a peft wrapper or not."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(base, base.base_model_prefix), base.get_output_embeddings()


def shared_prefix_ids(tokenizer: Any, system_messages: list[dict[str, str]]) -> list[int]:
    """The tokens of the rendered system message: the prefix the server caches (LocalBackend)."""
    from serving.planner.llm.prompt import render

    text = render(tokenizer, system_messages, add_generation_prompt=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]
