"""OpenAI-compatible chat: ``POST /v1/chat/completions`` (streaming and not) and ``GET /v1/models``.

OpenAI's API is stateless: the client sends the whole conversation each time and nothing is stored
here. The last message is the question; the earlier user messages are the conversation a follow-up
inherits from. Each earlier turn's plan is taken from the ``opsbrain.plan`` the client copied onto
the assistant message after it, or else re-planned from the question (no tool runs). Re-planning
gives the plan the user saw as long as the planner and the warehouse's as-of date are unchanged;
the copied plan is exact, and cheaper with the LLM planner.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from serving.api.auth import AuthError, CallerDep
from serving.api.deps import AssistantDep
from serving.api.errors import OpenAIError
from serving.api.openai_schemas import (
    MODEL_ID,
    OPENAI_ERRORS,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    EarlierTurn,
    ModelCard,
    ModelList,
    OpsbrainExtension,
    ResponseMessage,
)
from serving.api.sse import answer_chunks, sse_event, sse_response
from serving.assistant.assistant import Answered, Assistant, InvalidQuestionError, Planned, StageEvent
from serving.security.audit import note_audit
from serving.tools import Turn

log = logging.getLogger("opsbrain.api")
_STARTED = int(time.time())


class OpenAIRoute(APIRoute):
    """Every error on these routes, validation included, in OpenAI's shape and with a 4xx/5xx code,
    so that OpenAI's client libraries raise it with its message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return OpenAIError.from_validation(exc).response()
            except OpenAIError as exc:
                return exc.response()
            except InvalidQuestionError as exc:
                return OpenAIError(str(exc), param="messages", code="invalid_question").response()
            except AuthError as exc:  # not signed in (401), not allowed (403), rate limited (429)
                type_ = {401: "authentication_error", 403: "permission_error"}.get(
                    exc.status, "rate_limit_error"
                )
                response = OpenAIError(exc.message, status=exc.status, code=exc.type, type_=type_).response()
                response.headers.update(exc.headers)
                return response
            except HTTPException as exc:  # e.g. a dependency that is unavailable
                type_ = "invalid_request_error" if exc.status_code < 500 else "server_error"
                return OpenAIError(str(exc.detail), status=exc.status_code, type_=type_).response()
            except Exception:
                log.exception("unhandled error in the OpenAI-compatible API")
                return OpenAIError(
                    "服务器内部错误，已记录日志。", status=500, type_="server_error"
                ).response()

        return route


router = APIRouter(tags=["openai"], route_class=OpenAIRoute)


@router.get("/models", response_model=ModelList, summary="OpenAI 兼容：模型列表")
def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID, created=_STARTED)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI 兼容：对话补全（stream=true 时为 server-sent events）",
    responses={200: {"content": {"text/event-stream": {}}}, **OPENAI_ERRORS},
)
def chat_completions(
    body: ChatCompletionRequest, assistant: AssistantDep, caller: CallerDep, request: Request
) -> Response | ChatCompletion:
    """The answer as the message content; the plan, tool results, citations, chart and table in the
    top-level `opsbrain` field (on the last chunk when streaming)."""
    dialogue = body.dialogue()
    history = _history(dialogue.earlier, assistant)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        note_audit(request, question=dialogue.question, outcome="streamed")
        stages = assistant.stream(dialogue.question, history, caller=caller)
        return sse_response(_chunks(stages, completion_id, created))
    response = assistant.ask(dialogue.question, history, caller=caller)
    note_audit(
        request, question=dialogue.question, plan=response.plan.model_dump(mode="json"), outcome="answered"
    )
    return ChatCompletion(
        id=completion_id,
        created=created,
        choices=[Choice(message=ResponseMessage(content=response.answer))],
        opsbrain=OpsbrainExtension.of(response),
    )


def _history(earlier: list[EarlierTurn], assistant: Assistant) -> list[Turn]:
    turns: list[Turn] = []
    for turn in earlier:
        # each earlier question is planned with the turns before it, as it was when first asked
        plan = turn.plan if turn.plan is not None else assistant.plan(turn.question, turns)
        turns.append(Turn(question=turn.question, plan=plan))
    return turns


def _chunks(stages: Iterator[StageEvent], completion_id: str, created: int) -> Iterator[bytes]:
    def chunk(
        delta: Delta, finish_reason: Literal["stop"] | None = None, opsbrain: OpsbrainExtension | None = None
    ) -> bytes:
        choices = [ChunkChoice(delta=delta, finish_reason=finish_reason)]
        return sse_event(
            ChatCompletionChunk(id=completion_id, created=created, choices=choices, opsbrain=opsbrain)
        )

    try:
        for stage in stages:
            if isinstance(stage, Planned):  # the client sees the reply begin as soon as the plan exists
                yield chunk(Delta(role="assistant", content=""))
            elif isinstance(stage, Answered):
                for piece in answer_chunks(stage.response.answer):
                    yield chunk(Delta(content=piece))
                yield chunk(Delta(), finish_reason="stop", opsbrain=OpsbrainExtension.of(stage.response))
    except Exception:  # headers are sent; OpenAI's clients raise an error read from a data line
        log.exception("chat completion stream failed")
        yield sse_event(
            OpenAIError("服务器内部错误，已记录日志；请重试。", status=500, type_="server_error").body()
        )
    yield b"data: [DONE]\n\n"
