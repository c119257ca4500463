"""Data builders: the PT corpus, SFT conversations, RM preference pairs and PPO/GRPO prompts."""
