"""Mappers: each reads the question and adds scored candidates (with their evidence) to the context.

They run in the order the pipeline declares (serving/planner/pipeline.py); a later mapper sees what
the earlier ones found and reads only the words they left unexplained.
"""

from __future__ import annotations

from typing import Protocol

from serving.planner.context import Understanding


class Mapper(Protocol):
    name: str

    def map(self, ctx: Understanding) -> None:
        """Add candidates (or time expressions) to ``ctx``."""
