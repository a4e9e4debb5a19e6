"""The web console at ``/``: plain HTML/CSS/JS shipped in ``static/`` (no build step, no CDN).

The page talks only to the native API with the ``X-API-Key`` header of the app that logged in
(kept in ``sessionStorage``), so it shows nothing of another app. This router also registers
``POST /api/v1/explain`` (:mod:`qinggan.service.console.explain`).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from qinggan.service.console import explain

#: the shipped assets: URL name -> media type
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}
#: no secret is ever in an asset; a short cache keeps upgrades visible
CACHE = "public, max-age=300"
SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}

router = APIRouter(include_in_schema=False)


@cache
def asset(name: str) -> bytes:
    return files("qinggan.service.console").joinpath("static", name).read_bytes()


def _serve(name: str) -> Response:
    headers = {**SECURITY, "Cache-Control": CACHE if name != "index.html" else "no-cache"}
    return Response(asset(name), media_type=ASSETS[name], headers=headers)


@router.get("/")
async def index() -> Response:
    return _serve("index.html")


@router.get("/console/{name}")
async def static_asset(name: str) -> Response:
    if name not in ASSETS or name == "index.html":
        return Response("not found", status_code=404, media_type="text/plain")
    return _serve(name)


router.include_router(explain.router)
