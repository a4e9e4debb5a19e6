"""End to end in a real headless Chromium: sign in, try texts, build a conversation, a phone
screen, both languages; a screenshot of each page goes to ``tests/console/screenshots/``."""

from __future__ import annotations

import re
import time
from importlib.resources import files
from typing import Any

import pytest

from tests.console.conftest import Console, screenshot, sign_in

POLARITY = {"positive", "negative", "neutral"}
TRENDS = {"turn_good", "turn_bad", "keep_smooth"}


def test_login_refuses_bad_credentials(page: Any, console_server: Console) -> None:
    started = time.perf_counter()
    page.goto(console_server.base_url + "/")
    page.get_by_label("应用 ID").wait_for()
    first_paint = time.perf_counter() - started
    screenshot(page, "login")
    page.get_by_label("应用 ID").fill(console_server.app_id)
    page.get_by_label("密钥", exact=True).fill("wrong")
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("#login-error:not(:empty)").wait_for()
    assert page.locator("#app").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    assert first_paint < 5  # loopback; benchmarks/console_timing.py measures it properly


def test_login_form_offers_app_or_admin(page: Any, console_server: Console) -> None:
    page.goto(console_server.base_url + "/")
    assert page.get_by_label("应用 ID").is_visible()
    assert page.get_by_label("管理员密钥").is_hidden()
    page.get_by_label("管理员", exact=True).check()
    assert page.get_by_label("管理员密钥").is_visible()
    assert page.get_by_label("应用 ID").is_hidden()
    assert "QINGGAN_ADMIN_KEY" in page.locator("#login-hint").inner_text()
    screenshot(page, "login-admin")
    page.get_by_label("应用", exact=True).check()
    assert page.get_by_label("密钥", exact=True).is_visible()


def test_every_string_has_chinese_and_english(page: Any, console_server: Console) -> None:
    page.goto(console_server.base_url + "/")
    got = page.evaluate(
        """async () => {
          const { STRINGS } = await import('/console/i18n.js');
          const keyed = (attr) => [...document.querySelectorAll(`[${attr}]`)];
          const used = [...keyed('data-i18n').map(n => n.dataset.i18n),
                        ...keyed('data-i18n-aria').map(n => n.dataset.i18nAria)];
          return { zh: Object.keys(STRINGS.zh), en: Object.keys(STRINGS.en), used };
        }"""
    )
    assert sorted(got["zh"]) == sorted(got["en"])
    static = files("qinggan.service.console").joinpath("static")
    scripts = "".join(
        p.read_text(encoding="utf-8") for p in static.iterdir() if p.name.endswith(".js")
    )
    in_scripts = set(re.findall(r'\bt\("(\w+)"[,)]', scripts))
    in_scripts |= set(re.findall(r'bad\([^,()]+, "(\w+)"', scripts))  # upload.js problems
    assert in_scripts and set(got["used"]) and (in_scripts | set(got["used"])) <= set(got["zh"])


def test_try_it_shows_labels_and_explanations(page: Any, console_server: Console) -> None:
    sign_in(page, console_server)
    assert console_server.app_id in page.locator("#who").inner_text()
    page.get_by_label("文本（每行一条）").fill("非常满意，下次还会再来\n气死我了，我要投诉你们")
    page.get_by_label("场景").select_option("customer_service")
    page.get_by_label("情绪类别").select_option("8")
    page.get_by_role("button", name="分析").click()
    page.locator("#results .result").nth(1).wait_for()
    cards = page.locator("#results .result")
    assert cards.count() == 2
    first, second = cards.nth(0), cards.nth(1)
    assert first.locator(".polarity .label").inner_text() == "positive"
    assert second.locator(".polarity .label").inner_text() == "negative"
    assert second.locator(".emotions .label").inner_text() == "anger"
    assert second.locator(".emotions .bars li").count() == 8
    assert "强度" in second.locator(".intensity").inner_text()
    assert second.locator(".dialogue .replies li").count() >= 1
    assert second.locator(".dialogue .tag").first.inner_text() in {
        "pessimistic", "optimistic", "neutral",
    }  # fmt: skip
    units = first.locator(".explained .unit")
    assert units.count() == len("非常满意，下次还会再来")
    scores = [float(s) for s in units.evaluate_all("xs => xs.map(x => x.dataset.score)")]
    assert sum(scores) > 0 and any(s != 0 for s in scores)
    colour = units.first.evaluate("x => getComputedStyle(x).backgroundColor")
    assert colour.startswith("rgba(")
    assert int(page.locator("#results").get_attribute("data-ms")) < 2000
    screenshot(page, "try-it")


