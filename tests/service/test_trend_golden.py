"""Golden: JD's own sentimentSeries example (seed 001) is turn_bad through the HTTP doors, the
native API and JD's /jdai/sentimentSeries, on a real server over the SHIPPED models (the other
service tests use tiny ones). The library and CLI doors are in tests/test_conversation.py."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from qinggan.config import Settings
from qinggan.service.apps import App
from qinggan.service.store import AppStore
from tests.service.conftest import LiveServer, api_key, free_port, serve_on_loopback

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "dialects" / "jd"
CASE = json.loads((GOLDEN / "sentimentSeries_type0.json").read_text(encoding="utf-8"))
SERIES = CASE["request"]["json"]["texts"]


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``uvicorn`` on a free loopback port with the shipped models (no model settings)."""
    root = tmp_path_factory.mktemp("trend-live")
    db_url = f"sqlite:///{root / 'live.db'}"
    settings = Settings(db_url=db_url, port=free_port())
    log = root / "server.log"
    with serve_on_loopback(settings, log) as base_url:
        yield LiveServer(base_url, db_url, log)


@pytest.fixture(scope="module")
def app(shipped_server: LiveServer) -> App:
    store = AppStore(shipped_server.db_url)
    try:
        return store.add_app("trend", dialects=["native", "jd"], daily_quota=100, rps=0)
    finally:
        store.close()


def test_trend_golden_native_api(shipped_server: LiveServer, app: App) -> None:
    url = f"{shipped_server.base_url}/api/v1/trend"
    plain = httpx.post(url, json={"texts": SERIES}, headers=api_key(app), timeout=30)
    assert plain.status_code == 200, plain.text
    result = plain.json()["result"]
    assert result["label"] == "turn_bad"
    assert result["probabilities"]["turn_bad"] == max(result["probabilities"].values())
    # the README's `trend --speakers` example, with the agent's turn left out of the trend
    turns = [
        {"speaker": "客户", "text": "货还没送到"},
        {"speaker": "客服", "text": "马上查"},
        {"speaker": "客户", "text": "都仲裁N次了，没结果"},
    ]
    spoken = httpx.post(url, json={"turns": turns}, headers=api_key(app), timeout=30)
    assert spoken.status_code == 200, spoken.text
    answer = spoken.json()["result"]
    assert answer["label"] == "turn_bad"
    assert [t["counted"] for t in answer["turns"]] == [True, False, True]


def test_trend_golden_jd_sentiment_series(shipped_server: LiveServer, app: App) -> None:
    timestamp = str(int(time.time() * 1000))
    sign = hashlib.md5((app.secret + timestamp).encode("utf-8")).hexdigest()
    response = httpx.post(
        f"{shipped_server.base_url}{CASE['request']['path']}",
        params={"appkey": app.app_id, "timestamp": timestamp, "sign": sign},
        json=CASE["request"]["json"],
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == "10000" and body["charge"] is True, body
    ranked = body["result"]["sentiment"]
    assert ranked[0]["sentiment"] == CASE["response"]["result"]["sentiment"][0]["sentiment"]
    assert ranked[0]["sentiment"] == "turn_bad"
    assert sorted(item["sentiment"] for item in ranked) == sorted(CASE["labels"])
