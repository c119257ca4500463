"""The one tool schema: what a planner may call, and what a plan is.

Defined once and used by the planners (rules and LLM), the output validation, the training data
builders and the evaluation scorers. The JSON schema shown to a language model is generated from
these models and the catalog (indicator names become an enum), so it cannot drift from the code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from indicators import Catalog, IndicatorQuery
from retrieval.models import SearchFilters

Dimension = Literal["campus", "department", "doctor", "insurance", "visit_type"]


class SearchPolicyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=500, description="what to look up in the regulations")
    k: int = Field(3, ge=1, le=10)
    filters: SearchFilters = Field(default_factory=SearchFilters)


class ExplainIndicatorArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(min_length=1, max_length=100, description="指标名称、别名或代码")


class ListIndicatorsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field("", max_length=100)
    system: Literal["国考", "二级国考", "三级医院评审", "基础运营"] | None = None


class ListDimensionValuesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimension: Dimension
    query: str = Field("", max_length=100)


class QueryIndicatorCall(BaseModel):
    tool: Literal["query_indicator"] = "query_indicator"
    arguments: IndicatorQuery


class SearchPolicyCall(BaseModel):
    tool: Literal["search_policy"] = "search_policy"
    arguments: SearchPolicyArgs


class ExplainIndicatorCall(BaseModel):
    tool: Literal["explain_indicator"] = "explain_indicator"
    arguments: ExplainIndicatorArgs


class ListIndicatorsCall(BaseModel):
    tool: Literal["list_indicators"] = "list_indicators"
    arguments: ListIndicatorsArgs


class ListDimensionValuesCall(BaseModel):
    tool: Literal["list_dimension_values"] = "list_dimension_values"
    arguments: ListDimensionValuesArgs


ToolCall = Annotated[
    QueryIndicatorCall
    | SearchPolicyCall
    | ExplainIndicatorCall
    | ListIndicatorsCall
    | ListDimensionValuesCall,
    Field(discriminator="tool"),
]
TOOL_NAMES = (
    "query_indicator",
    "search_policy",
    "explain_indicator",
    "list_indicators",
    "list_dimension_values",
)


class Clarification(BaseModel):
    slot: str = Field(description="what is unclear: indicator, department, doctor, campus, period")
    question: str
    options: list[str] = Field(default_factory=list, description="canonical names the user can pick")
    pending: IndicatorQuery | None = Field(
        None, description="what was understood so far; the user's choice completes it in the next turn"
    )


class Refusal(BaseModel):
    category: Literal["patient_data", "clinical_advice", "injection", "out_of_scope"]
    message: str


class Plan(BaseModel):
    """What to do for one user turn: tool calls, or a clarifying question, or a polite refusal."""

    calls: list[ToolCall] = Field(default_factory=list, max_length=8)
    clarification: Clarification | None = None
    refusal: Refusal | None = None

    @property
    def indicator_calls(self) -> list[QueryIndicatorCall]:
        return [c for c in self.calls if isinstance(c, QueryIndicatorCall)]


PLAN_ADAPTER = TypeAdapter(Plan)


class Turn(BaseModel):
    """One earlier turn of a conversation, as a planner sees it: what was asked and what was planned."""

    question: str
    plan: Plan
    cited: list[str] = Field(
        default_factory=list, description="chunk ids the answer cited: a follow-up does not repeat them"
    )


_DESCRIPTIONS = {
    "query_indicator": "查询指标数值：统计期、筛选（院区/科室/医生/医保类型/就诊类型）、分组、同比环比、排名",
    "search_policy": "检索政策法规与医院内部文件，返回带出处（文件、文号、条款）的原文片段",
    "explain_indicator": "说明指标口径：定义、公式、单位、导向、口径版本、数据来源",
    "list_indicators": "列出或搜索指标目录",
    "list_dimension_values": "列出维度取值（院区、科室、医生、医保类型、就诊类型）",
}
_ARGUMENTS = {
    "query_indicator": IndicatorQuery,
    "search_policy": SearchPolicyArgs,
    "explain_indicator": ExplainIndicatorArgs,
    "list_indicators": ListIndicatorsArgs,
    "list_dimension_values": ListDimensionValuesArgs,
}


def tool_specs(catalog: Catalog) -> list[dict[str, Any]]:
    """OpenAI-style function specs, with the computable indicators' names as an enum."""
    names = sorted(i.name for i in catalog.indicators.values() if i.status != "not_available")
    specs = []
    for tool, model in _ARGUMENTS.items():
        schema = model.model_json_schema()
        if tool == "query_indicator":
            schema["properties"]["indicators"]["items"] = {"type": "string", "enum": names}
        specs.append(
            {
                "type": "function",
                "function": {"name": tool, "description": _DESCRIPTIONS[tool], "parameters": schema},
            }
        )
    return specs
