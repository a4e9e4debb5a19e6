"""The admin view in a real Chromium: every app's usage, inline edits that the app then sees,
and a wrong key (or an app's key) refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest

from qinggan.service.store import AppStore
from tests.console.conftest import Console, screenshot, sign_in, sign_in_admin


@dataclass(frozen=True, slots=True)
class Spender:
    app_id: str
    secret: str
    spent: int  # calls charged today, summed from the answers' usage


def _spend(console: Console, app_id: str, secret: str, texts: list[str]) -> int:
    """One polarity request per text (every text a call); the calls the answers say they charged."""
    charged = 0
    for text in texts:
        answer = httpx.post(
            f"{console.base_url}/api/v1/polarity",
            json={"text": text},
            headers={"X-API-Key": f"{app_id}:{secret}"},
        )
        assert answer.status_code == 200, answer.text
        charged += answer.json()["usage"]["charged"]
    return charged


@pytest.fixture(scope="module")
def spenders(console_server: Console) -> Iterator[dict[str, Spender]]:
    """Two fresh apps that made 2 and 5 calls today."""
    calls = {"shop-a": ["很好", "太差了"], "shop-b": ["好", "不好", "一般", "满意", "差评"]}
    store = AppStore.open(console_server.db_url)
    try:
        made = {
            name: store.add_app(name, dialects=["native"], daily_quota=100, rps=0) for name in calls
        }
    finally:
        store.close()
    yield {
        name: Spender(
            app.app_id, app.secret, _spend(console_server, app.app_id, app.secret, calls[name])
        )
        for name, app in made.items()
    }


def _listed(console: Console, app_id: str) -> dict[str, Any]:
    """The app as the admin API lists it now."""
    answer = console.admin("apps")
    assert answer.status_code == 200, answer.text
    return next(app for app in answer.json()["apps"] if app["app_id"] == app_id)


def _row(page: Any, app_id: str) -> Any:
    return page.locator(f"#admin-apps tr[data-app='{app_id}']")


def test_admin_sees_every_app_with_todays_calls(
    page: Any, console_server: Console, spenders: dict[str, Spender]
) -> None:
    sign_in_admin(page, console_server)
    page.locator("#admin-apps tr[data-app]").first.wait_for()
    assert page.locator("#who").inner_text() == "已登录：管理员"
    tabs = page.get_by_role("tab")
    assert tabs.all_inner_texts() == ["管理"]  # no Try it, Jobs, ... for the admin
    assert page.locator("#usage").is_hidden()
    apps = console_server.admin("apps").json()["apps"]
    shown = page.locator("#admin-apps tr[data-app]").evaluate_all(
        "rs => rs.map(r => r.dataset.app)"
    )
    assert shown == [app["app_id"] for app in apps]
    for spender in spenders.values():
        row = _row(page, spender.app_id)
        assert row.locator(".calls-today").inner_text() == str(spender.spent)
        assert row.locator(".week").get_attribute("data-calls").split(",")[-1] == str(spender.spent)
        meter = row.get_by_role("meter")
        assert meter.get_attribute("aria-valuenow") == str(spender.spent)
        assert meter.get_attribute("aria-valuemax") == "100"
        assert row.get_by_label(f"{spender.app_id} 的每日配额").input_value() == "100"
    assert spenders["shop-b"].spent == 5 and spenders["shop-a"].spent == 2
    main = _listed(console_server, console_server.app_id)
    main_row = _row(page, console_server.app_id)
    assert main_row.locator(".calls-today").inner_text() == str(main["calls_today"])
    assert main_row.locator("[data-k=jobs]").inner_text() == (
        f"{main['jobs']['running']} / {main['jobs']['total']}"
    )
    assert page.locator("#admin-apps th[scope=col]").count() == 10
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('#admin input, #admin button')]
          .filter(x => !x.getAttribute('aria-label') && !x.textContent.trim()).length"""
    )
    assert unnamed == 0
    screenshot(page, "admin")
    page.get_by_role("button", name="Switch language / 切换语言").click()
    assert page.get_by_role("tab").all_inner_texts() == ["Admin"]
    assert page.locator("#admin-apps th[scope=col]").first.inner_text() == "App ID"
    assert (
        _row(page, spenders["shop-a"].app_id)
        .get_by_label(f"Daily quota of {spenders['shop-a'].app_id}")
        .is_visible()
    )


def test_admin_edits_limits_and_the_app_sees_its_new_quota(
    browser: Any, page: Any, console_server: Console, spenders: dict[str, Spender]
) -> None:
    from playwright.sync_api import expect

    target = spenders["shop-b"]
    sign_in_admin(page, console_server)
    row = _row(page, target.app_id)
    row.get_by_label(f"{target.app_id} 的每日配额").fill("40")
    row.get_by_label(f"{target.app_id} 的每秒请求上限").fill("7")
    row.get_by_role("button", name=f"保存 {target.app_id}").click()
    expect(page.locator("#admin-status")).to_have_text(f"已保存 {target.app_id}")
    expect(_row(page, target.app_id).get_by_role("meter")).to_have_attribute("aria-valuemax", "40")
    changed = _listed(console_server, target.app_id)
    assert (changed["daily_quota"], changed["rps"], changed["enabled"]) == (40, 7, True)

    own = browser.new_context(locale="zh-CN")
    try:
        app_page = own.new_page()
        sign_in(app_page, console_server, target.app_id, target.secret)  # one more call
        usage = app_page.locator("#usage")
        expect(usage).to_have_attribute("data-remain", str(40 - target.spent - 1))
        assert f"今日剩余调用：{40 - target.spent - 1}" in usage.inner_text()
        assert app_page.locator("#tab-admin").is_hidden()
    finally:
        own.close()

    row = _row(page, target.app_id)
    row.get_by_label(f"{target.app_id} 的每秒请求上限").fill("")  # empty = unlimited
    row.get_by_label(f"启用 {target.app_id}").uncheck()
    row.get_by_role("button", name=f"保存 {target.app_id}").click()
    expect(_row(page, target.app_id)).to_have_attribute("data-enabled", "false")
    changed = _listed(console_server, target.app_id)
    assert (changed["daily_quota"], changed["rps"], changed["enabled"]) == (40, None, False)


def test_admin_refuses_a_bad_limit_without_a_request(page: Any, console_server: Console) -> None:
    sign_in_admin(page, console_server)
    row = _row(page, console_server.app_id)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method))
    row.get_by_label(f"{console_server.app_id} 的每日配额").fill("-3")
    row.get_by_role("button", name=f"保存 {console_server.app_id}").click()
    assert "请填不小于 0 的整数" in page.locator("#admin-error").inner_text()
    assert "PATCH" not in requests


def test_admin_login_refuses_a_wrong_key(page: Any, console_server: Console) -> None:
    sign_in_admin(page, console_server, "not-the-key")
    page.locator("#login-error:not(:empty)").wait_for()
    error = page.locator("#login-error")
    assert error.inner_text() == "管理员密钥无效" and error.is_visible()
    assert page.locator("#app").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, "admin-refused")


def test_an_app_key_cannot_open_the_admin_view(page: Any, console_server: Console) -> None:
    app_key = f"{console_server.app_id}:{console_server.secret}"
    sign_in_admin(page, console_server, app_key)
    page.locator("#login-error:not(:empty)").wait_for()
    assert page.locator("#app").is_hidden() and page.locator("#admin-apps tr").count() == 0
    url = f"{console_server.base_url}/api/v1/admin/apps"
    for headers in ({"X-Admin-Key": app_key}, {"X-API-Key": app_key}):
        answer = httpx.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "bad_admin_key"
