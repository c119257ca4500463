from fastapi import APIRouter

from serving.api.routes import chat, conversations, dimensions, indicators, meta, policies

api_router = APIRouter()
api_router.include_router(meta.router)
api_router.include_router(indicators.router)
api_router.include_router(dimensions.router)
api_router.include_router(policies.router)
api_router.include_router(chat.router)
api_router.include_router(conversations.router)
