"""What the mapping left unexplained: the router's and the embedding mapper's common measure.

The names the mappers found, the time expressions, the words that signal a comparison, a
breakdown, a ranking or the kind of answer, and the fillers of a question explain their words.
What remains (翻得最快 in 哪个科室的床翻得最快) is what only a model, or a better dictionary, can read.
"""

from __future__ import annotations

import re

from serving.planner import patterns as P
from serving.planner.context import Understanding

# the signal words of the rules parser, in the order they are removed (longest phrases first)
_SIGNALS = [
    P.OFF_TOPIC,
    P.TARGET_VALUE,
    P.MEETS_TARGET,
    P.EXPLAIN,
    P.LIST_INDICATORS,
    P.LIST_DIMENSION,
    P.YOY,
    P.MOM,
    *(re.compile(pattern) for _, pattern in P.GROUPS),
    P.TREND,
    P.TOP,
    P.BOTTOM,
    P.HIGHEST,
    P.LOWEST,
    P.RANKING,
    P.WHOLE_HOSPITAL,
    P.COMBINED,
    P.ADD_INDICATOR,
    P.REPLACE,
    P.POLICY,
    P.FIGURE,
    re.compile(r"门急诊|门诊|急诊|住院|科室|院区|医生|大夫|主任|指标|同期|相比|对比|比较|比|较"),
    P.FILLERS,
]
_CONTENT = re.compile(r"[\u4e00-\u9fff]|[a-z]{3,}", re.I)


def residue(ctx: Understanding, min_score: float = 0.6) -> str:
    """The question's words no candidate, time expression, signal word or filler explains."""
    taken = ctx.covered(min_score)
    text = "".join(" " if i in taken else ch for i, ch in enumerate(ctx.text))
    text = P.english_periods(text)
    for pattern in _SIGNALS:
        text = pattern.sub(" ", text)
    text = re.sub(r"[\d\s，。？！、,.?!:：;；()（）“”\"'—\-~]+", " ", text)
    return " ".join(text.split())


def content_size(text: str) -> int:
    """Characters (or English words) that carry meaning."""
    return len(_CONTENT.findall(text))
