"""The web console at ``/``: plain HTML/CSS/JS shipped in ``static/`` (no build step, no CDN).

An app signs in with its ``app_id:secret`` and the page talks only to the native API with that
``X-API-Key`` (kept in ``sessionStorage``), so it shows nothing of another app. The admin signs
in with the server's admin key and the page talks only to the admin API (``X-Admin-Key``): limits
and usage of every app, never their texts or results.

For a fast first paint the stylesheet is inlined into the page, once, at the first request; the
Content-Security-Policy allows exactly that ``<style>`` by its sha256 hash (no
``'unsafe-inline'``). The scripts are ES modules (deferred by nature), preloaded in parallel.

This router also registers ``POST /api/v1/explain`` (:mod:`qinggan.service.console.explain`).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from qinggan.service.console import explain

#: the modules served under /console/: URL name -> media type
SCRIPTS = {
    name: "text/javascript; charset=utf-8"
    for name in (
        "console.js",
        "core.js",
        "i18n.js",
        "upload.js",
        "try.js",
        "talk.js",
        "jobs.js",
        "examples.js",
        "admin.js",
    )
}
#: the line of index.html that the inlined stylesheet replaces
STYLESHEET_LINK = '<link rel="stylesheet" href="/console/console.css">'
#: no secret is ever in an asset; a short cache keeps upgrades visible
CACHE = "public, max-age=300"
CSP = (
    "default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


@cache
def asset(name: str) -> bytes:
    return files("qinggan.service.console").joinpath("static", name).read_bytes()


def style_hash(css: str) -> str:
    """The CSP source that allows a ``<style>`` element holding exactly ``css``."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@cache
def page() -> tuple[bytes, str]:
    """``index.html`` with the stylesheet inlined, and the CSP that allows it (built once)."""
    html = asset("index.html").decode("utf-8")
    css = asset("console.css").decode("utf-8")
    if STYLESHEET_LINK not in html or "</style" in css:
        raise RuntimeError("console: index.html lost its stylesheet link, or the CSS has </style")
    inlined = html.replace(STYLESHEET_LINK, "<style>" + css + "</style>", 1)
    return inlined.encode("utf-8"), CSP.format(style=style_hash(css))


@router.get("/")
async def index() -> Response:
    body, policy = page()
    headers = {**SECURITY, "Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/console/{name}")
async def script(name: str) -> Response:
    if name not in SCRIPTS:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {**SECURITY, "Cache-Control": CACHE}
    return Response(asset(name), media_type=SCRIPTS[name], headers=headers)


router.include_router(explain.router)
