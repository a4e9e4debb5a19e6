from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.store import AppStore
from tests.service.conftest import api_key


def _error(response, status: int, code: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["message"])


def test_native_polarity_single_text(client: TestClient, native_app: App) -> None:
    response = client.post(
        "/api/v1/polarity", json={"text": "房间很干净"}, headers=api_key(native_app)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["result"]["label"] in {"positive", "negative", "neutral"}
    assert set(body["result"]["probabilities"]) == {"positive", "negative", "neutral"}
    assert body["usage"] == {"charged": 1, "remain": 999}
    assert response.headers["X-Quota-Remaining"] == "999"


def test_native_polarity_batch_answers_bad_items_in_place(
    client: TestClient, native_app: App, store: AppStore
) -> None:
    texts = ["房间很干净，服务也周到", "  ", "太差了，再也不来了"]
    response = client.post("/api/v1/polarity", json={"texts": texts}, headers=api_key(native_app))
    body = response.json()
    assert response.status_code == 200
    assert [r.get("label") for r in body["results"]] == ["positive", None, "negative"]
    assert body["results"][1]["index"] == 1 and "empty" in body["results"][1]["error"]
    assert body["usage"]["charged"] == 2 and store.usage(native_app.app_id) == 2


def test_native_emotions_dialogue_and_trend(client: TestClient, native_app: App) -> None:
    key = api_key(native_app)
    eight = client.post(
        "/api/v1/emotions", json={"text": "气死我了，我要投诉你们", "classes": 8}, headers=key
    ).json()["result"]
    assert len(eight["probabilities"]) == 8 and "satiric" in eight["probabilities"]
    assert "intensity" in eight
    seven = client.post("/api/v1/emotions", json={"texts": ["谢谢"]}, headers=key).json()
    assert len(seven["results"][0]["probabilities"]) == 7
    dialogue = client.post(
        "/api/v1/dialogue-emotion",
        json={"text": "太感谢了", "scene": "customer_service"},
        headers=key,
    ).json()["result"]
    assert dialogue["scene"] == "customer_service"
    assert dialogue["level1"] in {"optimistic", "neutral", "pessimistic"}
    trend = client.post(
        "/api/v1/trend",
        json={"turns": [{"text": "货还没到", "speaker": "customer"},
                        {"text": "我查一下", "speaker": "agent"},
                        {"text": "太好了，谢谢", "speaker": "customer"}]},
        headers=key,
    )  # fmt: skip
    assert trend.status_code == 200
    result = trend.json()["result"]
    assert result["label"] in {"turn_good", "turn_bad", "keep_smooth"}
    assert trend.json()["usage"]["charged"] == 3


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_credentials"),
        ({"X-API-Key": "no-colon"}, 401, "bad_credentials"),
        ({"X-API-Key": "nosuchapp:secret"}, 401, "unknown_app"),
    ],
)
def test_native_auth_refusals(
    client: TestClient, headers: dict[str, str], status: int, code: str
) -> None:
    _error(client.post("/api/v1/polarity", json={"text": "好"}, headers=headers), status, code)


def test_native_wrong_secret_disabled_dialect_and_ip(client: TestClient, store: AppStore) -> None:
    app = store.add_app("a", dialects=["native"], rps=0)
    wrong = {"X-API-Key": f"{app.app_id}:{app.secret}x"}
    _error(
        client.post("/api/v1/polarity", json={"text": "好"}, headers=wrong), 401, "bad_credentials"
    )
    store.set_enabled(app.app_id, False)
    _error(
        client.post("/api/v1/polarity", json={"text": "好"}, headers=api_key(app)),
        403,
        "app_disabled",
    )
    jd_only = store.add_app("b", dialects=["jd"], rps=0)
    _error(client.post("/api/v1/polarity", json={"text": "好"}, headers=api_key(jd_only)), 403,
           "dialect_not_allowed")  # fmt: skip
    walled = store.add_app("c", dialects=["native"], rps=0, allow_ips=["10.0.0.0/8"])
    _error(client.post("/api/v1/polarity", json={"text": "好"}, headers=api_key(walled)), 403,
           "ip_not_allowed")  # fmt: skip


def test_native_quota_and_rate_limit(client: TestClient, store: AppStore) -> None:
    app = store.add_app("q", dialects=["native"], daily_quota=3, rps=0)
    key = api_key(app)
    ok = client.post("/api/v1/polarity", json={"texts": ["好", "坏", "行"]}, headers=key)
    assert ok.json()["usage"] == {"charged": 3, "remain": 0}
    _error(client.post("/api/v1/polarity", json={"text": "好"}, headers=key), 429, "quota_exceeded")
    limited = store.add_app("r", dialects=["native"], daily_quota=0, rps=1)
    key = api_key(limited)
    answers = [client.post("/api/v1/polarity", json={"text": "好"}, headers=key) for _ in range(3)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and refused[0].json()["error"]["code"] == "rate_limited"
    assert refused[0].headers["Retry-After"] == "1"
    metrics = client.get("/metrics").text  # public: by dialect and reason, never an app id
    assert 'qinggan_access_refusals_total{dialect="native",reason="quota_exceeded"} 1.0' in metrics
    assert app.app_id not in metrics and limited.app_id not in metrics


def test_native_request_errors(client: TestClient, native_app: App) -> None:
    key = api_key(native_app)
    post = client.post
    _error(
        post(
            "/api/v1/polarity",
            content=b'{"text": ',
            headers={**key, "Content-Type": "application/json"},
        ),
        400,
        "bad_json",
    )
    _error(
        post(
            "/api/v1/polarity",
            content=b'{"text": "\xff\xfe"}',
            headers={**key, "Content-Type": "application/json"},
        ),
        400,
        "bad_encoding",
    )
    _error(
        post(
            "/api/v1/polarity",
            content=b"text=hi",
            headers={**key, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
        "unsupported_media_type",
    )
    _error(
        post("/api/v1/polarity", content=b'{"text": "hi"}', headers=key),
        415,
        "unsupported_media_type",
    )
    _error(
        post("/api/v1/polarity", json={"text": "长" * 5000}, headers=key), 413, "payload_too_large"
    )
    _error(
        post("/api/v1/polarity", json={"text": "好", "texts": ["好"]}, headers=key),
        422,
        "invalid_request",
    )
    _error(post("/api/v1/polarity", json={}, headers=key), 422, "invalid_request")
    _error(post("/api/v1/polarity", json=["好"], headers=key), 422, "invalid_request")
    _error(post("/api/v1/polarity", json={"text": 5}, headers=key), 422, "invalid_request")
    _error(post("/api/v1/polarity", json={"texts": []}, headers=key), 422, "invalid_request")
    assert "at most 5" in _error(
        post("/api/v1/polarity", json={"texts": ["好"] * 6}, headers=key), 422, "invalid_request"
    )
    _error(post("/api/v1/polarity", json={"text": "   "}, headers=key), 422, "invalid_text")
    _error(post("/api/v1/polarity", json={"text": "长" * 101}, headers=key), 422, "invalid_text")
    json_headers = {**key, "Content-Type": "application/json"}
    lone = post("/api/v1/polarity", content=b'{"text": "\\ud800"}', headers=json_headers)
    _error(lone, 422, "invalid_text")
    _error(
        post("/api/v1/emotions", json={"text": "好", "classes": 9}, headers=key),
        422,
        "invalid_request",
    )
    assert "expected one of" in _error(
        post("/api/v1/dialogue-emotion", json={"text": "好", "scene": "chat"}, headers=key),
        422,
        "invalid_request",
    )
    _error(
        post("/api/v1/trend", json={"turns": [{"text": "好", "speaker": "agent"}]}, headers=key),
        422,
        "invalid_text",
    )
    _error(post("/api/v1/trend", json={"texts": []}, headers=key), 422, "invalid_request")
    _error(client.get("/api/v1/polarity"), 405, "method_not_allowed")
    _error(client.get("/api/v1/nothing"), 404, "not_found")
    _error(client.get("/nothing"), 404, "not_found")
    # nothing above was charged
    last = client.post("/api/v1/polarity", json={"text": "好"}, headers=key)
    assert last.json()["usage"]["remain"] == 999


def test_native_streamed_body_over_the_limit_is_413(client: TestClient, native_app: App) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    headers = {**api_key(native_app), "Content-Type": "application/json"}
    _error(
        client.post("/api/v1/polarity", content=chunks(), headers=headers), 413, "payload_too_large"
    )


class _Broken(Analyzer):
    def analyze_batch(self, texts, *, errors="raise"):  # type: ignore[no-untyped-def,override]
        raise RuntimeError("SECRET-MESSAGE-TEXT")


def test_native_unexpected_error_is_a_generic_500_without_text_in_logs(
    tiny_models, store: AppStore, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    broken = _Broken(tiny_models["polarity_model"], emotion_model=tiny_models["emotion_model"],
                     talk_model=tiny_models["talk_model"])  # fmt: skip
    app = store.add_app("x", rps=0)
    service = create_app(Settings(db_url=sqlite_url), broken, store, dialects=[])
    with TestClient(service) as c, caplog.at_level(logging.DEBUG, logger="qinggan"):
        response = c.post(
            "/api/v1/polarity", json={"texts": ["机密内容", "好"]}, headers=api_key(app)
        )
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal server error"}}
    assert "RuntimeError" in caplog.text
    for secret in ("SECRET-MESSAGE-TEXT", "机密内容", app.secret):
        assert secret not in caplog.text and secret not in response.text
