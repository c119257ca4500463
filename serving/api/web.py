"""The chat web UI at ``/``: the files Vite built (scripts/setup.sh runs the build), served as they are.

The page calls only the public API under /api/v1, so it is mounted last: every API route wins over
a file of the same path, and an unknown /api path still gets the API's JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import Scope

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"

_NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>opsbrain</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.6">
<h1>opsbrain 网页尚未构建</h1>
<p>没有找到网页文件（{dist}）。请在项目目录运行 <code>bash scripts/setup.sh</code>（需要 Node.js 20 与 npm），
然后重启服务。</p>
<p>API 不受影响：<a href="/api/v1/docs">API 文档</a>。</p></body></html>"""


# Everything the page needs is its own bundled files and the API on the same origin: a script or
# connection to anywhere else (an injected one included) is refused by the browser. Element Plus and
# ECharts set inline styles, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)


class WebFiles(StaticFiles):
    """The built files with the page's security headers and caching: assets are content-hashed, so a
    browser keeps them for a year; index.html is always revalidated so a new build is picked up."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        # Mounted at "/", this mount matches every path, so the router hands it requests that an API
        # route matched by path but not by method (GET on POST /api/v1/chat): answer those, and any
        # method other than GET/HEAD on a file, 405 with Allow (RFC 9110), not StaticFiles' 404 or
        # bare 405
        allowed = _methods_routed_elsewhere(scope)
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        hashed = path.startswith("assets/") and response.status_code == 200
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if hashed else "no-cache"
        return response


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _methods_routed_elsewhere(scope: Scope) -> set[str]:
    """The methods the app's other routes take at this request's path: empty unless one of them
    matches the path (with another method, or the router would have sent the request there).

    Asked through each route's own ``matches``, the router's public interface, so that routers
    FastAPI includes lazily are searched as well."""
    routes = [
        r
        for r in getattr(getattr(scope.get("app"), "router", None), "routes", [])
        if not isinstance(r, Mount)
    ]

    def probe(method: str) -> Scope:  # the routes may note things in the scope's dicts: give them copies
        return {k: dict(v) if isinstance(v, dict) else v for k, v in scope.items()} | {"method": method}

    if not any(r.matches(probe(scope["method"]))[0] == Match.PARTIAL for r in routes):
        return set()
    return {m for m in METHODS if any(r.matches(probe(m))[0] == Match.FULL for r in routes)}


def mount_web_ui(app: FastAPI, dist: Path) -> None:
    if (dist / "index.html").is_file():
        app.mount("/", WebFiles(directory=dist, html=True), name="web")
        return

    @app.get("/", include_in_schema=False)
    def not_built() -> HTMLResponse:
        # the API still serves; the page says how to build the UI instead of a bare 404
        return HTMLResponse(_NOT_BUILT.format(dist=dist), status_code=503)
