"""The LLM parser's input: a fixed system prompt (computed once, its KV cache reused) and a short
per-question part that holds only what the mappers found.

The per-question part (at most ~300 tokens): the question, the previous turn in compact form, the
indicator candidates with a one-line definition, the dimension values found, and the time
references the resolver read (t1, t2 …, ytd, prev) with their dates. The model answers with a
compact plan (serving/planner/llm/compact.py) under a grammar built from the same choices.
Training (training/data/sft.py) builds its conversations with this module, so the model is trained
on exactly the prompt it is served with.
"""

from __future__ import annotations

import json
from typing import Any

from indicators import Catalog
from serving.planner.context import Understanding
from serving.planner.llm.compact import Choices

Message = dict[str, str]
_DEFINITION_CHARS = 22

SYSTEM_PROMPT = "\n".join(
    [
        "你是医院运营助手的问题理解器。根据用户问题和系统给出的候选项，输出一个 JSON 计划，只从候选项中选择，不写日期。",
        "intent：figure 问数值；figure_explain 问数值也问口径；target_check 问数值也问是否达标/政策要求；"
        "definition 问口径、定义、怎么算；not_available 问目录中不可计算的指标；policy 问政策规定或事实；"
        "catalog 问有哪些指标或有哪些科室等；clarify 名称对应多个取值或找不到指标时反问；refuse 与医院运营无关或索要患者信息、诊疗建议。",
        "indicators：从指标候选中选；不同统计期的指标写成 名称@时间。time：从时间候选中选，没说时间用 ytd，追问沿用上一轮用 prev。",
        "filters：维度:取值，从维度候选中选；全院不加院区科室筛选。group_by：按科室、各科室→department，各院区→campus，按医生→doctor，"
        "按医保→insurance，门诊急诊住院分别→visit_type，按月/趋势→month，按季度→quarter，每年/历年→year。",
        "compare：同比、比去年、增长→yoy；环比、比上月、比上季度→mom。rank：最高、前N→descN；最低、倒数N→ascN；排名→desc10；不排→none；"
        "排名要按科室（或医生、院区）分组。",
        "追问：沿用上一轮没有改变的部分，只换问题改了的那一项。",
    ]
)


class PromptBuilder:
    """Builds the chat messages of one question from its understood context."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.system_prompt = SYSTEM_PROMPT

    def prefix_messages(self) -> list[Message]:
        """The part shared by every request: its rendering is the cacheable prompt prefix."""
        return [{"role": "system", "content": self.system_prompt}]

    def messages(
        self, ctx: Understanding, c: Choices, previous: dict[str, Any] | None = None
    ) -> list[Message]:
        """``previous``: the last turn's plan in compact form (its period as ``prev``), if any."""
        return [*self.prefix_messages(), {"role": "user", "content": self.question_part(ctx, c, previous)}]

    def question_part(self, ctx: Understanding, c: Choices, previous: dict[str, Any] | None) -> str:
        lines = [f"问题：{ctx.question.strip()}"]
        if ctx.history and previous is not None:
            lines.append(f"上一轮：{ctx.history[-1].question.strip()[:60]} → {to_text(previous)}")
        names = [*c.indicators, *c.unavailable]
        if names:
            lines.append("指标候选：" + "；".join(self._describe(n) for n in names))
        else:
            lines.append("指标候选：无")
        lines.append("维度候选：" + ("；".join(c.filters) if c.filters else "无"))
        times = [f"{ref}={c.time_words.get(ref, '')}({start}~{end})" for ref, (start, end) in c.times.items()]
        lines.append("时间：" + "；".join(times))
        return "\n".join(lines)

    def _describe(self, name: str) -> str:
        indicator = self.catalog.get(name)
        status = "（不可计算）" if indicator.status == "not_available" else ""
        return f"{name}{status}：{indicator.definition[:_DEFINITION_CHARS].rstrip('。')}"


def to_text(compact: dict[str, Any]) -> str:
    """A compact plan as the model writes it: one line, no spaces."""
    return json.dumps(compact, ensure_ascii=False, separators=(",", ":"))


def render(tokenizer: Any, messages: list[Message], add_generation_prompt: bool = True) -> str:
    """The messages as the model's chat template writes them (text; tokenise separately)."""
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )
