"""Jumdata: golden answers from the seeds, every code path, signature edge cases."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from qinggan.service.apps import App
from qinggan.service.store import AppStore

from .support import assert_golden, golden, jumdata_form

SENTIMENT = "/text-analysi/sentiment/analysis"
EMOTION = "/text-analysi/emotion/discern"


def _post(
    client: TestClient, app: App, path: str, fields: dict[str, str], **sign_kw: Any
) -> dict[str, Any]:
    response = client.post(path, data={**jumdata_form(app.app_id, app.secret, **sign_kw), **fields})
    assert response.status_code == (404 if response.json()["code"] == 404 else 200)
    data: dict[str, Any] = response.json()
    return data


def _error(body: dict[str, Any], code: int) -> None:
    assert set(body) == {"code", "msg"} and body["code"] == code, body
    assert isinstance(body["msg"], str) and body["msg"]


@pytest.mark.parametrize("name", ["sentiment_analysis", "emotion_discern"])
def test_jumdata_golden(dialect_client: TestClient, make_app: Any, name: str) -> None:
    case = golden("jumdata", name)
    app = make_app("jumdata")
    request = case["request"]
    body = _post(dialect_client, app, request["path"], request["form"])
    assert_golden(body, case)
    assert len(body["taskNo"]) == 24 and body["taskNo"].isdigit()
    item = body["data"]["items"][0]
    if name == "sentiment_analysis":
        assert item["sentiment"] in (0, 1, 2)
        assert abs(item["positive_prob"] + item["negative_prob"] - 1) < 1e-6
        assert 0 <= item["confidence"] <= 1
    else:
        assert item["label"] in ("optimistic", "neutral", "pessimistic")
        assert (item["label"] == "neutral") == (item["replies"] == [] == item["subitems"])
    error = case["error_request"]
    assert _post(dialect_client, app, error["path"], error["form"]) == case["error_response"]


def test_jumdata_sentiment_numbering(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("jumdata")
    expected = {"房间很干净，服务也周到": 2, "服务态度恶劣，房间又脏又吵": 0, "明天几点开门营业": 1}
    for text, number in expected.items():
        item = _post(dialect_client, app, SENTIMENT, {"text": text})["data"]["items"][0]
        assert item["sentiment"] == number, text
        assert (item["positive_prob"] > 0.5) == (number == 2) or number == 1


@pytest.mark.parametrize(
    ("scene", "level2"),
    [
        ("customer_service", {"thankful", "happy", "complaining", "angry"}),
        ("task", {"thankful", "happy", "complaining", "angry"}),
        ("talk", {"like", "happy", "angry", "disgusting", "fearful", "sad"}),
        ("", {"like", "happy", "angry", "disgusting", "fearful", "sad"}),
    ],
)
def test_jumdata_emotion_scenes(
    dialect_client: TestClient, make_app: Any, scene: str, level2: set[str]
) -> None:
    app = make_app("jumdata")
    for text in ("气死我了，我要投诉你们", "太感谢了，你们真好", "好伤心"):
        body = _post(dialect_client, app, EMOTION, {"text": text, "scene": scene, "extra": "x"})
        item = body["data"]["items"][0]
        labels = [sub["label"] for sub in item["subitems"]]
        assert set(labels) <= level2
        probs = [sub["prob"] for sub in item["subitems"]]
        assert probs[1:] == sorted(probs[1:], reverse=True)


def test_jumdata_signature_and_parameter_errors(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("jumdata")
    assert _post(dialect_client, app, SENTIMENT, {"text": "好"}, upper=True)["code"] == 200
    for drop in ("appId", "timestamp", "sign"):
        form = {**jumdata_form(app.app_id, app.secret), "text": "好"}
        del form[drop]
        _error(dialect_client.post(SENTIMENT, data=form).json(), 400)
    bad_sign = {**jumdata_form(app.app_id, "wrong"), "text": "好"}
    _error(dialect_client.post(SENTIMENT, data=bad_sign).json(), 400)
    unknown = {**jumdata_form("nosuchapp", app.secret), "text": "好"}
    _error(dialect_client.post(SENTIMENT, data=unknown).json(), 400)
    not_ms = {**jumdata_form(app.app_id, app.secret), "timestamp": "soon", "text": "好"}
    _error(dialect_client.post(SENTIMENT, data=not_ms).json(), 400)
    for offset in (-301, 301):
        _error(_post(dialect_client, app, SENTIMENT, {"text": "好"}, offset_s=offset), 610)
    _error(_post(dialect_client, app, SENTIMENT, {"text": "好" * 683}), 400)  # 2049 bytes
    assert _post(dialect_client, app, SENTIMENT, {"text": "好" * 682})["code"] == 200
    _error(_post(dialect_client, app, EMOTION, {"text": "好" * 171}), 400)  # 513 bytes
    assert _post(dialect_client, app, EMOTION, {"text": "好" * 170})["code"] == 200
    _error(_post(dialect_client, app, EMOTION, {"text": "好", "scene": "chat"}), 400)
    _error(_post(dialect_client, app, SENTIMENT, {"text": "   "}), 400)
    _error(_post(dialect_client, app, SENTIMENT, {}), 400)
    signed = jumdata_form(app.app_id, app.secret)
    raw = "&".join(f"{k}={v}" for k, v in signed.items()) + "&text=%FF%FE"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _error(dialect_client.post(SENTIMENT, content=raw, headers=headers).json(), 400)
    as_json = dialect_client.post(SENTIMENT, json={**signed, "text": "好"})
    _error(as_json.json(), 400)
    too_big = dialect_client.post(SENTIMENT, content=b"text=" + b"a" * 300_000, headers=headers)
    _error(too_big.json(), 400)


def test_jumdata_refusals_of_the_app(
    dialect_client: TestClient, make_app: Any, store: AppStore
) -> None:
    other = make_app("jd")
    _error(_post(dialect_client, other, SENTIMENT, {"text": "好"}), 601)
    disabled = make_app("jumdata")
    store.set_enabled(disabled.app_id, False)
    _error(_post(dialect_client, disabled, SENTIMENT, {"text": "好"}), 602)
    once = make_app("jumdata", daily_quota=1)
    assert _post(dialect_client, once, SENTIMENT, {"text": "好"})["charge"] is True
    _error(_post(dialect_client, once, SENTIMENT, {"text": "好"}), 606)
    fenced = make_app("jumdata", allow_ips=["10.0.0.0/8"])
    _error(_post(dialect_client, fenced, SENTIMENT, {"text": "好"}), 607)
    slow = make_app("jumdata", rps=1)
    codes = [_post(dialect_client, slow, SENTIMENT, {"text": "好"})["code"] for _ in range(3)]
    assert codes[0] == 200 and 609 in codes
    missing = dialect_client.post("/text-analysi/nothing", data={"text": "好"})
    assert missing.status_code == 404 and missing.json()["code"] == 404
    assert dialect_client.get(SENTIMENT).json()["code"] == 404


def test_jumdata_unmodified_client_on_a_live_server(live_server: Any) -> None:
    """A client as the seed shows it: sign = sha256(appId + appSecret + timestamp), form POST."""
    store = AppStore(live_server.db_url)
    try:
        app = store.add_app("jumdata-live", dialects=["jumdata"], daily_quota=100, rps=0)
    finally:
        store.close()
    app_id, app_secret = app.app_id, app.secret
    timestamp = str(int(time.time() * 1000))
    sign = hashlib.sha256((app_id + app_secret + timestamp).encode("utf-8")).hexdigest()
    response = httpx.post(
        f"{live_server.base_url}/text-analysi/emotion/discern",
        data={
            "appId": app_id,
            "timestamp": timestamp,
            "sign": sign,
            "text": "谢谢，问题解决了",
            "scene": "customer_service",
        },
        timeout=10,
    )
    body = response.json()
    assert body["code"] == 200 and body["charge"] is True, body
    assert body["data"]["items"][0]["label"] in ("optimistic", "neutral", "pessimistic")
