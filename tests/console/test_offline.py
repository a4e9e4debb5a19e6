"""Offline for real: every page the server serves loads in Chromium with the network cut off.

Every request a page makes goes through a gate that lets loopback (127.0.0.1, localhost) through
and aborts, and records, anything else. The pages are found from the app's own routes (each
GET route without a path parameter that answers HTML), so a page added later is covered too:
the console (signed in as an app, every tab opened; then as the admin) and the Swagger UI at
/docs, which must render the schema from assets of the installed package. /metrics then names
the docs routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

from qinggan.config import Settings
from qinggan.service.app import create_app
from tests.console.conftest import Console, sign_in, sign_in_admin

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TABS = ["试一试", "对话", "任务", "示例"]


def routes(entries: Any, prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """``(path, methods)`` of every route, through included routers (FastAPI keeps those as
    entries of their own)."""
    for entry in entries:
        included = getattr(entry, "original_router", None)
        if included is not None:
            context = getattr(entry, "include_context", None)
            yield from routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif hasattr(entry, "path"):
            yield prefix + entry.path, set(getattr(entry, "methods", None) or ())


def served_pages(console: Console) -> list[str]:
    """Paths of every GET route without path parameters whose answer is an HTML page."""
    app = create_app(Settings(db_url=console.db_url), dialects=None)
    paths = sorted({path for path, methods in routes(app.routes) if "GET" in methods})
    assert {"/", "/docs", "/healthz", "/api/v1/jobs"} <= set(paths), paths
    pages = []
    for path in paths:
        if "{" in path:
            continue
        answer = httpx.get(console.base_url + path, timeout=10)
        if answer.headers.get("content-type", "").startswith("text/html"):
            pages.append(path)
    return pages


def gated_context(browser: Any, outside: list[str], inside: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")

    def gate(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOOPBACK:
            inside.append(parts.path)
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", gate)
    return context


def test_offline_every_served_page_loads_without_leaving_loopback(
    browser: Any, console_server: Console
) -> None:
    pages = served_pages(console_server)
    assert {"/", "/docs"} <= set(pages), pages
    outside: list[str] = []
    inside: list[str] = []
    errors: list[str] = []
    context = gated_context(browser, outside, inside)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for path in pages:
            page.goto(console_server.base_url + path, wait_until="networkidle")
            if path == "/docs":  # the UI itself rendered, from the packaged bundle
                page.locator(".swagger-ui .info .title").wait_for()
                assert "qinggan" in page.locator(".swagger-ui .info .title").inner_text()
                page.locator(".opblock-tag-section").first.wait_for()
        sign_in(page, console_server)
        tabs = [t for t in page.get_by_role("tab").all() if t.is_visible()]
        names = [t.inner_text() for t in tabs]
        assert set(TABS) <= set(names), names  # and any tab added later is opened too
        for tab in tabs:
            tab.click()
            page.wait_for_load_state("networkidle")
        admin = context.new_page()  # a tab of its own: the app's sign-in stays in the other
        admin.set_default_timeout(15_000)
        admin.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_admin(admin, console_server)
        admin.locator("#admin-apps tr[data-app]").first.wait_for()
        admin.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert not outside, f"requests that left loopback: {outside}"
    assert not errors, f"script errors: {errors}"
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                  "/openapi.json", "/api/v1/admin/apps"):  # fmt: skip
        assert asset in inside, f"{asset} was never requested"


def test_offline_metrics_name_the_docs_routes(console_server: Console) -> None:
    base = console_server.base_url
    for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui.css", "/docs/assets/nope"):
        httpx.get(base + path, timeout=10)
    metrics = httpx.get(base + "/metrics", timeout=10).text
    for route, status in (("/docs", 200), ("/openapi.json", 200),
                          ("/docs/assets/{name}", 200), ("/docs/assets/{name}", 404)):  # fmt: skip
        assert f'route="{route}",status="{status}"' in metrics, route
