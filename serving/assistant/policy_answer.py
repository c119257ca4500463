"""A policy or fact answer that answers: one to three whole statements from the cited passages first,
each with its [n], then the sources.

The passages are cut into statements (a sentence; a lead-in ending in ： together with the items it
introduces, so both 人血白蛋白 conditions stay together), never inside a sentence. Each statement is
scored by how much of the question it covers (the question's words, with a few everyday words read
as the documents' words: 报销 → 支付; a word found only in the heading above a statement counts
less), whether it gives the kind of answer asked for (a document number for 几号令, a date for
哪天, a count for 多少), and how close it is in meaning; the best ones from the best passages are the
answer. Reliability remarks inside a statement (（单一来源[S]）, （背景知识，未经核实）) and the
corpus notice (本文是……要点摘要) move to the source line, so the answer reads as an answer and the
doubt stays visible. When no statement covers enough of the question, when the best one is only
background knowledge that nobody verified (an [M] fact), or when the documents themselves say they
do not hold it (本项目未找到……), the answer says that the documents do not hold it, and shows the
nearest statements as what they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from retrieval import Citation, KnowledgeBase
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
# a remark that says the statement itself is not verified (an [M] fact in facts.md): it is not an
# answer, only the nearest thing the documents say
_UNVERIFIED = re.compile(r"未经核实|未核实|背景知识|原文未找到|\[M\]")
# ... unless another remark of it names a source ([S]) or a check ([V]): then it is partly sourced
_SOURCED = re.compile(r"来源|新闻|转载|待核对|已核实|\[[SV]\]")
# the documents saying that they do not hold something (本项目未找到……的文件)
_ABSENT = re.compile(r"未找到|没有找到|未能确认|没有见到")
# what kind of answer a question asks for (a document number, a date, a count, a list) and how a
# statement that gives one looks: a statement of the asked kind ranks above one that only shares words
_ANSWER_KINDS = (
    (re.compile(r"几号令|文号|几号文|令号"), re.compile(r"〔\d{4}〕\d+号|令第?\d+号|第\d+号令")),
    (
        re.compile(r"哪天|哪一天|什么时候|何时|哪年|哪一年|哪个月|几月|几号发|施行|印发|发布"),
        re.compile(r"\d{4}年(?:\d{1,2}月)?|\d{1,2}月\d{1,2}日"),
    ),
    (
        re.compile(r"多少|几(?:个|项|类|级|天|日|周|年|成|倍|部分|块|种)|最长|最多|不超过"),
        re.compile(r"\d|[一二三四五六七八九十两]+(?:个|项|类|级|天|日|周|年|部分|块|大类|种)"),
    ),
    (re.compile(r"哪几|哪些|包括|分为|分哪|是哪|有哪"), re.compile(r"[：:]\s*1[.、．]|[^、]+、[^、]+、")),
)
ANSWER_KIND_BONUS = 0.12
# a word of the question found only in the statement's section heading counts this much
HEADING_SHARE = 0.8
_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![”」』）)])")
_ITEM = re.compile(r"^\s*(?:\d+[.、．]|（[一二三四五六七八九十\d]+）|[-*•])\s*")


@dataclass
class Statement:
    text: str
    citation: int  # index into the answer's citations, from 0
    remarks: list[str] = field(default_factory=list)
    score: float = 0.0
    context: str = ""  # the headings above it: what a list item is about (1. 第一部分为前置要求)

    @property
    def unverified(self) -> bool:
        return any(_UNVERIFIED.search(r) for r in self.remarks) and not any(
            _SOURCED.search(r) for r in self.remarks
        )

    @property
    def absent(self) -> bool:
        return bool(_ABSENT.search(self.text))


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
    kinds = [shape for asks, shape in _ANSWER_KINDS if asks.search(question)]
    statements = [s for n, c in enumerate(citations) for s in statements_of(c, n)]
    weights = _weights(question)
    coverage = [_coverage(s.text, weights, s.context) + _kind_bonus(s.text, kinds) for s in statements]
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
    doubt = _doubt(best)
    if doubt:  # the nearest statement, said to be no verified answer
        body = f"{NOT_HELD}{doubt}：{body}"
    return PolicyAnswer(text=body + "\n\n" + sources(citations, chosen), held=not doubt, statements=chosen)


def _doubt(best: Statement) -> str:
    """Why the best statement is not an answer: the documents say they do not hold it, or they hold
    it only as an unverified remark; empty when it is an answer."""
    if best.absent:
        return "，文件中的相关说明"
    if best.unverified:
        return "（经核实的）；最接近的说法未经核实，仅供参考"
    return ""


def knowledge_of(kb: KnowledgeBase, k: int = 3) -> Callable[[str], float]:
    """How well ``kb`` answers a question: the score of the best statement an answer would lead
    with (0 when nothing is found). The planner asks it before asking a question back."""

    def known(question: str) -> float:
        hits = kb.search(question, k=k).hits
        found = answer(question, hits, kb.embedder).statements
        return max((s.score for s in found), default=0.0)

    return known


def statements_of(citation: Citation, index: int) -> list[Statement]:
    """The whole statements of a passage, each with the headings above it; headings, tables and the
    corpus notice are no statements."""
    units: list[tuple[str, str]] = []  # (statement, the heading above it)
    lead: tuple[str, str] | None = None
    heading = " ".join(citation.heading_path)
    for raw in citation.text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            heading = " ".join([*citation.heading_path, line.strip("# ")])
            continue
        if not line or line.startswith((">", "|")):
            continue
        if _ITEM.match(line) and lead is not None:
            lead = (lead[0] + line, lead[1])  # the items a lead-in (……以下两项条件：) introduces stay with it
            continue
        if lead is not None:
            units.append(lead)
            lead = None
        if line.endswith(("：", ":")):
            lead = (line, heading)
            continue
        units += [(s, heading) for s in _SENTENCE_END.split(line) if s.strip()]
    if lead is not None:
        units.append(lead)
    found = []
    for unit, context in units:
        remarks = [m.strip("（）()") for m in _REMARK.findall(unit)]
        text = _TAG.sub("", _REMARK.sub("", unit)).strip()
        if len(text) >= 6:
            found.append(Statement(text=text, citation=index, remarks=remarks, context=context))
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


def _coverage(text: str, weights: dict[str, float], context: str = "") -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    text = normalise(text)  # the question's words are normalised (CHS-DRG → chs-drg)
    context = normalise(context)
    own = sum(w for word, w in weights.items() if word in text)
    above = sum(w for word, w in weights.items() if word not in text and word in context)
    return (own + HEADING_SHARE * above) / total


def _kind_bonus(text: str, kinds: list[re.Pattern[str]]) -> float:
    """The share of the asked kinds of answer the statement gives, times the bonus."""
    if not kinds:
        return 0.0
    return ANSWER_KIND_BONUS * sum(bool(k.search(text)) for k in kinds) / len(kinds)


def _same(a: str, b: str) -> bool:
    """Two statements that say the same (a national rule repeated by the hospital's own document)."""
    shorter, longer = sorted((a, b), key=len)
    grams = {shorter[i : i + 4] for i in range(max(1, len(shorter) - 3))}
    return sum(g in longer for g in grams) >= 0.6 * len(grams)
