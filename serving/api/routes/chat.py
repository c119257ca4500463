"""The chat API: one JSON answer, or the same answer streamed as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from serving.api.deps import AssistantDep, ConversationsDep
from serving.api.errors import error_body
from serving.api.sse import answer_chunks, sse_event, sse_response
from serving.assistant.assistant import (
    MAX_QUESTION_CHARS,
    Answered,
    AssistantResponse,
    Executed,
    Planned,
    StageEvent,
)
from serving.assistant.scope import ChatScope
from serving.conversations import ConversationStore
from serving.tools import Turn

router = APIRouter(tags=["chat"])
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


@router.post("/chat", response_model=ChatResponse, summary="提问：数值、口径、政策（带引用）")
def chat(body: ChatRequest, assistant: AssistantDep, store: ConversationsDep) -> ChatResponse:
    """Plan the question (follow-ups inherit from the conversation), run the tools, answer with the
    figures, 口径, citations and a chart; the resolved plan and every tool result come back too."""
    history = _history(store, body.conversation_id)
    return _save(store, body.conversation_id, assistant.ask(body.question, history, body.scope))


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    summary="提问（流式，server-sent events）",
    responses={200: {"content": {"text/event-stream": {}}, "description": "plan, results, answer…, done"}},
)
def chat_stream(body: ChatRequest, assistant: AssistantDep, store: ConversationsDep) -> StreamingResponse:
    """The same answer as `POST /chat`, as events: `plan` (before any tool runs), `results`, `answer`
    (the checked answer text in pieces), `done` (the whole response, as `/chat` returns it), or
    `error`. A bad question or an unknown conversation is refused before the stream starts."""
    history = _history(store, body.conversation_id)
    stages = assistant.stream(body.question, history, body.scope)  # checks the question now, not mid-stream
    return sse_response(_chat_events(stages, store, body.conversation_id))


def _chat_events(
    stages: Iterator[StageEvent], store: ConversationStore, conversation_id: str | None
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
                response = _save(store, conversation_id, stage.response)
                for piece in answer_chunks(response.answer):
                    yield sse_event({"delta": piece}, "answer")
                yield sse_event(response, "done")
    except Exception:  # the status line is already sent: the client learns of the failure from an event
        log.exception("chat stream failed")
        yield sse_event(error_body("服务器内部错误，已记录日志；请重试。", "internal_error"), "error")


def _history(store: ConversationStore, conversation_id: str | None) -> list[Turn]:
    """Earlier turns; raises ConversationNotFoundError (404) for an unknown id."""
    return store.history(conversation_id) if conversation_id else []


def _save(store: ConversationStore, conversation_id: str | None, response: AssistantResponse) -> ChatResponse:
    # a new conversation is created only once there is a turn to put in it: a failed or abandoned
    # request leaves no empty conversation behind
    conversation_id = conversation_id or store.create(title=response.question)
    store.append(
        conversation_id, response.question, response.answer, response.plan, response.model_dump(mode="json")
    )
    return ChatResponse(**response.model_dump(), conversation_id=conversation_id)
