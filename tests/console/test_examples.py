"""The Examples panel: its snippets, signed in the browser, are sent as written and accepted."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from typing import Any

import httpx2 as httpx
import pytest

from tests.console.conftest import Console, screenshot, sign_in


def _open(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_role("tab", name="示例").click()
    page.locator("#ex-wecom-python").wait_for()


def _send_curl(snippet: str) -> httpx.Response:
    """Send one ``curl`` command as the page wrote it: URL, ``-H``, ``-d``, ``--data-urlencode``."""
    words = shlex.split(snippet.replace("\\\n", " "))
    assert words[:4] == ["curl", "-sS", "-X", "POST"], words[:4]
    url, headers, form, body = words[4], {}, {}, None
    rest = iter(words[5:])
    for flag in rest:
        value = next(rest)
        if flag == "-H":
            name, _, header = value.partition(": ")
            headers[name] = header
        elif flag == "-d":
            body = value.encode()
        elif flag == "--data-urlencode":
            name, _, field = value.partition("=")
            form[name] = field
        else:
            raise AssertionError(f"unexpected curl flag {flag}")
    if form:
        return httpx.post(url, data=form, headers=headers)
    return httpx.post(url, content=body, headers=headers)


def _snippet(page: Any, name: str) -> str:
    return page.locator(f"#ex-{name}").inner_text()


def test_md5_in_the_page_matches_hashlib(page: Any, console_server: Console) -> None:
    _open(page, console_server)
    samples = ["", "a", "abc", "情感分析", "x" * 55, "y" * 56, "z" * 64, "w" * 119, "秘" * 300]
    script = (
        "async xs => { const { md5 } = await import('/console/examples.js'); return xs.map(md5); }"
    )
    got = page.evaluate(script, samples)
    assert got == [hashlib.md5(s.encode()).hexdigest() for s in samples]


def test_jd_and_iflytek_curl_succeed(page: Any, console_server: Console) -> None:
    _open(page, console_server)
    jd = _send_curl(_snippet(page, "jd-curl")).json()
    assert jd["code"] == "10000" and jd["result"]["status"] == 0, jd
    assert console_server.app_id in _snippet(page, "jd-curl")
    iflytek = _send_curl(_snippet(page, "iflytek-curl")).json()
    assert iflytek["code"] == "0", iflytek
    assert iflytek["data"]["sa"][0]["sentiment"] in (0, 1, 2)
    jumdata = _send_curl(_snippet(page, "jumdata-curl")).json()
    assert str(jumdata["code"]) == "200", jumdata
    native = _send_curl(_snippet(page, "native-curl"))
    assert native.status_code == 200, native.text
    assert native.json()["result"]["label"] in {"positive", "negative", "neutral"}
    screenshot(page, "examples")


@pytest.mark.parametrize("name", ["native", "jd", "jumdata", "iflytek", "wecom"])
def test_python_snippets_run(page: Any, console_server: Console, name: str) -> None:
    _open(page, console_server)
    code = _snippet(page, f"{name}-python")
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 0, ran.stderr
    printed = ran.stdout.strip()
    assert printed.startswith("{"), printed
    if name == "jd":
        assert "'10000'" in printed and "'status': 0" in printed
    if name == "iflytek":
        assert "'code': '0'" in printed
    if name == "wecom":
        assert "'errcode': 0" in printed and "'analyze_result_list'" in printed


def test_wecom_curl_is_a_shell_script(page: Any, console_server: Console) -> None:
    _open(page, console_server)
    script = _snippet(page, "wecom-curl")
    assert script.startswith("TOKEN=$(curl") and "create_sentiment_task" in script
    bash = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert bash.returncode == 0, bash.stderr
    token = json.loads(httpx.get(shlex.split(script.split("$(", 1)[1])[2]).text)
    assert token["errcode"] == 0
