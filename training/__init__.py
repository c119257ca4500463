"""Training the planner's LLM: data builders and the pt → sft → rm → ppo stages (also dpo, grpo).

Builds on the one tool schema (serving/tools.py) and the llm planner's prompt (serving/planner/llm/
prompt.py): training and serving render conversations with the same function.
"""
