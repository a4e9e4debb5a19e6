"""WeCom: tokens, jobs over the (future) archive, golden answers, every code path."""

from __future__ import annotations

import time
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.service.apps import App
from qinggan.service.dialects import wecom
from qinggan.service.store import AppStore

from .support import assert_golden, golden

CREATE = "/cgi-bin/chatdata/create_sentiment_task"
RESULT = "/cgi-bin/chatdata/get_sentiment_result"


def _token(client: TestClient, app: App) -> str:
    body = client.get("/cgi-bin/gettoken", params={"corpid": app.app_id, "corpsecret": app.secret})
    data = body.json()
    assert data["errcode"] == 0 and data["errmsg"] == "ok" and data["expires_in"] == 7200, data
    token: str = data["access_token"]
    return token


def _call(client: TestClient, path: str, token: str, body: Any) -> dict[str, Any]:
    response = client.post(path, params={"access_token": token}, json=body)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _msgs(*ids: str) -> dict[str, Any]:
    return {"msg_list": [{"msgid": i, "encrypt_info": {"secret_key": f"KEY-{i}"}} for i in ids]}


def _archive(client: TestClient, analyzer: Analyzer, texts: dict[str, str]) -> None:
    async def analyze(batch: list[str]) -> Any:
        return analyzer.analyze_batch(batch, errors="report")

    wecom.install_jobs(client.app, wecom.InMemorySentimentJobs(analyze, texts))  # type: ignore[arg-type]


def test_wecom_golden_create_and_result(
    dialect_client: TestClient, make_app: Any, tiny_analyzer: Analyzer
) -> None:
    create = golden("wecom", "create_sentiment_task")
    result = golden("wecom", "get_sentiment_result")
    _archive(dialect_client, tiny_analyzer, result["archive"])
    token = _token(dialect_client, make_app("wecom"))
    created = _call(dialect_client, CREATE, token, create["request"]["json"])
    assert_golden(created, create)
    assert len(created["fail_list"]) == 1
    job = _call(dialect_client, CREATE, token, _msgs(*result["messages"]))
    answer = _call(dialect_client, RESULT, token, {"jobid": job["jobid"]})
    assert_golden(answer, result)
    assert answer["analyze_result_list"][1]["errcode"] == 710602  # not in the archive
    again = _call(dialect_client, RESULT, token, {"jobid": job["jobid"], "more": 1})
    assert again == answer


def test_wecom_without_an_archive_every_message_is_unknown(
    dialect_client: TestClient, make_app: Any, store: AppStore
) -> None:
    app = make_app("wecom")
    token = _token(dialect_client, app)
    job = _call(dialect_client, CREATE, token, _msgs("A", "B", "A", "C"))
    assert [f["msgid"] for f in job["fail_list"]] == ["A"]
    assert job["fail_list"][0]["encrypt_info"] == {"secret_key": "KEY-A"}
    assert store.usage(app.app_id) == 3  # distinct messages are charged
    answer = _call(dialect_client, RESULT, token, {"jobid": job["jobid"]})
    assert answer["status"] == 1
    assert [(i["msgid"], i["errcode"]) for i in answer["analyze_result_list"]] == [
        ("A", 710602), ("B", 710602), ("C", 710602)
    ]  # fmt: skip


def test_wecom_sentiment_numbering(
    dialect_client: TestClient, make_app: Any, tiny_analyzer: Analyzer
) -> None:
    texts = {
        "p": "非常满意，下次还会再来",
        "n": "太差了，再也不来了",
        "z": "明天几点开门营业",
        "e": " ",
    }
    _archive(dialect_client, tiny_analyzer, texts)
    token = _token(dialect_client, make_app("wecom"))
    job = _call(dialect_client, CREATE, token, _msgs("p", "n", "z", "e"))
    items = _call(dialect_client, RESULT, token, {"jobid": job["jobid"]})["analyze_result_list"]
    assert [i.get("sentiment_result") for i in items] == [1, 2, 0, None]
    assert items[3]["errcode"] == 710603


def test_wecom_token_errors(dialect_client: TestClient, make_app: Any, store: AppStore) -> None:
    app = make_app("wecom")
    get = dialect_client.get
    codes = {
        41002: get("/cgi-bin/gettoken", params={"corpsecret": app.secret}),
        41004: get("/cgi-bin/gettoken", params={"corpid": app.app_id}),
        40013: get("/cgi-bin/gettoken", params={"corpid": "nosuch", "corpsecret": app.secret}),
        40001: get("/cgi-bin/gettoken", params={"corpid": app.app_id, "corpsecret": "wrong"}),
    }
    for code, response in codes.items():
        assert response.status_code == 200 and response.json()["errcode"] == code
    body = _msgs("A")
    assert dialect_client.post(CREATE, json=body).json()["errcode"] == 41001
    assert _call(dialect_client, CREATE, "garbage", body)["errcode"] == 40014
    other = make_app("wecom")
    forged = wecom.issue_token(App(**{**_fields(app), "secret": other.secret}))
    assert _call(dialect_client, CREATE, forged, body)["errcode"] == 40014
    expired = wecom.issue_token(app, now=time.time() - 7201)
    assert _call(dialect_client, CREATE, expired, body)["errcode"] == 42001
    token = _token(dialect_client, app)
    assert _call(dialect_client, CREATE, token, body)["errcode"] == 0
    store.set_enabled(app.app_id, False)
    assert _call(dialect_client, CREATE, token, body)["errcode"] == 48002
    assert dialect_client.post("/cgi-bin/gettoken").json()["errcode"] == 43001
    assert dialect_client.get(CREATE).json()["errcode"] == 43002
    missing = dialect_client.post("/cgi-bin/nothing")
    assert missing.status_code == 404 and missing.json()["errcode"] == 48001


