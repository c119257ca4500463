"""The FastAPI application factory."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from opsbrain import __version__
from opsbrain.settings import Settings, settings
from serving.api.audit_log import install_audit
from serving.api.auth import get_principal, require
from serving.api.deps import load_knowledge_base
from serving.api.docs import install_api_docs
from serving.api.errors import install_error_handlers
from serving.api.headers import SecurityHeaders
from serving.api.limits import BodySizeLimit, BodyTimeout
from serving.api.main import UNAUTHORIZED, api_router
from serving.api.ratelimit import limit_api, limit_chat
from serving.api.routes import openai
from serving.api.routes.conversations import conversation_quota_handler
from serving.api.web import DEFAULT_DIST, mount_web_ui
from serving.conversations import ConversationQuotaError

log = logging.getLogger("opsbrain.api")
OPENAPI_URL, DOCS_URL = "/api/v1/openapi.json", "/api/v1/docs"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.settings.kb_preload:
        # load the embedding model while the server already answers; the first policy search need not wait
        threading.Thread(target=_preload, args=(app,), name="kb-preload", daemon=True).start()
    yield


def _preload(app: FastAPI) -> None:
    try:
        load_knowledge_base(app.state)
    except Exception:
        log.exception("policy knowledge base could not be loaded; /policies routes will answer 503")


def create_app(config: Settings = settings) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="opsbrain",
        version=__version__,
        description="医院运营指标 API：指标目录、口径、维度取值与指标查询；政策法规检索（带出处引用）。",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # served by install_api_docs with bundled files, not FastAPI's CDN page
        redoc_url=None,
    )
    app.state.settings = config
    app.add_middleware(BodySizeLimit, max_bytes=config.max_request_bytes)
    app.add_middleware(BodyTimeout, seconds=config.body_timeout_s)  # a body announced but never sent
    install_audit(app)  # every API request, after its response, with who asked and what ran
    app.add_middleware(SecurityHeaders)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["GET", "POST"])
    # outermost: a request naming another host (DNS rebinding) is answered 400 before anything runs
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=config.allowed_hosts)
    install_error_handlers(app)
    app.add_exception_handler(ConversationQuotaError, conversation_quota_handler)
    app.include_router(api_router, prefix="/api/v1")
    # where OpenAI clients look (base_url=http://host/v1); they send an API key as the bearer token
    openai_guards = [
        Depends(get_principal),
        Depends(limit_api),
        Depends(require("chat")),
        Depends(limit_chat),
    ]
    app.include_router(openai.router, prefix="/v1", dependencies=openai_guards, responses=UNAUTHORIZED)

    dist = config.web_dist or DEFAULT_DIST
    install_api_docs(app, DOCS_URL, OPENAPI_URL, dist)
    mount_web_ui(app, dist)  # last: API routes take precedence over files
    return app
