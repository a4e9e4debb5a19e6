"""``POST /api/v1/aspects``: the library's answer, with the auth, quota, batch limits and error
envelope of the other native routes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.service.apps import App
from qinggan.service.store import AppStore
from tests.service.conftest import api_key

TWO_SIDED = "菜很好吃，但是服务太慢了"


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return str(body["error"]["message"])


def test_native_aspects_single_text_is_the_library_answer(
    client: TestClient, native_app: App, tiny_analyzer: Analyzer
) -> None:
    response = client.post("/api/v1/aspects", json={"text": TWO_SIDED}, headers=api_key(native_app))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == tiny_analyzer.aspects(TWO_SIDED).to_dict()
    assert body["usage"] == {"charged": 1, "remain": 999}
    opinions = body["result"]["opinions"]
    assert len(opinions) >= 2
    for o in opinions:
        assert TWO_SIDED[slice(*o["opinion_span"])] == o["opinion"]
        assert set(o) >= {"aspect", "aspect_span", "polarity", "confidence", "category"}
        assert abs(sum(o["probabilities"].values()) - 1) < 1e-4


def test_native_aspects_batch_answers_bad_items_in_place(
    client: TestClient, native_app: App, store: AppStore, tiny_analyzer: Analyzer
) -> None:
    texts = [TWO_SIDED, "  ", "请问几点开门"]
    response = client.post("/api/v1/aspects", json={"texts": texts}, headers=api_key(native_app))
    assert response.status_code == 200, response.text
    first, bad, third = response.json()["results"]
    assert first == tiny_analyzer.aspects(TWO_SIDED).to_dict()
    assert bad["index"] == 1 and "empty" in bad["error"]
    assert third["text"] == "请问几点开门" and isinstance(third["opinions"], list)
    assert response.json()["usage"]["charged"] == 2 and store.usage(native_app.app_id) == 2


def test_native_aspects_refusals(client: TestClient, native_app: App, store: AppStore) -> None:
    key = api_key(native_app)
    post = client.post
    _error(post("/api/v1/aspects", json={"text": "好"}), 401, "missing_credentials")
    _error(post("/api/v1/aspects", json={"text": "   "}, headers=key), 422, "invalid_text")
    _error(post("/api/v1/aspects", json={"text": "长" * 101}, headers=key), 422, "invalid_text")
    _error(post("/api/v1/aspects", json={}, headers=key), 422, "invalid_request")
    _error(post("/api/v1/aspects", json={"texts": []}, headers=key), 422, "invalid_request")
    assert "at most 5" in _error(
        post("/api/v1/aspects", json={"texts": ["好"] * 6}, headers=key), 422, "invalid_request"
    )
    _error(
        post("/api/v1/aspects", json={"text": "长" * 5000}, headers=key), 413, "payload_too_large"
    )
    _error(
        post("/api/v1/aspects", content=b'{"text": "hi"}', headers=key),
        415,
        "unsupported_media_type",
    )
    _error(client.get("/api/v1/aspects", headers=key), 405, "method_not_allowed")
    assert store.usage(native_app.app_id) == 0  # nothing refused was charged
    small = store.add_app("q", dialects=["native"], daily_quota=2, rps=0)
    ok = post("/api/v1/aspects", json={"texts": ["好吃", "太贵"]}, headers=api_key(small))
    assert ok.json()["usage"] == {"charged": 2, "remain": 0}
    _error(
        post("/api/v1/aspects", json={"text": "好"}, headers=api_key(small)), 429, "quota_exceeded"
    )


def test_native_aspects_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    route = schema["paths"]["/api/v1/aspects"]["post"]
    assert {"200", "401", "422", "429"} <= set(route["responses"])
    assert "AspectOpinionOut" in schema["components"]["schemas"]
