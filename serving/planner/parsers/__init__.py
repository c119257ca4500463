"""Parsers: turn an understood question (the context after mapping and intent) into a plan.

``rules`` reads the plan off the candidates and the words; ``llm`` asks a language model to choose
among the candidates. Both return a Plan that the correctors then tidy.
"""

from __future__ import annotations

from typing import Protocol

from serving.planner.context import Understanding
from serving.planner.intent import Reading
from serving.tools import Plan


class Parser(Protocol):
    name: str

    def parse(self, ctx: Understanding, reading: Reading) -> Plan | None:
        """The plan, or None when this parser cannot plan the question (the pipeline falls back)."""
