"""The API reference page (/api/v1/docs) with Swagger UI's files from this server, not a CDN.

FastAPI's default page loads its scripts from jsdelivr; a hospital network (and these build
machines) may reach no CDN, and a page that runs third-party scripts next to internal data is not
wanted anyway. The web UI's build copies swagger-ui-dist's files into dist/api-docs
(serving/web/vite.config.ts); they are served with the rest of the built files.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "/api-docs"
_NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>opsbrain API</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.6">
<h1>API 文档页面的文件尚未构建</h1><p>请运行 <code>bash scripts/setup.sh</code>（它构建网页和 API 文档所需的文件）。
接口说明本身可直接读取：<a href="{openapi}">{openapi}</a>。</p></body></html>"""


def install_api_docs(app: FastAPI, docs_url: str, openapi_url: str, dist: Path) -> None:
    @app.get(docs_url, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        if not (dist / "api-docs" / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(_NOT_BUILT.format(openapi=openapi_url), status_code=503)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