def _fields(app: App) -> dict[str, Any]:
    return {name: getattr(app, name) for name in App.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "errcode"),
    [
        (b"{", 47001),
        (b"[]", 47001),
        (b"\xff", 47001),
        (b"{}", 40058),
        (b'{"msg_list": []}', 40058),
        (b'{"msg_list": "A"}', 40058),
        (b'{"msg_list": [{"encrypt_info": {"secret_key": "k"}}]}', 40058),
        (b'{"msg_list": [{"msgid": "A"}]}', 40058),
        (b'{"msg_list": [{"msgid": 7, "encrypt_info": {"secret_key": "k"}}]}', 40058),
        (b'{"msg_list": [3]}', 40058),
    ],
)
def test_wecom_create_parameter_errors(
    dialect_client: TestClient, make_app: Any, content: bytes, errcode: int
) -> None:
    token = _token(dialect_client, make_app("wecom"))
    response = dialect_client.post(CREATE, params={"access_token": token}, content=content)
    assert response.status_code == 200 and response.json()["errcode"] == errcode


def test_wecom_limits_and_refusals(dialect_client: TestClient, make_app: Any) -> None:
    app = make_app("wecom", daily_quota=1500)
    token = _token(dialect_client, app)
    many = _msgs(*(f"M{i}" for i in range(1001)))
    assert _call(dialect_client, CREATE, token, many)["errcode"] == 40058
    full = _call(dialect_client, CREATE, token, _msgs(*(f"M{i}" for i in range(1000))))
    assert full["errcode"] == 0 and full["fail_list"] == []
    assert (
        _call(dialect_client, CREATE, token, _msgs(*(f"N{i}" for i in range(501))))["errcode"]
        == 45009
    )
    assert _call(dialect_client, RESULT, token, {})["errcode"] == 40058
    assert _call(dialect_client, RESULT, token, {"jobid": "nosuchjob"})["errcode"] == 40058
    stranger = _token(dialect_client, make_app("wecom"))
    assert _call(dialect_client, RESULT, stranger, {"jobid": full["jobid"]})["errcode"] == 40058
    wrong_door = make_app("jd")
    response = dialect_client.get(
        "/cgi-bin/gettoken", params={"corpid": wrong_door.app_id, "corpsecret": wrong_door.secret}
    )
    assert response.json()["errcode"] == 48002
    fenced = make_app("wecom", allow_ips=["10.0.0.0/8"])
    response = dialect_client.get(
        "/cgi-bin/gettoken", params={"corpid": fenced.app_id, "corpsecret": fenced.secret}
    )
    assert response.json()["errcode"] == 60020
    slow = make_app("wecom", rps=1)
    slow_token = wecom.issue_token(slow)
    codes = [_call(dialect_client, RESULT, slow_token, {"jobid": "x"})["errcode"] for _ in range(3)]
    assert 45011 in codes


def test_wecom_unmodified_client_on_a_live_server(live_server: Any) -> None:
    """A client as WeCom's documents describe it: gettoken, then the two JSON calls."""
    store = AppStore(live_server.db_url)
    try:
        app = store.add_app("wecom-live", dialects=["wecom"], daily_quota=100_000, rps=0)
    finally:
        store.close()
    base = live_server.base_url
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.get(
            "/cgi-bin/gettoken", params={"corpid": app.app_id, "corpsecret": app.secret}
        ).json()["access_token"]
        created = client.post(
            f"/cgi-bin/chatdata/create_sentiment_task?access_token={token}",
            json={
                "msg_list": [
                    {"msgid": "MSGID1", "encrypt_info": {"secret_key": "SECRETKEY1"}},
                    {"msgid": "MSGID2", "encrypt_info": {"secret_key": "SECRETKEY2"}},
                ]
            },
        ).json()
        assert created["errcode"] == 0 and created["fail_list"] == [], created
        result = client.post(
            f"/cgi-bin/chatdata/get_sentiment_result?access_token={token}",
            json={"jobid": created["jobid"]},
        ).json()
    assert result["errcode"] == 0 and result["status"] == 1
    assert [item["msgid"] for item in result["analyze_result_list"]] == ["MSGID1", "MSGID2"]
