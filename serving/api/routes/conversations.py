"""Conversations: list and search, read, rename, delete, and export as a report.

Every route acts for the signed-in caller: the list is theirs only; reading (and exporting) is for
the owner or a user whose data scope covers the owner's (a shared link); renaming and deleting are
the owner's. Anyone else gets the same 404 as for an unknown id.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from serving.api.auth import AccessDep, PrincipalDep
from serving.api.deps import ConversationsDep
from serving.api.errors import BODY_ERRORS, ErrorResponse, error_body, error_responses
from serving.api.ratelimit import limit_api
from serving.conversations import Conversation, ConversationQuotaError, ConversationSummary
from serving.reports import MEDIA_TYPES, ReportFormat, render_report, report_filename

# counted per caller before the route runs (limit_api authenticates too, through PrincipalDep,
# which FastAPI resolves once per request however many dependencies name it)
router = APIRouter(prefix="/conversations", tags=["conversations"], dependencies=[Depends(limit_api)])

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "not signed in"},
    403: {"description": "CSRF check failed (cookie sign-in)"},
    404: {"model": ErrorResponse, "description": "no such conversation, or not one the caller may see"},
    429: {"description": "too many requests; Retry-After says when to retry"},
    **error_responses(422),
}


class RenameRequest(BaseModel):
    # stripped before the length check: a blank title is refused, not stored
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)


@router.get(
    "",
    response_model=list[ConversationSummary],
    summary="我的会话列表（可搜索）",
    responses={k: v for k, v in ERRORS.items() if k != 404},
)
def list_conversations(
    store: ConversationsDep,
    principal: PrincipalDep,
    q: str = Query("", max_length=100, description="标题或任一消息包含的文字"),
    limit: int = Query(100, ge=1, le=500),
) -> list[ConversationSummary]:
    return store.list(principal.name, limit=limit, query=q.strip())


@router.get("/{conversation_id}", response_model=Conversation, summary="一个会话的全部消息", responses=ERRORS)
def get_conversation(
    conversation_id: str, store: ConversationsDep, principal: PrincipalDep, access: AccessDep
) -> Conversation:
    return store.get(conversation_id, principal.name, access)


@router.patch(
    "/{conversation_id}",
    response_model=ConversationSummary,
    summary="重命名会话",
    responses={**BODY_ERRORS, **ERRORS},
)
def rename_conversation(
    conversation_id: str, body: RenameRequest, store: ConversationsDep, principal: PrincipalDep
) -> ConversationSummary:
    return store.rename(conversation_id, body.title, principal.name)


@router.delete("/{conversation_id}", status_code=204, summary="删除会话", responses=ERRORS)
def delete_conversation(conversation_id: str, store: ConversationsDep, principal: PrincipalDep) -> None:
    store.delete(conversation_id, principal.name)


@router.get(
    "/{conversation_id}/export",
    response_class=Response,
    summary="导出报告：PDF（含图表）、Excel（含表格与图表）、Markdown",
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the report file"},
        **ERRORS,
    },
)
def export_conversation(
    conversation_id: str,
    store: ConversationsDep,
    principal: PrincipalDep,
    access: AccessDep,
    format: Annotated[ReportFormat, Query(description="pdf | xlsx | md")],
    turn: int | None = Query(None, ge=1, description="第几问（从 1 开始）；省略则导出整个会话"),
) -> Response:
    """The conversation (or one of its answers) as a report built only from the stored answers: the
    figures, charts, tables, 计算口径 with the SQL, and the citations. Who may read the
    conversation may export it: the report holds nothing the conversation does not."""
    conversation = store.get(conversation_id, principal.name, access)
    body = render_report(conversation, format, turn)
    name = report_filename(conversation, format, turn)
    # RFC 6266/5987: browsers take the UTF-8 name; the ASCII one is for old clients
    disposition = f"attachment; filename=\"opsbrain-report.{format}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})


async def conversation_quota_handler(_: Request, exc: ConversationQuotaError) -> JSONResponse:
    """Register with ``app.add_exception_handler(ConversationQuotaError, conversation_quota_handler)``:
    409 ``{"error": {..., "type": "conversation_quota", "limit": N}}``."""
    return JSONResponse(error_body(exc.message, exc.type, limit=exc.limit), exc.status)