def test_conversation_chart_updates_per_turn(page: Any, console_server: Console) -> None:
    from playwright.sync_api import expect

    sign_in(page, console_server)
    page.get_by_role("tab", name="对话").click()
    turns = [
        ("客服", "您好，请问有什么可以帮您"),
        ("客户", "质量太差，用了两天就坏了"),
        ("客户", "气死我了，我要投诉你们"),
        ("客户", "谢谢，问题解决了"),
    ]
    points = page.locator("#chart circle.point")
    for count, (speaker, text) in enumerate(turns, start=1):
        page.get_by_label("说话人").select_option(speaker)
        page.get_by_label("这一轮").fill(text)
        page.get_by_role("button", name="添加").click()
        page.locator("#turns li").nth(count - 1).wait_for()
        if count >= 2:  # a trend needs a customer turn
            expect(points).to_have_count(count)
            assert page.locator("#trend-label").get_attribute("data-label") in TRENDS
    assert page.locator("#chart polyline").count() == 1
    assert page.locator("#chart circle.staff").count() == 1
    angry = console_server.post("emotions", {"text": turns[2][1], "classes": 7}).json()["result"]
    flagged = angry["label"] in {"anger", "anxiety"} and angry["intensity"][0]["degree"] == 3
    assert (page.locator("#turns li").nth(2).locator(".flag").count() == 1) == flagged
    assert page.locator("#chart circle.flag").count() == int(flagged)
    screenshot(page, "conversation")
    page.get_by_role("button", name="清空").click()
    assert points.count() == 0


@pytest.mark.parametrize("width", [375])
def test_phone_screen_and_english(browser: Any, console_server: Console, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, console_server)
        page.get_by_role("button", name="Switch language / 切换语言").click()
        assert page.get_by_role("tab", name="Try it").is_visible()
        assert page.evaluate("document.documentElement.lang") == "en"
        page.get_by_label("Texts (one per line)").fill("房间很干净，服务也周到")
        page.get_by_role("button", name="Analyze").click()
        page.locator("#results .result").first.wait_for()
        overflow = "document.documentElement.scrollWidth - innerWidth"
        assert page.evaluate(overflow) <= 0, "the page scrolls sideways on a phone"
        screenshot(page, "phone-en")
        page.get_by_role("tab", name="Jobs").click()
        page.locator("#past-jobs table, #past-jobs p").first.wait_for()
        assert page.evaluate(overflow) <= 0, "the Jobs tab scrolls sideways on a phone"
        screenshot(page, "phone-jobs-en")
    finally:
        context.close()


def test_header_shows_the_calls_left_today(page: Any, console_server: Console) -> None:
    from playwright.sync_api import expect

    sign_in(page, console_server)
    usage = page.locator("#usage")
    expect(usage).to_be_visible()
    first = int(usage.get_attribute("data-remain"))
    assert 0 <= first < 10_000 and "今日剩余调用" in usage.inner_text()
    page.get_by_label("文本（每行一条）").fill("很好")
    page.get_by_role("button", name="分析").click()
    page.locator("#results .result").first.wait_for()
    expect(usage).not_to_have_attribute("data-remain", str(first))
    after = int(usage.get_attribute("data-remain"))
    assert after < first
    assert str(after) in usage.inner_text()
