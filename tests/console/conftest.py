"""Fixtures of the console tests: a real uvicorn server on loopback (tiny models, one app) and a
headless Debian Chromium driven by Playwright for Python (``scripts/install-browser``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from qinggan.config import Settings
from qinggan.service.store import AppStore
from tests.service.conftest import (
    EMOTION,
    POLARITY,
    TALK,
    _train,
    free_port,
    serve_on_loopback,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass(frozen=True, slots=True)
class Console:
    base_url: str
    app_id: str
    secret: str
    models: dict[str, Path]
    db_url: str
    admin_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": f"{self.app_id}:{self.secret}"}

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base_url}/api/v1/{path}", json=body, headers=self.headers)

    def admin(self, path: str) -> httpx.Response:
        return httpx.get(
            f"{self.base_url}/api/v1/admin/{path}", headers={"X-Admin-Key": self.admin_key}
        )


@pytest.fixture(scope="package")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """``qinggan``'s server (``create_app_from_env``, with its in-process job worker) on a free
    loopback port, one app allowed every dialect."""
    pytest.importorskip("sklearn")
    root = tmp_path_factory.mktemp("console")
    models = {
        "polarity_model": _train(root / "polarity", "polarity", POLARITY),
        "emotion_model": _train(root / "emotion", "emotion", EMOTION),
        "talk_model": _train(root / "talk", "talk-emotion", TALK),
    }
    db_url = f"sqlite:///{root / 'console.db'}"
    store = AppStore.open(db_url)
    dialects = ["native", "jd", "jumdata", "iflytek", "wecom"]
    app = store.add_app("console", dialects=dialects, daily_quota=10_000, rps=0)
    store.close()
    port = free_port()
    admin_key = secrets.token_urlsafe(16)
    settings = Settings(
        db_url=db_url,
        port=port,
        log_level="warning",
        admin_key=admin_key,
        **{k: str(v) for k, v in models.items()},
    )
    # the in-process job worker is on by default; poll often so a small job ends quickly
    jobs_env = {"QINGGAN_JOBS_IN_PROCESS_WORKER": "true", "QINGGAN_JOBS_POLL_S": "0.1"}
    with serve_on_loopback(settings, root / "server.log", env=jobs_env) as base_url:
        yield Console(base_url, app.app_id, app.secret, models, db_url, admin_key)


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run scripts/install-browser)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (the Python package) is not installed"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; skipped when either is missing (a
    failure instead under CI=true)."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, console_server: Console) -> Iterator[Any]:
    """A fresh tab (its own context: no shared storage); a script error in it fails the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, console: Console, app_id: str = "", secret: str = "") -> None:
    """Sign in as an app (the fixture's app unless ``app_id`` and ``secret`` are given)."""
    page.goto(console.base_url + "/")
    page.get_by_label("应用 ID").fill(app_id or console.app_id)
    page.get_by_label("密钥", exact=True).fill(secret or console.secret)
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("#app").wait_for(state="visible")


def sign_in_admin(page: Any, console: Console, key: str | None = None) -> None:
    """Choose "管理员" on the login form and send ``key`` (the server's admin key by default)."""
    page.goto(console.base_url + "/")
    page.get_by_label("管理员", exact=True).check()
    page.get_by_label("管理员密钥").fill(console.admin_key if key is None else key)
    page.get_by_role("button", name="登录", exact=True).click()
