"""The Try it tab shows each text's aspect and opinion spans highlighted, as the API answers them
(a real Chromium on the real server)."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import Console, screenshot, sign_in

TEXTS = ["菜很好吃，但是服务太慢了", "😀房间很干净，价格有点贵", "请问几点开门"]


def _expected_marks(text: str, opinions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(class, text) of each highlighted run, drawn as try.js draws them: per code point, the
    aspect over the opinion, a later opinion over an earlier one."""
    chars = list(text)
    role = [""] * len(chars)
    who = [-1] * len(chars)
    for k, o in enumerate(opinions):
        for span, cls in ((o["opinion_span"], "op " + o["polarity"]), (o["aspect_span"], "asp")):
            if span:
                for c in range(span[0], min(span[1], len(chars))):
                    role[c], who[c] = cls, k
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(chars):
        j = i + 1
        while j < len(chars) and role[j] == role[i] and who[j] == who[i]:
            j += 1
        if role[i]:
            out.append((role[i], "".join(chars[i:j])))
        i = j
    return out


def test_try_it_highlights_aspects_and_opinions(page: Any, console_server: Console) -> None:
    answer = console_server.post("aspects", {"texts": TEXTS})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results[0]["opinions"]) >= 2 and results[1]["opinions"]
    sign_in(page, console_server)
    page.get_by_label("文本（每行一条）").fill("\n".join(TEXTS))
    page.get_by_role("button", name="分析").click()
    page.locator("#results .result").nth(2).wait_for()
    cards = page.locator("#results .result")
    for i, result in enumerate(results):
        box = cards.nth(i).locator(".aspects")
        assert box.locator("h3").inner_text() == "方面观点"
        marks = box.locator(".aspect-text mark").evaluate_all(
            "ms => ms.map(m => [m.className, m.textContent])"
        )
        assert [tuple(m) for m in marks] == _expected_marks(result["text"], result["opinions"])
        if result["opinions"]:
            assert box.locator(".aspect-text").inner_text() == result["text"]
            items = box.locator(".opinions li")
            assert items.count() == len(result["opinions"])
            for k, o in enumerate(result["opinions"]):
                item = items.nth(k)
                assert item.get_attribute("data-polarity") == o["polarity"]
                assert o["opinion"] in item.inner_text()
                assert (o["aspect"] or "（隐含）") in item.inner_text()
        else:
            assert box.locator(".hint").inner_text() == "没有找到观点"
    # the opinion colours follow the polarity: a complaint is red, praise green
    first = cards.nth(0).locator(".aspect-text")
    kinds = {o["polarity"] for o in results[0]["opinions"]}
    for polarity, rgb in (("positive", "rgb(213, 240, 223)"), ("negative", "rgb(248, 217, 217)")):
        if polarity in kinds:
            colour = first.locator(f"mark.op.{polarity}").first.evaluate(
                "m => getComputedStyle(m).backgroundColor"
            )
            assert colour == rgb
    aspect = first.locator("mark.asp").first
    assert aspect.evaluate("m => getComputedStyle(m).borderBottomStyle") == "solid"
    screenshot(page, "try-it-aspects")


def test_try_it_without_aspects_makes_no_aspects_call(page: Any, console_server: Console) -> None:
    sign_in(page, console_server)
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/v1/" in r.url else None)
    page.get_by_label("方面观点").uncheck()
    page.get_by_label("文本（每行一条）").fill(TEXTS[0])
    page.get_by_role("button", name="分析").click()
    page.locator("#results .result").first.wait_for()
    assert page.locator("#results .aspects").count() == 0
    assert not any(url.endswith("/aspects") for url in calls)
