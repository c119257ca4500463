"""The dictionary mapper: catalog names and aliases, dimension members, aliases.yaml, same-sound typos."""

from __future__ import annotations

from serving.planner.context import Candidate, Understanding
from serving.planner.lexicon import Lexicon

# a name read by its sound (药站比) is a little less certain than one spelled right
_SCORES = {"name": 1.0, "phrase": 0.95, "doctor": 1.0, "sound": 0.9}


class DictionaryMapper:
    name = "dictionary"

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def map(self, ctx: Understanding) -> None:
        ctx.add(
            [
                Candidate(
                    kind=m.kind,
                    value=m.canonical,
                    start=m.start,
                    end=m.end,
                    text=m.text,
                    score=_SCORES[m.how],
                    mapper=f"{self.name}:{m.how}",
                )
                for m in self.lexicon.find(ctx.text)
            ]
        )
