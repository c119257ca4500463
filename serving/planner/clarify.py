"""When a name fits several things, ask; when the next message picks one, finish the question.

Three kinds of ambiguity: a department group (内科 → which internal-medicine department), a generic
indicator name that several indicators end with (次均费用 → 门诊 or 住院), and a doctor named by
surname (骨科马医生 → which of the department's doctors named 马). The answer to a clarification is
read against its options (心内科, 住院的, 第二个), and the original question is planned again with the
choice written in, so the follow-up keeps everything else the first question said.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jieba

from indicators import Catalog
from indicators.query.dimensions import DimensionIndex
from retrieval.text import normalise
from serving.planner.lexicon import Lexicon, Mention
from serving.planner.timeexpr import number
from serving.tools import Clarification

_DOCTOR_BY_SURNAME = re.compile(r"([\u4e00-\u9fff])(?:医生|大夫|主任|医师)")
_FILLER = re.compile(r"[的是要看那就吧呢啊呀选我个嗯行，。？！,.?!\s]|这个|那个|就是|还是|也行|可以|好的")
_ORDINAL = re.compile(r"第\s*([0-9一二两三四五六七八九十]+)\s*(?:个|项|位|种)?")
_ENGLISH_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_ENGLISH_ORDINAL = re.compile(rf"\b({'|'.join(_ENGLISH_ORDINALS)})\b")
_ALL = re.compile(r"两个都要|都要|都看|全部|全都|both|all of them")
_MIN_GENERIC = 3  # 占比, 收入 (2 characters) are too general to ask about
# endings that stand for a kind of figure rather than for a few indicators: every specific one
# (门诊收入占比, 药品收入占比) is an alias already, so these alone are not worth a question
# 增长率 alone follows any figure (门诊人次增长率 asks for 同比), so it names no indicator either
_NOT_GENERIC = re.compile(r"^(?:的|占|中|来自)|^收入(?:占比|比例)$|^(?:增长率|增幅|占比|比例)$")


@dataclass(frozen=True)
class Ambiguity:
    clarification: Clarification
    text: str  # the words in the question that were ambiguous; the choice replaces them


class Clarifier:
    def __init__(self, catalog: Catalog, dimensions: DimensionIndex, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.generic = generic_indicator_names(catalog, lexicon)
        departments = {m.code: m.name for m in dimensions.members.get("department", [])}
        self.doctor_department = {
            m.name: departments.get(m.attributes.get("dept_code", ""), "")
            for m in dimensions.members.get("doctor", [])
        }

    def ambiguity(
        self, text: str, mentions: list[Mention], departments: Sequence[str] = ()
    ) -> Ambiguity | None:
        """``departments``: the ones the conversation is about, when the question names none."""
        return (
            self._department_group(mentions)
            or self._generic_indicator(text, mentions)
            or self._doctor_surname(text, mentions, departments)
        )

    def resolve(self, answer: str, question: str, asked: Clarification) -> str | None:
        """The earlier question with the user's choice written in, or None when nothing was chosen."""
        choice = choose(answer, asked.options, self.lexicon)
        if choice is None:
            return None
        found = self.ambiguity(normalise(question), self.lexicon.find(question))
        if (
            found is None
        ):  # an unknown indicator: the choice joins the question, the unknown name stays unread
            return f"{normalise(question)} {choice}"
        suffix = "医生" if found.clarification.slot == "doctor" else ""
        if is_group_total(choice):  # the group's total: every member, summed (Σ分子 ÷ Σ分母)
            choice = "、".join(o for o in asked.options if o != choice) + "合计"
        return normalise(question).replace(found.text, choice + suffix, 1)

    # ------------------------------------------------------------------ kinds
    def _department_group(self, mentions: list[Mention]) -> Ambiguity | None:
        for m in mentions:
            if m.kind == "department_group":
                members = self.lexicon.departments_by_group.get(m.canonical, [])
                total = group_total(m.canonical)
                options = [*members, total] if len(members) > 1 else members
                question = f"“{m.text}”包含多个科室，请问是哪一个？也可以看{total}。"
                return Ambiguity(Clarification(slot="department", question=question, options=options), m.text)
        return None

    def _generic_indicator(self, text: str, mentions: list[Mention]) -> Ambiguity | None:
        indicator_spans = [(m.start, m.end) for m in mentions if m.kind == "indicator"]
        for term in sorted(self.generic, key=len, reverse=True):
            for match in re.finditer(re.escape(term), text):
                inside = any(s <= match.start() and match.end() <= e for s, e in indicator_spans)
                if not inside:
                    rest = text[: match.start()] + text[match.end() :]
                    options = _settled_by_context(self.generic[term], term, rest)
                    if len(options) == 1:  # written out in full, the name replaces what was said of it
                        said = _with_prefix(text, match.start(), options[0][: -len(term)]) + term
                        return Ambiguity(Clarification(slot="indicator", question="", options=options), said)
                    question = f"“{term}”对应{len(options)}个指标，请问您要看哪一个？"
                    return Ambiguity(
                        Clarification(slot="indicator", question=question, options=options), term
                    )
        return None

    def _doctor_surname(
        self, text: str, mentions: list[Mention], earlier: Sequence[str] = ()
    ) -> Ambiguity | None:
        if any(m.kind == "doctor" for m in mentions):
            return None
        match = _DOCTOR_BY_SURNAME.search(text)
        if not match:
            return None
        departments = {m.canonical for m in mentions if m.kind == "department"} or set(earlier)
        options = [
            name
            for name, department in self.doctor_department.items()
            if name.startswith(match.group(1)) and (not departments or department in departments)
        ]
        if len(options) < 2:
            return None  # one doctor: the lexicon's mention or the filter below will do; none: not a name
        where = "、".join(sorted(departments))
        question = f"{where}有{len(options)}位{match.group(1)}姓医生，请问您指的是哪一位？"
        return Ambiguity(Clarification(slot="doctor", question=question, options=options), match.group(0))


