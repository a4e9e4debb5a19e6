"""The WeCom door over durable jobs: archive import route, encrypted messages, status 0 then 1,
per-item codes, the job quota, and a server restarted mid-job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

import qinggan
from qinggan.config import Settings
from qinggan.jobs.crypto import encrypt, new_key
from qinggan.jobs.model import JobSettings
from qinggan.jobs.store import JobStore
from qinggan.jobs.worker import Worker
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.store import AppStore

from .conftest import NEGATIVE, POSITIVE

CREATE = "/cgi-bin/chatdata/create_sentiment_task"
RESULT = "/cgi-bin/chatdata/get_sentiment_result"


@contextmanager
def serve(db_url: str, analyzer: qinggan.Analyzer, **jobs: Any) -> Iterator[TestClient]:
    settings = Settings(db_url=db_url, max_body_bytes=512 * 1024)
    job_settings = JobSettings(**{"in_process_worker": False, "poll_s": 0.05, **jobs})
    with TestClient(create_app(settings, analyzer, jobs=job_settings)) as client:
        yield client


def _token(client: TestClient, app: App) -> str:
    answer = client.get(
        "/cgi-bin/gettoken", params={"corpid": app.app_id, "corpsecret": app.secret}
    )
    return str(answer.json()["access_token"])


def _call(client: TestClient, path: str, token: str, body: Any) -> dict[str, Any]:
    response = client.post(path, params={"access_token": token}, json=body)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _new_app(db_url: str) -> App:
    store = AppStore.open(db_url)
    try:
        return store.add_app("jobs", dialects=["native", "wecom"], daily_quota=0, rps=0)
    finally:
        store.close()


def _import(client: TestClient, app: App, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/archive/import",
        headers={"X-API-Key": f"{app.app_id}:{app.secret}"},
        json={"messages": messages},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_service_restart_mid_job_and_item_codes(db_url: str, analyzer: qinggan.Analyzer) -> None:
    JobStore.open(db_url).close()
    app = _new_app(db_url)
    key = new_key()
    messages = [
        {"msgid": f"m{i}", "msgtype": "text",
         "encrypted_content": encrypt(key, POSITIVE if i % 2 else NEGATIVE)}
        for i in range(30)
    ]  # fmt: skip
    messages += [{"msgid": "pic", "msgtype": "image"}, {"msgid": "mute", "msgtype": "voice"}]
    with serve(db_url, analyzer) as client:
        imported = _import(client, app, [*messages, {"msgtype": "text"}])
        assert (imported["inserted"], imported["bad"]) == (32, 1)
        assert imported["problems"][-1]["index"] == 32
        assert _import(client, app, messages)["unchanged"] == 32
        token = _token(client, app)
        msg_list = [{"msgid": m["msgid"], "encrypt_info": {"secret_key": key}} for m in messages]
        msg_list[3]["encrypt_info"]["secret_key"] = new_key()  # wrong key
        msg_list += [msg_list[0], {"msgid": "nosuch", "encrypt_info": {"secret_key": key}}]
        created = _call(client, CREATE, token, {"msg_list": msg_list})
        assert created["errcode"] == 0 and [f["msgid"] for f in created["fail_list"]] == ["m0"]
        first = _call(client, RESULT, token, {"jobid": created["jobid"]})
        assert first["status"] == 0 and len(first["analyze_result_list"]) == 33
        partial = JobStore(db_url, settings=JobSettings(batch_size=10))
        try:  # some of the work happens before the restart
            Worker(partial, lambda t: analyzer.analyze_batch(t, errors="report")).run_once()
        finally:
            partial.close()
    with serve(db_url, analyzer, in_process_worker=True) as client:  # a new server, same DB
        token = _token(client, app)
        deadline = time.monotonic() + 30
        while True:
            answer = _call(client, RESULT, token, {"jobid": created["jobid"]})
            if answer["status"] != 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert answer["status"] == 1
    items = {i["msgid"]: i for i in answer["analyze_result_list"]}
    assert [i["msgid"] for i in answer["analyze_result_list"]][:3] == ["m0", "m1", "m2"]
    assert items["m1"]["sentiment_result"] == 1 and items["m0"]["sentiment_result"] == 2
    assert items["m3"]["errcode"] == 710604 and "sentiment_result" not in items["m3"]
    assert (items["pic"]["errcode"], items["mute"]["errcode"]) == (710605, 710606)
    assert items["nosuch"]["errcode"] == 710602
    ok = [i for i in items.values() if i["errcode"] == 0]
    assert len(ok) == 29 and all(i["sentiment_result"] in (0, 1, 2) for i in ok)
    json.dumps(answer)


def test_service_job_quota_refuses_with_45009(tmp_path: Any, analyzer: qinggan.Analyzer) -> None:
    db_url = f"sqlite:///{tmp_path / 'q.db'}"
    JobStore.open(db_url).close()
    app = _new_app(db_url)
    with serve(db_url, analyzer, daily_quota=3) as client:
        token = _token(client, app)
        body = {"msg_list": [{"msgid": f"a{i}", "encrypt_info": {"secret_key": "k"}}
                             for i in range(3)]}  # fmt: skip
        assert _call(client, CREATE, token, body)["errcode"] == 0
        over = {"msg_list": [{"msgid": "b", "encrypt_info": {"secret_key": "k"}}]}
        assert _call(client, CREATE, token, over)["errcode"] == 45009
        assert client.post("/api/v1/archive/import", json={"messages": []}).status_code in (
            401,
            422,
        )
