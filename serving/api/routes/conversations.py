"""Conversations: list and search, read, rename, delete, and export as a report."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from serving.api.deps import ConversationsDep
from serving.conversations import Conversation, ConversationSummary
from serving.reports import MEDIA_TYPES, ReportFormat, render_report, report_filename

router = APIRouter(prefix="/conversations", tags=["conversations"])


class RenameRequest(BaseModel):
    # stripped before the length check: a blank title is refused, not stored
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)


@router.get("", response_model=list[ConversationSummary], summary="会话列表（可搜索）")
def list_conversations(
    store: ConversationsDep,
    q: str = Query("", max_length=100, description="标题或任一消息包含的文字"),
    limit: int = Query(100, ge=1, le=500),
) -> list[ConversationSummary]:
    return store.list(limit=limit, query=q.strip())


@router.get("/{conversation_id}", response_model=Conversation, summary="一个会话的全部消息")
def get_conversation(conversation_id: str, store: ConversationsDep) -> Conversation:
    return store.get(conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationSummary, summary="重命名会话")
def rename_conversation(
    conversation_id: str, body: RenameRequest, store: ConversationsDep
) -> ConversationSummary:
    return store.rename(conversation_id, body.title)


@router.delete("/{conversation_id}", status_code=204, summary="删除会话")
def delete_conversation(conversation_id: str, store: ConversationsDep) -> None:
    store.delete(conversation_id)


@router.get(
    "/{conversation_id}/export",
    response_class=Response,
    summary="导出报告：PDF（含图表）、Excel（含表格与图表）、Markdown",
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the report file"}},
)
def export_conversation(
    conversation_id: str,
    store: ConversationsDep,
    format: Annotated[ReportFormat, Query(description="pdf | xlsx | md")],
    turn: int | None = Query(None, ge=1, description="第几问（从 1 开始）；省略则导出整个会话"),
) -> Response:
    """The conversation (or one of its answers) as a report built only from the stored answers: the
    figures, charts, tables, 计算口径 with the SQL, and the citations."""
    conversation = store.get(conversation_id)
    body = render_report(conversation, format, turn)
    name = report_filename(conversation, format, turn)
    # RFC 6266/5987: browsers take the UTF-8 name; the ASCII one is for old clients
    disposition = f"attachment; filename=\"opsbrain-report.{format}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})