def group_total(group: str) -> str:
    """The option that asks for a department group's total: 全部内科合计."""
    return f"全部{group}合计"


def is_group_total(option: str) -> bool:
    return option.startswith("全部") and option.endswith("合计")


def _settled_by_context(options: list[str], term: str, rest: str) -> list[str]:
    """The options whose distinguishing word the rest of the question says: 出院患者的次均费用 is
    住院次均费用. All of them when it says none or several."""
    said = [o for o in options if _distinguishing(o[: -len(term)]) in rest.replace("出院", "住院")]
    return said if len(said) == 1 else options


def _with_prefix(text: str, start: int, prefix: str) -> str:
    """The words before ``start`` that belong to ``prefix``: 门诊收入中 before 医保基金的比例."""
    for size in range(min(len(prefix), start), 0, -1):
        if text[start - size : start] in prefix:
            return text[start - size : start]
    return ""


def _distinguishing(prefix: str) -> str:
    return prefix[:2] if len(prefix) >= 2 else prefix or "\0"


def choose(answer: str, options: list[str], lexicon: Lexicon) -> str | None:
    """Which option an answer picks: by name or alias (心内科), by a unique part (住院的), by ordinal."""
    text = normalise(answer)
    named = [m.canonical for m in lexicon.find(text) if m.canonical in options]
    named += [o for o in options if normalise(o) in text]
    if len(set(named)) == 1:
        return named[0]
    ordinal = _ORDINAL.search(text)
    if ordinal and 1 <= number(ordinal.group(1)) <= len(options):
        return options[number(ordinal.group(1)) - 1]
    english = _ENGLISH_ORDINAL.search(text)
    if english and _ENGLISH_ORDINALS.index(english.group(1)) < len(options):
        return options[_ENGLISH_ORDINALS.index(english.group(1))]
    if _ALL.search(text) and 1 < len(options) <= 3:
        return "和".join(options)
    core = _FILLER.sub("", text)
    if len(core) >= 2:
        partial = [o for o in options if core in normalise(o)]
        if len(partial) == 1:
            return partial[0]
    return None


def generic_indicator_names(catalog: Catalog, lexicon: Lexicon) -> dict[str, list[str]]:
    """Endings shared by several computable indicators' names or aliases that are not a name
    themselves: 次均费用 (门诊/住院次均费用), 次均药费 (门诊/住院次均药费), 死亡率."""
    active = [i for i in catalog.indicators.values() if i.status != "not_available"]
    order = [i.name for i in active]
    endings: dict[str, set[str]] = {}
    for indicator in active:
        for label in (indicator.name, *indicator.aliases):
            # endings that start on a word boundary only: 次均费用, not 均费用
            boundaries = set(itertools.accumulate(len(w) for w in jieba.lcut(label)))
            for size in range(_MIN_GENERIC, len(label)):
                if len(label) - size in boundaries:
                    endings.setdefault(label[-size:], set()).add(indicator.name)
    return {
        term: sorted(found, key=order.index)
        for term, found in endings.items()
        if len(found) > 1
        and normalise(term) not in lexicon.terms
        and re.fullmatch(r"[\u4e00-\u9fff]+", term)
        and not _NOT_GENERIC.search(term)
    }
