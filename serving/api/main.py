"""The API's routers and who may call them.

Every router but health and sign-in requires a signed-in caller with the router's capability
(serving/security/policy.yaml), counted against the caller's rate limits; data routes further
limit what they compute to the caller's data scope, inside the indicator engine.
"""

from fastapi import APIRouter, Depends

from serving.api.auth import get_principal, require
from serving.api.errors import ErrorResponse
from serving.api.ratelimit import limit_api, limit_chat
from serving.api.routes import admin, audit, auth, chat, conversations, dimensions, indicators, meta, policies

UNAUTHORIZED = {
    401: {"model": ErrorResponse, "description": "not signed in: no or an invalid session, token or API key"},
    403: {"model": ErrorResponse, "description": "signed in, but the role or data scope does not allow it"},
    429: {"model": ErrorResponse, "description": "rate limit exceeded; see Retry-After"},
}


def _guarded(capability: str | None, *, chat_limit: bool = False) -> list:
    guards = [Depends(get_principal), Depends(limit_api)]
    if capability:
        guards.append(Depends(require(capability)))
    if chat_limit:
        guards.append(Depends(limit_chat))
    return guards


api_router = APIRouter()
api_router.include_router(meta.health_router)  # open: load balancers and monitoring probe it
api_router.include_router(auth.router)
api_router.include_router(meta.router, dependencies=_guarded(None), responses=UNAUTHORIZED)
api_router.include_router(indicators.router, dependencies=_guarded("query"), responses=UNAUTHORIZED)
api_router.include_router(dimensions.router, dependencies=_guarded("query"), responses=UNAUTHORIZED)
api_router.include_router(policies.router, dependencies=_guarded("policies"), responses=UNAUTHORIZED)
api_router.include_router(chat.router, dependencies=_guarded("chat", chat_limit=True), responses=UNAUTHORIZED)
api_router.include_router(conversations.router, dependencies=_guarded("chat"), responses=UNAUTHORIZED)
api_router.include_router(admin.router, dependencies=_guarded(None), responses=UNAUTHORIZED)
api_router.include_router(audit.router, dependencies=_guarded(None), responses=UNAUTHORIZED)
