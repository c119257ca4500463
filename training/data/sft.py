"""SFT conversations: question → compact plan in the exact inference form, and tool results → answer.

Plan examples are the messages ``LLMParser.request`` builds for the question (the fixed system
prompt and the per-question part with the mapped candidates) plus the gold plan in compact form,
``to_text(encode(gold))``: exactly what the parser sends and what it decodes
(training/data/conversations.py). Each row also keeps the question, its history and the gold plan,
so a test or a reward can map the question again and decode the target. Answer examples run the
plan for real (``Executor``) and take the composer's text as the target: it passes
``check_numbers``, so the model only ever sees answers whose every number is in the tool results
it was given.
"""

from __future__ import annotations

import json
import re
from typing import Any

from serving.assistant.composer import compose
from serving.assistant.executor import Executor, ToolResult
from serving.assistant.numbers import NUMBER, canon, check_numbers
from serving.planner.llm.prompt import Message
from serving.tools import Plan, Turn
from training.data.conversations import Encoded
from training.data.questions import Item

ANSWER_SYSTEM = (
    "你是医院运营助手。根据用户问题和工具结果（JSON）用中文回答：数字只能来自工具结果，不得编造或推算；"
    "说明统计期和口径；引用政策时逐条注明出处（文件名、文号、条款），用 [1] [2] 编号。"
)
_MAX_ROWS = 24  # a breakdown's first rows are what the answer speaks of; the rest only costs tokens
_MAX_PASSAGE = 400


def plan_example(
    encoded: Encoded, question: str, history: tuple[Turn, ...], gold: Plan, tags: list[str]
) -> dict[str, Any]:
    """One turn: the parser's messages, then the compact target as the assistant message."""
    return {
        "messages": [*encoded.messages, {"role": "assistant", "content": encoded.text}],
        "kind": "plan",
        "tags": tags,
        **turn_record(question, history, gold),
    }


def turn_record(question: str, history: tuple[Turn, ...], gold: Plan) -> dict[str, Any]:
    """The question, its history (earlier questions with their gold plans) and the gold plan."""
    return {
        "question": question,
        "history": [{"question": t.question, "plan": t.plan.model_dump(mode="json")} for t in history],
        "gold": gold.model_dump(mode="json"),
    }


def turns_of(row: dict[str, Any]) -> tuple[str, tuple[Turn, ...], Plan]:
    """A row's question, history and gold plan back as objects."""
    from serving.tools import PLAN_ADAPTER

    history = tuple(
        Turn(question=t["question"], plan=PLAN_ADAPTER.validate_python(t["plan"])) for t in row["history"]
    )
    return row["question"], history, PLAN_ADAPTER.validate_python(row["gold"])


def answer_messages(question: str, results: list[ToolResult]) -> list[Message]:
    """The prompt of an answer example (and of the RM's answer pairs): question + compact results."""
    digest = json.dumps([digest_result(r) for r in results], ensure_ascii=False, separators=(",", ":"))
    return [
        {"role": "system", "content": ANSWER_SYSTEM},
        {"role": "user", "content": f"问题：{question}\n工具结果：{digest}"},
    ]


def answer_example(executor: Executor, item: Item) -> tuple[dict[str, Any], list[ToolResult]] | None:
    """None when the composed answer holds a number the digest lost (the example would teach invention)."""
    results = executor.run(item.plan.calls)
    answer = compose(item.plan, results)
    check_numbers(answer.text, results)  # compose checks too; kept here so the guarantee is local
    messages = answer_messages(item.question, results)
    if not numbers_covered(answer.text, messages[-1]["content"]):
        return None
    messages.append({"role": "assistant", "content": answer.text})
    return {"messages": messages, "kind": "answer", "tags": [*item.tags, "answer"]}, results


def numbers_covered(answer: str, prompt: str) -> bool:
    """Every number of the answer (citation markers aside) appears in the prompt's digest."""
    return not uncovered_numbers(answer, prompt)


def uncovered_numbers(answer: str, prompt: str) -> list[str]:
    allowed = set()
    for n in NUMBER.findall(prompt):
        allowed.add(canon(n))
        try:
            value = float(n.replace(",", ""))
        except ValueError:
            continue
        # the composer prints values at the indicator's precision (0-4 decimals)
        allowed.update(canon(f"{value:.{p}f}") for p in range(5))
    return [n for n in NUMBER.findall(re.sub(r"\[\d+\]", "", answer)) if canon(n) not in allowed]


def digest_result(r: ToolResult) -> dict[str, Any]:
    """What the answer needs from a tool result, without ids, scores and timings."""
    out: dict[str, Any] = {"tool": r.tool, "role": r.role, "ok": r.ok}
    if not r.ok:
        out["error"] = (r.error or {}).get("message", "")
        return out
    if r.query is not None:
        q = r.query.query
        out["period"] = [q.start.isoformat(), q.end.isoformat()]
        if q.filters:
            out["filters"] = q.filters
        if q.group_by:
            out["group_by"] = q.group_by
        out["results"] = [
            {
                "name": ind.name,
                "unit": ind.unit,
                "definition": ind.definition,
                "version": ind.version,
                "source": ind.source_document,
                "row_count": len(ind.rows),
                "rows": [_row(row) for row in ind.rows[:_MAX_ROWS]],
                **({"targets": [t.model_dump(mode="json") for t in ind.targets]} if ind.targets else {}),
            }
            for ind in r.query.results
        ]
    if r.citations:
        out["citations"] = [
            {"label": c.label, "issuer": c.issuer, "scope": c.scope, "text": _passage(c.text)}
            for c in r.citations
        ]
    if r.tool == "explain_indicator":
        ind = r.data["indicator"]
        keep = (
            "name",
            "definition",
            "formula",
            "unit",
            "direction",
            "caliber_note",
            "status",
            "unavailable_reason",
        )
        out["indicator"] = {k: ind[k] for k in keep if ind.get(k)}
        out["indicator"]["versions"] = [
            {k: v[k] for k in ("version", "effective_from", "note")} for v in ind.get("versions") or []
        ]
    elif r.data:
        # the composer states how many there are: the count must be in what the model reads
        out["data"] = {**r.data, **{f"{k}_count": len(v) for k, v in r.data.items() if isinstance(v, list)}}
    return out


def _passage(text: str) -> str:
    # cleaned as the composer cleans it (headings out, whitespace collapsed) before cutting, so the
    # part the answer quotes is always inside what the model reads
    return re.sub(r"\s+", " ", re.sub(r"^#+ .*$", "", text, flags=re.M)).strip()[:_MAX_PASSAGE]


def _row(row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"value": _round(row.value)}
    if row.keys:
        data["keys"] = row.keys
    if row.comparisons:
        data["comparisons"] = [
            {
                "label": c.label,
                "period": [c.start.isoformat(), c.end.isoformat()],
                "value": _round(c.value),
                "change": _round(c.change),
                "change_unit": c.change_unit,
            }
            for c in row.comparisons.values()
        ]
    return data


def _round(value: float | None) -> float | None:
    # 4 decimals keep every figure the composer prints (at most 2) and drop float noise tokens
    return None if value is None else round(value, 4)
