"""Chinese tokens for BM25: jieba with the domain's vocabulary, stop words dropped."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

import jieba

jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict..." on every start

# Question words and particles: frequent in questions, absent from regulations, so they only add noise.
STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "有",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "多少",
        "哪些",
        "哪个",
        "哪",
        "是否",
        "一下",
        "请问",
        "请",
        "我们",
        "我院",
        "咱们",
        "这个",
        "那个",
        "这些",
        "那些",
        "要求",
        "规定",
        "关于",
        "对于",
        "按照",
        "以及",
        "可以",
        "能",
        "会",
        "该",
        "其",
        "之",
        "为",
        "被",
        "把",
        "中",
        "上",
        "下",
        "里",
        "对",
        "从",
        "到",
        "由",
        "等",
        "还",
        "也",
        "都",
        "就",
        "又",
        "而",
        "但",
    ]
)
_WORD = re.compile(r"[\w%‰]", re.UNICODE)


@cache
def domain_terms() -> tuple[str, ...]:
    text = resources.files("retrieval").joinpath("domain_terms.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def normalise(text: str) -> str:
    """NFKC folds full-width letters, digits and ％ to their ASCII forms; case is folded too."""
    return unicodedata.normalize("NFKC", text).lower()


class ChineseTokenizer:
    """jieba in search mode (whole words plus their parts), with the domain terms kept whole.

    Each instance owns its jieba dictionary, so terms added here do not leak into other users of
    jieba in the same process.
    """

    def __init__(self, extra_terms: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self.terms = sorted({normalise(t) for t in (*domain_terms(), *extra_terms) if t.strip()})
        for term in self.terms:
            self._jieba.add_word(term, freq=200_000)  # high enough that the term beats its parts

    def tokens(self, text: str) -> list[str]:
        words = self._jieba.cut_for_search(normalise(text))
        return [w for w in (w.strip() for w in words) if w and w not in STOP_WORDS and _WORD.search(w)]
