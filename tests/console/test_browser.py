"""End to end in a real headless Chromium: sign in, try texts, build a conversation, import
messages; a screenshot of each page goes to ``tests/console/screenshots/``."""

from __future__ import annotations

import json
import time
from pathlib import Path
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
    page.get_by_label("密钥").fill("wrong")
    page.get_by_role("button", name="登录").click()
    page.locator("#login-error:not(:empty)").wait_for()
    assert page.locator("#app").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    assert first_paint < 5  # loopback; the page itself is three small files


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


def test_jobs_import_reports_counts(page: Any, console_server: Console) -> None:
    sign_in(page, console_server)
    page.get_by_role("tab", name="任务").click()
    lines = [
        {"msgid": "C1", "msgtype": "text", "content": "谢谢，问题解决了", "conversation_id": "c"},
        {"msgid": "C2", "msgtype": "text", "content": "太差了", "conversation_id": "c"},
        {"msgtype": "text", "content": "no msgid"},
    ]
    jsonl = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    page.get_by_label("JSONL 消息").fill(jsonl)
    page.get_by_role("button", name="导入").click()
    page.locator("#import-result table").wait_for()
    cell = page.locator("#import-result td")
    assert cell.and_(page.locator("[data-k=read]")).inner_text() == "3"
    assert cell.and_(page.locator("[data-k=bad]")).inner_text() == "1"
    assert page.locator("#import-result li").count() == 1
    screenshot(page, "jobs")


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
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, "the page scrolls sideways on a phone"
        screenshot(page, "phone-en")
    finally:
        context.close()


def test_jobs_start_poll_and_download(page: Any, console_server: Console) -> None:
    from playwright.sync_api import expect

    sign_in(page, console_server)
    page.get_by_role("tab", name="任务").click()
    lines = [
        {"msgid": "J1", "msgtype": "text", "content": "非常满意，下次还会再来"},
        {"msgid": "J2", "msgtype": "text", "content": "气死我了，我要投诉你们"},
        {"msgid": "J3", "msgtype": "image"},
    ]
    jsonl = "\n".join(json.dumps({**x, "conversation_id": "j"}, ensure_ascii=False) for x in lines)
    page.get_by_label("JSONL 消息").fill(jsonl)
    page.get_by_role("button", name="导入").click()
    page.locator("#import-result table").wait_for()
    page.get_by_role("button", name="开始任务").click()
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "1", timeout=20_000)
    assert progress.get_attribute("data-done") == progress.get_attribute("data-total") == "3"
    assert "3/3" in progress.inner_text()
    rows = page.locator("#job-results tr[data-msgid]")
    assert rows.count() == 3
    sentiments = {
        msgid: page.locator(f"#job-results tr[data-msgid={msgid}] [data-k=sentiment]").inner_text()
        for msgid in ("J1", "J2")
    }
    assert sentiments == {"J1": "positive", "J2": "negative"}
    link = page.get_by_role("link", name="下载 JSONL")
    assert link.get_attribute("href").startswith("blob:")
    with page.expect_download() as info:
        link.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    results = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert [r["msgid"] for r in results] == ["J1", "J2", "J3"]
    assert results[0]["sentiment_result"] == 1 and results[2]["errcode"] != 0
    screenshot(page, "job-results")


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
