"""One error shape everywhere: ``{"error": {"message", "type", "param", "valid", "suggestions"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from indicators import IndicatorError
from retrieval import EmptyQueryError
from serving.api.auth import AuthError
from serving.api.validation_zh import message_zh
from serving.assistant.assistant import InvalidQuestionError
from serving.conversations import ConversationNotFoundError
from serving.reports import TurnNotFoundError

log = logging.getLogger("opsbrain.api")


def error_body(message: str, type_: str, param: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "error": {"message": message, "type": type_, "param": param, "valid": [], "suggestions": [], **extra}
    }


class ErrorDetail(BaseModel):
    """What went wrong; some errors add fields (``limit``, ``retry_after``)."""

    model_config = ConfigDict(extra="allow")

    message: str
    type: str
    param: str | None = None
    valid: list[Any] = Field(default_factory=list)
    suggestions: list[Any] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every error answer of the /api/v1 routes."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "the body is not valid JSON (or form data)",
    404: "no such resource, or not one the caller may see",
    408: "the request body did not arrive in time",
    409: "conflict: e.g. the conversation quota is full",
    413: "the request body is larger than max_request_bytes",
    422: "the request is invalid: the message names the parameter and what is valid",
}


def error_responses(
    *statuses: int, model: type[BaseModel] = ErrorResponse
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the error statuses a route can answer, with the error body's schema
    (422 replaces FastAPI's default, whose ``detail`` shape this API never sends)."""
    return {s: {"model": model, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


BODY_ERRORS = error_responses(400, 408, 413, 422)
"""What any route that reads a request body can answer, before it runs."""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(IndicatorError)
    async def _indicator_error(_: Request, exc: IndicatorError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

    @app.exception_handler(EmptyQueryError)
    async def _bad_query(_: Request, exc: EmptyQueryError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "invalid_query", "query"), 422)

    @app.exception_handler(InvalidQuestionError)
    async def _bad_question(_: Request, exc: InvalidQuestionError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "invalid_question", "question"), 422)

    @app.exception_handler(ConversationNotFoundError)
    async def _no_conversation(_: Request, exc: ConversationNotFoundError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "conversation_not_found", "conversation_id"), 404)

    @app.exception_handler(TurnNotFoundError)
    async def _no_turn(_: Request, exc: TurnNotFoundError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "turn_not_found", "turn"), 404)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"] if p != "body")
            problems.append(f"{loc or 'body'}：{message_zh(e)}")
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        param = ".".join(str(p) for p in first if p != "body") or None
        return JSONResponse(error_body("请求无效：" + "；".join(problems), "invalid_request", param), 422)

    @app.exception_handler(AuthError)
    async def _auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.type, **exc.extra), exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), "http_error"), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("服务器内部错误，已记录日志。", "internal_error"), 500)


class OpenAIError(Exception):
    """An error on the OpenAI-compatible routes, shaped as OpenAI's clients expect it."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
        type_: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message, self.param, self.code, self.status, self.type = message, param, code, status, type_

    @classmethod
    def from_validation(cls, exc: RequestValidationError) -> OpenAIError:
        errors = exc.errors()
        first = errors[0] if errors else {"type": "invalid", "loc": (), "msg": "invalid request"}
        if first["type"] == "json_invalid":
            return cls(
                f"请求体不是合法的 JSON：{first.get('ctx', {}).get('error', first['msg'])}",
                code="invalid_json",
            )
        problems = [f"{openai_param(e['loc']) or 'body'}：{message_zh(e)}" for e in errors]
        code = "missing_required_parameter" if first["type"] == "missing" else "invalid_value"
        return cls("请求无效：" + "；".join(problems), param=openai_param(first["loc"]), code=code)

    def body(self) -> dict[str, object]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def openai_param(loc: tuple | list) -> str | None:
    """``("body", "messages", 2, "role")`` → ``messages[2].role``, as OpenAI names parameters."""
    name = ""
    for part in loc:
        if part == "body":
            continue
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or None
