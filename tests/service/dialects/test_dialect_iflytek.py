"""iFlytek LTP: golden answers from the seed, every code path, the seed's own client."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qinggan.service.apps import App
from qinggan.service.dialects import iflytek
from qinggan.service.store import AppStore

from .support import assert_golden, golden, iflytek_headers

PATH = "/v1/sa"


def _post(
    client: TestClient,
    app: App,
    form: dict[str, str] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **sign_kw: Any,
) -> dict[str, Any]:
    signed = iflytek_headers(app.app_id, app.secret, **sign_kw)
    response = client.post(PATH, data=form or {"text": "好"}, headers={**signed, **(headers or {})})
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _error(body: dict[str, Any], code: str, desc: str | None = None) -> None:
    assert set(body) == {"code", "desc", "data", "sid"} and body["data"] == {}, body
    assert body["code"] == code, body
    if desc is not None:
        assert body["desc"].startswith(desc), body


def _sa(body: dict[str, Any]) -> dict[str, Any]:
    assert body["code"] == "0" and body["desc"] == "success", body
    item: dict[str, Any] = body["data"]["sa"][0]
    probs = [item["neutral_prob"], item["positive_prob"], item["negative_prob"]]
    assert abs(sum(probs) - 1) < 1e-9
    assert item["sentiment"] == probs.index(max(probs))  # 0 neutral, 1 positive, 2 negative
    return item


def test_iflytek_golden(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("iflytek")
    for name in ("sa_success", "sa_invalid_appid"):
        case = golden("iflytek", name)
        request = case["request"]
        headers = iflytek_headers(request.get("appid", app.app_id), app.secret)
        body = dialect_client.post(request["path"], data=request["form"], headers=headers).json()
        assert_golden(body, case)
        assert body["sid"].startswith("ltp")
    assert _sa(_post(dialect_client, app, {"text": "非常满意，下次还会再来"}))["sentiment"] == 1
    assert _sa(_post(dialect_client, app, {"text": "太差了，再也不来了"}))["sentiment"] == 2
    assert _sa(_post(dialect_client, app, {"text": "国务院召开常务会议"}))["sentiment"] == 0


def test_iflytek_auth_errors(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("iflytek")
    assert _post(dialect_client, app, upper=True)["code"] == "0"
    for name in ("X-Appid", "X-CurTime", "X-CheckSum"):
        headers = iflytek_headers(app.app_id, app.secret)
        del headers[name]
        body = dialect_client.post(PATH, data={"text": "好"}, headers=headers).json()
        _error(body, "10105", "illegal access")
    _error(_post(dialect_client, app, headers={"X-CurTime": "now"}), "10105")
    for offset in (-301, 301):
        _error(_post(dialect_client, app, offset_s=offset), "10105", "illegal access")
    headers = iflytek_headers(app.app_id, "wrong-key")
    body = dialect_client.post(PATH, data={"text": "好"}, headers=headers).json()
    _error(body, "10105", "illegal access|illegal X-CheckSum")
    ms = iflytek_headers(app.app_id, app.secret)
    ms["X-CurTime"] += "000"  # milliseconds where seconds are due: outside the window
    _error(dialect_client.post(PATH, data={"text": "好"}, headers=ms).json(), "10105")


def test_iflytek_parameter_errors(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("iflytek")
    _error(_post(dialect_client, app, param={"type": "ner"}), "10107")
    _error(_post(dialect_client, app, param={"kind": "dependent"}), "10106")
    headers = iflytek_headers(app.app_id, app.secret)
    del headers["X-Param"]
    _error(dialect_client.post(PATH, data={"text": "好"}, headers=headers).json(), "10106")
    bad = "not base64!"
    cur = str(int(time.time()))
    checksum = hashlib.md5((app.secret + cur + bad).encode()).hexdigest()
    headers = {"X-Appid": app.app_id, "X-CurTime": cur, "X-Param": bad, "X-CheckSum": checksum}
    _error(dialect_client.post(PATH, data={"text": "好"}, headers=headers).json(), "10106")
    _error(_post(dialect_client, app, {"text": " "}), "10106")
    _error(_post(dialect_client, app, {"other": "好"}), "10106")
    _error(_post(dialect_client, app, {"text": "好" * 167}), "10109")  # 501 bytes
    assert _post(dialect_client, app, {"text": "好" * 166 + "a" * 2})["code"] == "0"  # 500
    signed = iflytek_headers(app.app_id, app.secret)
    raw = dialect_client.post(PATH, content=b"text=%FF", headers=signed).json()
    _error(raw, "10106")
    big = dialect_client.post(PATH, content=b"text=" + b"a" * 300_000, headers=signed).json()
    _error(big, "10109")
    wrong_method = dialect_client.get(PATH, headers=signed)
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "10106"


def test_iflytek_refusals_of_the_app(
    dialect_client: TestClient, make_app: Any, store: AppStore
) -> None:
    _error(_post(dialect_client, make_app("jd")), "11200")
    disabled = make_app("iflytek")
    store.set_enabled(disabled.app_id, False)
    _error(_post(dialect_client, disabled), "11200")
    once = make_app("iflytek", daily_quota=1)
    assert _post(dialect_client, once)["code"] == "0"
    _error(_post(dialect_client, once), "11201")
    fenced = make_app("iflytek", allow_ips=["10.0.0.0/8"])
    _error(_post(dialect_client, fenced), "10105", "illegal access|illegal client_ip")
    slow = make_app("iflytek", rps=1)
    codes = [_post(dialect_client, slow)["code"] for _ in range(3)]
    assert codes[0] == "0" and "11202" in codes


def test_iflytek_unmodified_client_on_a_live_server(live_server: Any) -> None:
    """The seed's Python example, line for line, with its URL, text, key and appid filled in."""
    store = AppStore(live_server.db_url)
    try:
        app = store.add_app("iflytek-live", dialects=["iflytek"], daily_quota=100, rps=0)
    finally:
        store.close()
    body = urllib.parse.urlencode({"text": "今天天气不错!"}).encode("utf-8")

    url = f"{live_server.base_url}/v1/sa"
    api_key = app.secret
    param = {"type": "dependent"}

    x_appid = app.app_id
    x_param = base64.b64encode(json.dumps(param).replace(" ", "").encode("utf-8"))
    x_time = int(int(round(time.time() * 1000)) / 1000)  # noqa: RUF046 (the seed's line)
    x_checksum = hashlib.md5(
        api_key.encode("utf-8") + str(x_time).encode("utf-8") + x_param
    ).hexdigest()
    x_header = {
        "X-Appid": x_appid,
        "X-CurTime": x_time,
        "X-Param": x_param,
        "X-CheckSum": x_checksum,
    }
    req = urllib.request.Request(url, body, x_header)  # type: ignore[arg-type]
    result = urllib.request.urlopen(req, timeout=10)
    result = result.read()
    answer = json.loads(result.decode("utf-8"))
    assert answer["code"] == "0" and answer["desc"] == "success", answer
    assert answer["data"]["sa"][0]["sentiment"] in (0, 1, 2)


@pytest.mark.parametrize("module", ["jd", "jumdata", "iflytek", "wecom"])
def test_dialects_never_import_each_other(module: str) -> None:
    from pathlib import Path

    source = (Path(iflytek.__file__).parent / f"{module}.py").read_text("utf-8")
    for other in {"jd", "jumdata", "iflytek", "wecom"} - {module}:
        assert f"dialects.{other}" not in source and f"dialects import {other}" not in source
