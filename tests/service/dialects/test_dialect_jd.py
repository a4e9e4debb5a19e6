"""JD NeuHub: golden answers from the seed, every code path, signature edge cases."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from qinggan.service.apps import App
from qinggan.service.dialects import jd
from qinggan.service.store import AppStore

from .support import assert_golden, assert_ranked, golden, jd_query


def _post(client: TestClient, app: App, path: str, body: Any, **query_kw: Any) -> dict[str, Any]:
    query = jd_query(app.app_id, app.secret, **query_kw)
    response = client.post(path, params=query, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _system(body: dict[str, Any], code: str) -> None:
    assert body["code"] == code and body["charge"] is False and "result" not in body
    assert body["msg"] == dict(jd.SYSTEM_CODES.values())[code]


def _business(body: dict[str, Any], status: int, remain: int | None = None) -> None:
    assert body["code"] == "10000" and body["charge"] is False
    assert body["result"]["status"] == status
    assert body["result"]["message"] == jd.BUSINESS_MESSAGES[status]
    assert body["result"]["sentiment"] == []
    if remain is not None:
        assert body["remain"] == remain


@pytest.mark.parametrize("name", ["sentiment_type1", "sentimentV2_type3", "sentimentSeries_type0"])
def test_jd_golden(dialect_client: TestClient, make_app: Any, name: str) -> None:
    case = golden("jd", name)
    app = make_app("jd", daily_quota=10)
    body = _post(dialect_client, app, case["request"]["path"], case["request"]["json"])
    assert_golden(body, case)
    assert body["charge"] is True and body["remain"] == 9
    items = body["result"]["sentiment"]
    names = [item["sentiment"] for item in items]
    assert sorted(names) == sorted(case["labels"])
    assert_ranked([item["probability"] for item in items])
    if "V2" in name:
        assert names[0] == "anxiety"  # the seed's answer, learned by the tiny model too
        levels = items[0]["levelList"]
        assert sorted(level["degree"] for level in levels) == [0, 1, 2, 3]
        assert_ranked([level["probability"] for level in levels])
        assert all(item["levelList"] == [] for item in items[1:])
        assert all(item["optional"] == {} for item in items)


def test_jd_types_and_level_list_only_for_anger_or_anxiety(
    dialect_client: TestClient, make_app: Any
) -> None:
    app = make_app("jd")
    eight = _post(
        dialect_client, app, "/jdai/sentimentV2", {"type": 5, "text": "气死我了，我要投诉你们"}
    )
    items = eight["result"]["sentiment"]
    assert len(items) == 8 and "satiric" in {i["sentiment"] for i in items}
    assert items[0]["sentiment"] == "anger" and len(items[0]["levelList"]) == 4
    happy = _post(
        dialect_client, app, "/jdai/sentimentV2", {"type": "3", "text": "谢谢，问题解决了"}
    )
    assert happy["result"]["sentiment"][0]["sentiment"] == "happy"
    assert all(item["levelList"] == [] for item in happy["result"]["sentiment"])
    polarity = _post(dialect_client, app, "/jdai/sentimentV2", {"type": 1, "text": "太差了"})
    assert {i["sentiment"] for i in polarity["result"]["sentiment"]} == {
        "positive", "negative", "other"
    }  # fmt: skip
    v1 = _post(dialect_client, app, "/jdai/sentiment", {"type": 1, "text": "非常满意", "x": [1]})
    assert v1["result"]["sentiment"][0]["sentiment"] == "positive"
    assert set(v1["result"]["sentiment"][0]) == {"sentiment", "probability"}


def test_jd_remain_counts_down_and_unlimited(
    dialect_client: TestClient, make_app: Any, store: AppStore
) -> None:
    app = make_app("jd", daily_quota=3)
    remains = [
        _post(dialect_client, app, "/jdai/sentiment", {"type": 1, "text": "好"})["remain"]
        for _ in range(3)
    ]
    assert remains == [2, 1, 0]
    _system(_post(dialect_client, app, "/jdai/sentiment", {"type": 1, "text": "好"}), "10040")
    assert _post(dialect_client, app, "/jdai/sentiment", {"type": 1, "text": "好"})["remain"] == 0
    unlimited = make_app("jd", daily_quota=0)
    body = _post(dialect_client, unlimited, "/jdai/sentiment", {"type": 1, "text": "好"})
    assert body["remain"] == jd.UNLIMITED_REMAIN and body["charge"] is True


@pytest.mark.parametrize(
    ("drop", "code"), [("appkey", "10004"), ("timestamp", "10041"), ("sign", "10042")]
)
def test_jd_missing_query_parameter(
    dialect_client: TestClient, make_app: Any, drop: str, code: str
) -> None:
    app = make_app("jd")
    query = jd_query(app.app_id, app.secret)
    del query[drop]
    response = dialect_client.post("/jdai/sentiment", params=query, json={"type": 1, "text": "好"})
    _system(response.json(), code)


def test_jd_signature_edge_cases(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("jd")
    body = {"type": 1, "text": "好"}
    upper = _post(dialect_client, app, "/jdai/sentiment", body, upper=True)
    assert upper["code"] == "10000"  # md5 hex in either case
    for offset, code in ((-301, "10045"), (301, "10045"), (-200, "10000"), (200, "10000")):
        assert _post(dialect_client, app, "/jdai/sentiment", body, offset_s=offset)["code"] == code
    query = jd_query(app.app_id, "not-the-secret")
    _system(dialect_client.post("/jdai/sentiment", params=query, json=body).json(), "10047")
    query = jd_query("nosuchapp", app.secret)
    _system(dialect_client.post("/jdai/sentiment", params=query, json=body).json(), "10001")
    query = {**jd_query(app.app_id, app.secret), "timestamp": "12.5e3"}
    _system(dialect_client.post("/jdai/sentiment", params=query, json=body).json(), "10046")
    seconds = jd_query(app.app_id, app.secret)
    seconds["timestamp"] = seconds["timestamp"][:-3]  # seconds, not milliseconds
    _system(dialect_client.post("/jdai/sentiment", params=seconds, json=body).json(), "10045")


def test_jd_refusals_of_the_app(dialect_client: TestClient, make_app: Any, store: AppStore) -> None:
    body = {"type": 1, "text": "好"}
    disabled = make_app("jd")
    store.set_enabled(disabled.app_id, False)
    _system(_post(dialect_client, disabled, "/jdai/sentiment", body), "10050")
    other = make_app("jumdata")
    _system(_post(dialect_client, other, "/jdai/sentiment", body), "10048")
    fenced = make_app("jd", allow_ips=["10.0.0.0/8"])
    _system(_post(dialect_client, fenced, "/jdai/sentiment", body), "10060")
    slow = make_app("jd", rps=1)
    codes = [_post(dialect_client, slow, "/jdai/sentiment", body)["code"] for _ in range(3)]
    assert "10043" in codes and codes[0] == "10000"


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        ("/jdai/sentiment", b"", 12002),
        ("/jdai/sentiment", b"{not json", 12003),
        ("/jdai/sentiment", b"[1, 2]", 12003),
        ("/jdai/sentiment", b'{"text": "\xff\xfe"}', 12003),
        ("/jdai/sentiment", b'{"text": "hi"}', 12002),
        ("/jdai/sentiment", b'{"type": 2, "text": "hi"}', 12001),
        ("/jdai/sentiment", b'{"type": true, "text": "hi"}', 12001),
        ("/jdai/sentiment", b'{"type": 1}', 12002),
        ("/jdai/sentiment", b'{"type": 1, "text": ""}', 12002),
        ("/jdai/sentiment", b'{"type": 1, "text": "   "}', 12001),
        ("/jdai/sentiment", b'{"type": 1, "text": 42}', 12001),
        ("/jdai/sentimentV2", b'{"type": 3, "text": ["a"]}', 12001),
        ("/jdai/sentimentV2", b'{"type": 0, "text": "hi"}', 12001),
        ("/jdai/sentimentSeries", b'{"type": "0"}', 12002),
        ("/jdai/sentimentSeries", b'{"type": "0", "texts": []}', 12002),
        ("/jdai/sentimentSeries", b'{"type": "0", "texts": "hi"}', 12001),
        ("/jdai/sentimentSeries", b'{"type": "0", "texts": ["ok", ""]}', 12002),
        ("/jdai/sentimentSeries", b'{"type": "0", "texts": ["ok", 3]}', 12001),
        ("/jdai/sentimentSeries", b'{"type": 1, "texts": ["ok"]}', 12001),
    ],
)
def test_jd_business_errors_charge_nothing(
    dialect_client: TestClient, make_app: Any, path: str, content: bytes, status: int
) -> None:
    app = make_app("jd", daily_quota=5)
    query = jd_query(app.app_id, app.secret)
    response = dialect_client.post(
        path, params=query, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    _business(response.json(), status, remain=5)


def test_jd_limits_paths_and_methods(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("jd")
    long_text = {"type": 1, "text": "好" * (jd.MAX_TEXT_BYTES // 3 + 1)}
    _business(_post(dialect_client, app, "/jdai/sentiment", long_text), 12001)
    series = {"type": 0, "texts": ["好"] * 101}  # over Settings.max_batch
    _business(_post(dialect_client, app, "/jdai/sentimentSeries", series), 12001)
    query = jd_query(app.app_id, app.secret)
    too_big = dialect_client.post(
        "/jdai/sentiment", params=query, content=b'{"text": "' + b"a" * 300_000 + b'"}'
    )
    assert too_big.status_code == 200
    _business(too_big.json(), 12001)
    missing = dialect_client.post("/jdai/nothing", params=query, json={})
    assert missing.status_code == 404 and missing.json()["code"] == "10003"
    wrong_method = dialect_client.get("/jdai/sentiment", params=query)
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "10003"


def test_jd_unmodified_client_on_a_live_server(live_server: Any) -> None:
    """A client as the seed describes it: query appkey/timestamp/sign, JSON body."""
    store = AppStore(live_server.db_url)
    try:
        app = store.add_app("jd-live", dialects=["jd"], daily_quota=100, rps=0)
    finally:
        store.close()
    import hashlib
    import time

    timestamp = str(int(time.time() * 1000))
    sign = hashlib.md5((app.secret + timestamp).encode("utf-8")).hexdigest()
    url = f"{live_server.base_url}/jdai/sentimentV2"
    response = httpx.post(
        url,
        params={"appkey": app.app_id, "timestamp": timestamp, "sign": sign},
        json={"type": 3, "text": "周三了，怎么还没有到货啊"},
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    body = response.json()
    assert response.status_code == 200 and body["code"] == "10000", body
    assert body["remain"] == 99 and body["result"]["sentiment"][0]["sentiment"] == "anxiety"
