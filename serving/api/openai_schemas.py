"""Wire schemas of the OpenAI-compatible API, fields in the order of OpenAI's Chat Completions docs.

Only what opsbrain reads or writes is declared. Sampling parameters (``temperature``, ``top_p``,
``max_tokens``, ``stop``, ``seed``, …) are accepted and ignored: the answer is composed from tool
results and number-checked, so it is deterministic and cutting it at a token limit could cut a
figure in half. Parameters whose effect a client relies on and that opsbrain cannot honour (``n``
above 1, ``tools``, a JSON ``response_format``) are refused with a 400 that names them.

The project's own additions are fenced in ``# --- opsbrain extension ---`` blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from serving.api.errors import OpenAIError
from serving.assistant.assistant import MAX_QUESTION_CHARS, AnswerDetails, AssistantResponse
from serving.tools import Plan

MODEL_ID = "opsbrain"


class OpenAIBase(BaseModel):
    """Unknown fields are ignored, as OpenAI-compatible servers do for forward compatibility."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- request


class MessageExtension(OpenAIBase):
    """What an assistant message may carry back: the plan of the response it repeats."""

    plan: Plan | None = None


class ChatMessage(OpenAIBase):
    role: Literal["system", "developer", "user", "assistant"] = Field(
        description="system and developer messages are ignored: opsbrain's instructions are fixed"
    )
    content: str | None = Field(None, description="text, or a list of text parts (joined)")
    name: str | None = None
    # --- opsbrain extension ---
    opsbrain: MessageExtension | None = Field(
        None,
        description="on assistant messages: `{plan}` copied from the response's `opsbrain` field; "
        "follow-ups then inherit that plan instead of re-planning the earlier question",
    )

    @field_validator("content", mode="before")
    @classmethod
    def _join_text_parts(cls, content: object) -> object:
        if not isinstance(content, list):
            return content
        texts = []
        for i, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            if kind != "text" or not isinstance(part.get("text"), str):
                raise ValueError(f"第 {i} 部分为 {kind}：opsbrain 只读文本（type 为 text 的部分）")
            texts.append(part["text"])
        return "".join(texts)

    @property
    def text(self) -> str:
        return self.content or ""


class StreamOptions(OpenAIBase):
    include_usage: bool = Field(False, description="ignored: opsbrain counts no tokens")


class ChatCompletionRequest(OpenAIBase):
    messages: list[ChatMessage] = Field(min_length=1)
    model: str
    functions: list[dict[str, Any]] | None = None
    n: int = 1
    response_format: dict[str, Any] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[dict[str, Any]] | None = None

    def dialogue(self) -> Dialogue:
        """The question (the last message, which must be the user's) and the earlier user turns.

        Raises:
            OpenAIError: a parameter opsbrain cannot honour, an unknown model, or unusable messages.
        """
        if self.model != MODEL_ID:
            raise OpenAIError(
                f"没有名为 {self.model!r} 的模型；可用：{MODEL_ID}（见 GET /v1/models）",
                param="model",
                code="model_not_found",
                status=404,
            )
        if self.n != 1:
            raise OpenAIError(
                "opsbrain 每次只给出一个答案：n 须为 1", param="n", code="unsupported_parameter"
            )
        if self.tools or self.functions:
            param = "tools" if self.tools else "functions"
            raise OpenAIError(
                "opsbrain 自带工具（指标查询、政策检索），不调用客户端提供的工具；请去掉 " + param,
                param=param,
                code="unsupported_parameter",
            )
        if self.response_format and self.response_format.get("type", "text") != "text":
            raise OpenAIError(
                "答案为中文文本；结构化数据（计划、工具结果、图表、表格）在响应的 opsbrain 字段中",
                param="response_format",
                code="unsupported_parameter",
            )
        last = len(self.messages) - 1
        if not any(m.role == "user" for m in self.messages):
            raise OpenAIError(
                "messages 中没有 user 消息：最后一条 user 消息就是问题",
                param="messages",
                code="missing_user_message",
            )
        if self.messages[last].role != "user":
            raise OpenAIError(
                f"最后一条消息须为 user 消息（问题），收到的是 {self.messages[last].role}",
                param=f"messages[{last}].role",
                code="invalid_role",
            )
        turns: list[EarlierTurn] = []
        for i, message in enumerate(self.messages):
            if message.role == "user":
                turns.append(EarlierTurn(_question(message, i)))
            elif message.role == "assistant" and turns and message.opsbrain and message.opsbrain.plan:
                turns[-1].plan = message.opsbrain.plan
        *earlier, current = turns
        return Dialogue(question=current.question, earlier=earlier)


@dataclass
class EarlierTurn:
    question: str
    plan: Plan | None = None  # None: the client sent no plan back; the route re-plans the question


@dataclass
class Dialogue:
    question: str
    earlier: list[EarlierTurn]


def _question(message: ChatMessage, index: int) -> str:
    text = message.text.strip()
    param = f"messages[{index}].content"
    if not text:
        raise OpenAIError(f"messages[{index}] 的内容为空：请输入一个问题", param=param, code="empty_content")
    if len(text) > MAX_QUESTION_CHARS:
        raise OpenAIError(
            f"messages[{index}] 过长（{len(text)} 字），请控制在 {MAX_QUESTION_CHARS} 字以内",
            param=param,
            code="content_too_long",
        )
    return text


# ---------------------------------------------------------------- response


class OpsbrainExtension(AnswerDetails):
    """Everything the JSON chat API returns besides the answer text, so nothing is lost."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, response: AssistantResponse) -> OpsbrainExtension:
        return cls(**{name: getattr(response, name) for name in cls.model_fields})


class ResponseMessage(OpenAIBase):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: str | None = None


class Choice(OpenAIBase):
    index: int = 0
    message: ResponseMessage
    logprobs: None = None
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(OpenAIBase):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: None = Field(None, description="opsbrain counts no tokens")
    # --- opsbrain extension ---
    opsbrain: OpsbrainExtension


def _unset(value: object) -> bool:
    return value is None


class Delta(OpenAIBase):
    """Only what changed: the role on the first chunk, text on the next, nothing on the last."""

    role: Literal["assistant"] | None = Field(None, exclude_if=_unset)
    content: str | None = Field(None, exclude_if=_unset)


class ChunkChoice(OpenAIBase):
    index: int = 0
    delta: Delta
    logprobs: None = None
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(OpenAIBase):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    choices: list[ChunkChoice]
    # --- opsbrain extension: on the last chunk only, the one with finish_reason ---
    opsbrain: OpsbrainExtension | None = Field(None, exclude_if=_unset)


class ModelCard(OpenAIBase):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "opsbrain"


class ModelList(OpenAIBase):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ---------------------------------------------------------------- errors


class OpenAIErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    """An error as OpenAI's clients read it (``OpenAIError.body``); they raise it with its message."""

    error: OpenAIErrorDetail


OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": OpenAIErrorResponse,
        "description": "invalid request (OpenAI's code for validation errors too)",
    },
    404: {
        "model": OpenAIErrorResponse,
        "description": "no such model (code model_not_found); see GET /v1/models",
    },
    408: {"model": OpenAIErrorResponse, "description": "the request body did not arrive in time"},
    413: {"model": OpenAIErrorResponse, "description": "the request body is larger than max_request_bytes"},
}
