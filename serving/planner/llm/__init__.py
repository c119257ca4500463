"""The ``llm`` planner: a language model writes the plan, validated, repaired once, rules as fallback.

Modules: ``prompt`` (model input and output format, shared with training), ``validate`` (names and
dates), ``planner`` (``LLMPlanner``), ``backends`` (local transformers folder, OpenAI-compatible
endpoint), ``factory`` (from settings), ``demo_model`` and ``tiny`` (model folders). Nothing here
imports torch or transformers until a local backend or model is actually built.
"""
