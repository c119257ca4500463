"""The chat web UI at ``/``: the files Vite built (scripts/setup.sh runs the build), served as they are.

The page calls only the public API under /api/v1, so it is mounted last: every API route wins over
a file of the same path, and an unknown /api path still gets the API's JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
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
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        hashed = path.startswith("assets/") and response.status_code == 200
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if hashed else "no-cache"
        return response


def mount_web_ui(app: FastAPI, dist: Path) -> None:
    if (dist / "index.html").is_file():
        app.mount("/", WebFiles(directory=dist, html=True), name="web")
        return

    @app.get("/", include_in_schema=False)
    def not_built() -> HTMLResponse:
        # the API still serves; the page says how to build the UI instead of a bare 404
        return HTMLResponse(_NOT_BUILT.format(dist=dist), status_code=503)
