"""The LLM parser: a language model chooses a compact plan among the question's mapped candidates.

Modules: ``compact`` (the compact plan form, its per-question JSON schema, encode/decode),
``prompt`` (the fixed system part and the short per-question part, shared with training),
``constrained`` (grammar-constrained greedy decoding with llguidance), ``parser`` (``LLMParser``,
with the fallback counters), ``backends`` (local transformers folder, OpenAI-compatible endpoint),
``factory`` (from settings), ``validate`` (name and date checks), ``report`` (evaluation counters),
``demo_model`` and ``tiny`` (model folders). Nothing here imports torch or transformers until a
local backend or model is actually built.
"""
