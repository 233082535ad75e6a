"""The page (``/``), its built files (``/static``) and the API's documentation (``/docs``), all served from
the package: no CDN, no internet."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

# The page talks only to this server; workers may come from blob: URLs MapLibre makes of its own file.
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self' data:; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def mount(app: FastAPI) -> None:
    from skyfence.web.app import static_dir

    static = static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(static / "index.html", headers={"Content-Security-Policy": PAGE_CSP,
                                                            "Cache-Control": "no-cache",
                                                            "X-Content-Type-Options": "nosniff"})

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="skyfence API",
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/icon.svg")
