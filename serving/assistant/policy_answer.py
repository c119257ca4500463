"""A policy or fact answer that answers: one to three whole statements from the cited passages first,
each with its [n], then the sources.

The passages are cut into statements (a sentence; a lead-in ending in ： together with the items it
introduces, so both 人血白蛋白 conditions stay together), never inside a sentence. Each statement is
scored by how much of the question it covers (the question's words, with a few everyday words read
as the documents' words: 报销 → 支付), and the best ones from the best passages are the answer.
Reliability remarks inside a statement (（单一来源[S]）, （背景知识，未经核实）) and the corpus notice
(本文是……要点摘要) move to the source line, so the answer reads as an answer and the doubt stays
visible. When no statement covers enough of the question, the answer says that the documents do
not hold it and names the nearest ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from retrieval import Citation
from retrieval.embeddings import Embedder
from retrieval.text import ChineseTokenizer, normalise

NOT_HELD = "知识库中没有找到直接回答这个问题的条文"
SOURCES_HEADING = "来源："
MAX_STATEMENTS = 3
MAX_CHARS = 420  # all statements together: an answer, not a document
# share of the question's weighted words a statement must cover to count as an answer (tuned on
# evals/datasets/policy_dev.jsonl; README, issue #13)
HELD_COVERAGE = 0.34
_RELATED = 0.7  # a further statement must score this share of the best one
DENSE_WEIGHT = 0.4
_DENSE_CANDIDATES = 8  # statements embedded per answer
# e5's cosines are bunched: rescaled between these (an unrelated pair ~0.78, a close one ~0.92)
_COSINE_FLOOR, _COSINE_CEILING = 0.78, 0.92

# what people say → what the documents say
_SYNONYMS = {
    "报": ("支付",),
    "报销": ("支付", "基金"),
    "能报": ("支付",),
    "怎么报": ("支付", "条件"),
    "开几天": ("用量", "日"),
    "几天": ("日", "天"),
    "多久": ("年", "日", "期限"),
    "什么时候": ("年", "月", "起"),
    "哪年": ("年",),
    "几个方面": ("方面", "维度"),
    "哪几个方面": ("方面", "维度"),
    "几部分": ("部分",),
    "分几级": ("级",),
    "几级": ("级",),
    "多少钱": ("元",),
    "加价": ("加成",),
    "差价": ("加成",),
    "零差价": ("零加成",),
    "带量采购": ("集中采购", "集采"),
    "国考": ("绩效考核",),
    "抗生素": ("抗菌药物",),
}
# words that say what kind of answer is wanted, not what it is about: they weigh less
_LIGHT = frozenset(
    [
        "规定",
        "要求",
        "政策",
        "文件",
        "国家",
        "医院",
        "我们",
        "标准",
        "一下",
        "请问",
        "现在",
        "目前",
        "具体",
        "是不是",
        "有没有",
    ]
)
_REMARK = re.compile(
    r"[（(][^（）()]*(?:来源|核实|核对|背景知识|\[[SMV]\]|原文为准|待确认|未确认|未见|存疑)[^（）()]*[）)]"
)
_TAG = re.compile(r"\s*\[[SMV]\]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![”」』）)])")
_ITEM = re.compile(r"^\s*(?:\d+[.、．]|（[一二三四五六七八九十\d]+）|[-*•])\s*")


@dataclass
class Statement:
    text: str
    citation: int  # index into the answer's citations, from 0
    remarks: list[str] = field(default_factory=list)
    score: float = 0.0


@dataclass
class PolicyAnswer:
    text: str
    held: bool
    statements: list[Statement]


@cache
def _tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


def answer(question: str, citations: list[Citation], embedder: Embedder | None = None) -> PolicyAnswer:
    """The answer text for ``question`` from ``citations`` (in the order the answer numbers them).

    ``embedder`` (the knowledge base's model) adds how close each statement is in meaning to the
    question; without it the words alone decide.
    """
    weights = _weights(question)
    statements = [s for n, c in enumerate(citations) for s in statements_of(c, n)]
    coverage = [_coverage(s.text, weights) for s in statements]
    meaning = _meaning(question, statements, embedder, coverage)
    for s, close, words in zip(statements, meaning, coverage, strict=True):
        s.score = (words if close is None else (1 - DENSE_WEIGHT) * words + DENSE_WEIGHT * close) + 0.02 / (
            1 + s.citation
        )
    ranked = sorted(statements, key=lambda s: -s.score)
    best = ranked[0] if ranked else None
    if best is None or best.score < HELD_COVERAGE:
        return PolicyAnswer(text=_not_held(citations), held=False, statements=[])
    chosen = [best]
    for s in ranked[1:]:
        if len(chosen) == MAX_STATEMENTS or sum(len(c.text) for c in chosen) + len(s.text) > MAX_CHARS:
            break
        if s.score >= best.score * _RELATED and not any(_same(s.text, c.text) for c in chosen):
            chosen.append(s)
    # in reading order within a passage, best passage first
    chosen.sort(key=lambda s: (s.citation != best.citation, s.citation, statements.index(s)))
    body = "".join(f"{s.text}[{s.citation + 1}]" for s in chosen)
    return PolicyAnswer(text=body + "\n\n" + sources(citations, chosen), held=True, statements=chosen)


def statements_of(citation: Citation, index: int) -> list[Statement]:
    """The whole statements of a passage: headings and the corpus notice left out."""
    lines = [
        line
        for line in citation.text.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", ">", "|"))
    ]
    units: list[str] = []
    lead: str | None = None
    for line in lines:
        line = line.strip()
        if _ITEM.match(line) and lead is not None:
            lead += line  # the items a lead-in (……以下两项条件：) introduces stay with it
            continue
        if lead is not None:
            units.append(lead)
            lead = None
        if line.endswith(("：", ":")):
            lead = line
            continue
        units += [s for s in _SENTENCE_END.split(line) if s.strip()]
    if lead is not None:
        units.append(lead)
    found = []
    for unit in units:
        remarks = [m.strip("（）()") for m in _REMARK.findall(unit)]
        text = _TAG.sub("", _REMARK.sub("", unit)).strip()
        if len(text) >= 6:
            found.append(Statement(text=text, citation=index, remarks=remarks))
    return found


def sources(citations: list[Citation], chosen: list[Statement]) -> str:
    """One line per cited document: label, issuer, date, status, and how far it can be trusted."""
    lines = [SOURCES_HEADING]
    for n, c in enumerate(citations):
        origin = "医院内部文件" if c.scope == "internal" else c.issuer
        facts = ", ".join(filter(None, [origin, c.issue_date, c.status]))
        remarks = [r for s in chosen if s.citation == n for r in s.remarks]
        notes = []
        if c.scope != "internal":
            notes.append("项目整理的要点摘要，非官方原文")
        if remarks:
            notes.append("；".join(dict.fromkeys(remarks)))
        elif c.reliability and re.search(r"\[[SM]\]", c.reliability):
            notes.append("文件含单一来源或未核实的内容，详见引用")
        note = f"（{'；'.join(notes)}）" if notes else ""
        lines.append(f"[{n + 1}] {c.label}，{facts}{note}")
    return "\n".join(lines)


def _not_held(citations: list[Citation]) -> str:
    titles = list(dict.fromkeys(f"《{c.title}》" for c in citations))[:3]
    nearest = f"最接近的文件：{'、'.join(titles)}。" if titles else "知识库中也没有相关的文件。"
    text = f"{NOT_HELD}。{nearest}可以换个说法再问，或请管理员把相关文件加入知识库。"
    return text + ("\n\n" + sources(citations, []) if citations else "")


def _meaning(
    question: str, statements: list[Statement], embedder: Embedder | None, coverage: list[float]
) -> list[float | None]:
    """How close in meaning each statement is to the question. Only the statements the words rank
    highest are embedded (embedding all of them cost about a second per answer on 2 cores); the
    others count as far, which they are in words already."""
    if embedder is None or not statements:
        return [None] * len(statements)
    ranked = sorted(range(len(statements)), key=lambda i: -coverage[i])[:_DENSE_CANDIDATES]
    query = embedder.embed_queries([question])[0]
    vectors = embedder.embed_passages([statements[i].text for i in ranked])
    span = _COSINE_CEILING - _COSINE_FLOOR
    close: list[float | None] = [0.0] * len(statements)
    for i, c in zip(ranked, (vectors @ query).tolist(), strict=True):
        close[i] = float(min(1.0, max(0.0, (c - _COSINE_FLOOR) / span)))
    return close


def _weights(question: str) -> dict[str, float]:
    words = _tokenizer().tokens(question)
    weights: dict[str, float] = {}
    for word in words:
        weight = (0.3 if word in _LIGHT else 1.0) * min(len(word), 4)
        weights[word] = max(weights.get(word, 0.0), weight)
    for said, meant in _SYNONYMS.items():
        if said in question:
            for word in meant:
                weights.setdefault(word, 1.5)
    return weights


def _coverage(text: str, weights: dict[str, float]) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    text = normalise(text)  # the question's words are normalised (CHS-DRG → chs-drg)
    return sum(w for word, w in weights.items() if word in text) / total


def _same(a: str, b: str) -> bool:
    """Two statements that say the same (a national rule repeated by the hospital's own document)."""
    shorter, longer = sorted((a, b), key=len)
    grams = {shorter[i : i + 4] for i in range(max(1, len(shorter) - 3))}
    return sum(g in longer for g in grams) >= 0.6 * len(grams)
