"""The chat web UI at ``/``: the files Vite built (scripts/setup.sh runs the build), served as they are.

The page calls only the public API under /api/v1, so it is mounted last: every API route wins over
a file of the same path, and an unknown /api path still gets the API's JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"

_NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>opsbrain</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.6">
<h1>opsbrain 网页尚未构建</h1>
<p>没有找到网页文件（{dist}）。请在项目目录运行 <code>bash scripts/setup.sh</code>（需要 Node.js 20 与 npm），
然后重启服务。</p>
<p>API 不受影响：<a href="/api/v1/docs">API 文档</a>。</p></body></html>"""


def mount_web_ui(app: FastAPI, dist: Path | None) -> None:
    dist = dist or DEFAULT_DIST
    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="web")
        return

    @app.get("/", include_in_schema=False)
    def not_built() -> HTMLResponse:
        # the API still serves; the page says how to build the UI instead of a bare 404
        return HTMLResponse(_NOT_BUILT.format(dist=dist), status_code=503)
