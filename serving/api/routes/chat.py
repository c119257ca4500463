"""The chat API: one JSON answer, or the same answer streamed as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from serving.api.auth import CallerDep, PrincipalDep
from serving.api.deps import AssistantDep, ConversationsDep
from serving.api.errors import BODY_ERRORS, error_body, error_responses
from serving.api.sse import answer_chunks, sse_event, sse_response
from serving.assistant.assistant import (
    MAX_QUESTION_CHARS,
    Answered,
    AssistantResponse,
    Executed,
    Planned,
    StageEvent,
)
from serving.assistant.caller import Caller
from serving.assistant.scope import ChatScope
from serving.conversations import ConversationStore
from serving.security.audit import note_audit
from serving.security.models import Principal
from serving.tools import Turn

router = APIRouter(tags=["chat"])
# an unknown conversation_id is 404, a full conversation quota 409 (both before any stream starts)
CHAT_ERRORS = {**BODY_ERRORS, **error_responses(404, 409)}
log = logging.getLogger("opsbrain.api")


class ChatRequest(BaseModel):
    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, examples=["医院本年药占比是多少？包括同比"]
    )
    conversation_id: str | None = Field(None, description="continue a conversation; omit to start one")
    scope: ChatScope | None = Field(
        None,
        description="period and 院区/科室/医生 set outside the question (a filter bar): they replace the "
        "question's own in every indicator query; an omitted field keeps the question's, [] removes it",
    )


class ChatResponse(AssistantResponse):
    conversation_id: str


@router.post(
    "/chat", response_model=ChatResponse, summary="提问：数值、口径、政策（带引用）", responses=CHAT_ERRORS
)
def chat(
    body: ChatRequest,
    assistant: AssistantDep,
    store: ConversationsDep,
    principal: PrincipalDep,
    caller: CallerDep,
    request: Request,
) -> ChatResponse:
    """Plan the question (follow-ups inherit from the conversation), run the tools, answer with the
    figures, 口径, citations and a chart; the resolved plan and every tool result come back too.
    Figures are limited to the caller's data scope; a question beyond it is answered with what they
    may see instead."""
    history = _history(store, body.conversation_id, principal)
    response = assistant.ask(body.question, history, body.scope, caller)
    _audit(request, response)
    return _save(store, body.conversation_id, response, principal, caller)


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    summary="提问（流式，server-sent events）",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "plan, results, answer…, done"},
        **CHAT_ERRORS,
    },
)
def chat_stream(
    body: ChatRequest,
    assistant: AssistantDep,
    store: ConversationsDep,
    principal: PrincipalDep,
    caller: CallerDep,
    request: Request,
) -> StreamingResponse:
    """The same answer as `POST /chat`, as events: `plan` (before any tool runs), `results`, `answer`
    (the checked answer text in pieces), `done` (the whole response, as `/chat` returns it), or
    `error`. A bad question or an unknown conversation is refused before the stream starts."""
    history = _history(store, body.conversation_id, principal)
    if body.conversation_id is None:
        store.check_quota(principal.name)  # a full quota is refused now, not as an event mid-stream
    # checks the question now, not mid-stream
    stages = assistant.stream(body.question, history, body.scope, caller)
    return sse_response(_chat_events(stages, store, body.conversation_id, principal, caller, request))


def _chat_events(
    stages: Iterator[StageEvent],
    store: ConversationStore,
    conversation_id: str | None,
    principal: Principal,
    caller: Caller,
    request: Request,
) -> Iterator[bytes]:
    try:
        for stage in stages:
            if isinstance(stage, Planned):
                yield sse_event({"plan": stage.plan}, "plan")
            elif isinstance(stage, Executed):
                yield sse_event({"tool_results": stage.results}, "results")
            elif isinstance(stage, Answered):
                # stored before the first piece is sent: a client that leaves mid-answer still finds
                # the turn in its conversation, as it would after a JSON request
                _audit(request, stage.response)
                response = _save(store, conversation_id, stage.response, principal, caller)
                for piece in answer_chunks(response.answer):
                    yield sse_event({"delta": piece}, "answer")
                yield sse_event(response, "done")
    except Exception:  # the status line is already sent: the client learns of the failure from an event
        log.exception("chat stream failed")
        yield sse_event(error_body("服务器内部错误，已记录日志；请重试。", "internal_error"), "error")


def _history(store: ConversationStore, conversation_id: str | None, principal: Principal) -> list[Turn]:
    """Earlier turns; raises ConversationNotFoundError (404) for an unknown id or another user's."""
    return store.history(conversation_id, principal.name) if conversation_id else []


def _audit(request: Request, response: AssistantResponse) -> None:
    refused = [
        r.error.get("type") for r in response.tool_results if r.role == "plan" and not r.ok and r.error
    ]
    note_audit(
        request,
        question=response.question,
        plan=response.plan.model_dump(mode="json"),
        sql=[s for r in response.tool_results if r.query for ind in r.query.results for s in ind.sql],
        rows=sum(len(ind.rows) for r in response.tool_results if r.query for ind in r.query.results),
        outcome=f"refused:{refused[0]}" if refused else "answered",
    )


def _save(
    store: ConversationStore,
    conversation_id: str | None,
    response: AssistantResponse,
    principal: Principal,
    caller: Caller,
) -> ChatResponse:
    # a new conversation is created only once there is a turn to put in it: a failed or abandoned
    # request leaves no empty conversation behind
    conversation_id = conversation_id or store.create(response.question, principal.name, caller.access)
    store.append(
        conversation_id, response.question, response.answer, response.plan, response.model_dump(mode="json")
    )
    return ChatResponse(**response.model_dump(), conversation_id=conversation_id)
