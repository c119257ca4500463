"""Security headers on every response, and no caching of data.

The figures, conversations and exports an API response carries are a hospital's internal data: a
shared workstation's browser cache or a proxy must not keep them (``Cache-Control: no-store``). The
web UI's own files (scripts, styles, fonts) carry no data and stay cacheable. The other headers are
the usual hardening for a page served on an internal network: no MIME sniffing, no framing by other
sites (the portal embeds the API, not the page), no referrer leaking a conversation URL.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DATA_PREFIXES = ("/api/", "/v1/")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        data = scope["path"].startswith(DATA_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if data:
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)
