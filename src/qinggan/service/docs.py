"""The API documentation, served whole from the installed packages: no CDN, no network.

``GET /docs`` is FastAPI's Swagger UI page pointed at ``/docs/assets/...``, which serves the
Swagger UI bundle, its stylesheet and favicon from the ``fastapi-offline`` package (MIT; Swagger
UI itself is Apache-2.0; both in the ``serve`` extra); ``GET /openapi.json`` is the schema.
Every one is an ordinary route, so ``/metrics`` counts them by name. The online validator badge
is off (it would call out to a validator service).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from qinggan.service.errors import NotFound

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
ASSETS_URL = "/docs/assets"
#: what ``/docs/assets/{name}`` serves: name -> media type (nothing else is reachable)
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
CACHE = "public, max-age=86400"


@cache
def asset(name: str) -> bytes:
    """One of :data:`ASSETS`, read from the ``fastapi_offline`` package."""
    return files("fastapi_offline").joinpath("static", name).read_bytes()


def docs_router(app: FastAPI) -> APIRouter:
    """``/docs``, its assets and ``/openapi.json`` for ``app`` (out of the schema)."""
    router = APIRouter(include_in_schema=False, tags=["operations"])

    @router.get(OPENAPI_URL)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get(DOCS_URL)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(f"{ASSETS_URL}/{{name}}")
    async def docs_asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFound("no such documentation asset")
        return Response(
            asset(name),
            media_type=media_type,
            headers={"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"},
        )

    return router
