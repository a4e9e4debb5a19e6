"""The native job routes (``/api/v1/jobs``): start, list and read jobs over the app's archive,
one app never sees another's, the job quota, and clear errors for bad requests."""

from __future__ import annotations

from typing import Any

import qinggan
from qinggan.jobs.store import JobStore
from qinggan.jobs.worker import Worker
from qinggan.service.apps import App
from qinggan.service.store import AppStore

from .conftest import NEGATIVE, POSITIVE
from .test_jobs_service import _import, serve


def _apps(db_url: str, *names: str) -> list[App]:
    store = AppStore.open(db_url)
    try:
        return [store.add_app(name, dialects=["native"], daily_quota=0, rps=0) for name in names]
    finally:
        store.close()


def _key(app: App) -> dict[str, str]:
    return {"X-API-Key": f"{app.app_id}:{app.secret}"}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    message: str = error["message"]
    return message


def _drain(db_url: str, analyzer: qinggan.Analyzer) -> None:
    store = JobStore.open(db_url)
    try:
        Worker(store, lambda texts: analyzer.analyze_batch(texts, errors="report")).run(
            until_idle=True
        )
    finally:
        store.close()


def test_start_list_and_read_a_job(db_url: str, analyzer: qinggan.Analyzer) -> None:
    JobStore.open(db_url).close()
    owner, other = _apps(db_url, "owner", "other")
    texts = {"p": POSITIVE, "n": NEGATIVE}
    messages = [{"msgid": k, "msgtype": "text", "content": v} for k, v in texts.items()]
    with serve(db_url, analyzer) as client:
        _import(client, owner, messages)
        body = {"messages": [{"msgid": "p"}, {"msgid": "n"}, {"msgid": "ghost"}]}
        started = _ok(client.post("/api/v1/jobs", headers=_key(owner), json=body))
        assert started["total"] == 3
        jobid = started["jobid"]
        running = _ok(client.get(f"/api/v1/jobs/{jobid}", headers=_key(owner)))
        assert running["status"] == "running" and running["resolved"] == 1  # ghost: known now
        _drain(db_url, analyzer)
        listing = _ok(client.get("/api/v1/jobs", headers=_key(owner)))
        assert [job["jobid"] for job in listing["jobs"]] == [jobid]
        assert listing["quota"]["used"] == 3 and listing["quota"]["limit"] > 0
        done = _ok(client.get(f"/api/v1/jobs/{jobid}", headers=_key(owner)))
        assert done["status"] == "done" and done["resolved"] == 3
        items = {item["msgid"]: item for item in done["items"]}
        assert [item["msgid"] for item in done["items"]] == ["p", "n", "ghost"]
        assert items["p"]["sentiment"] == "positive" and items["n"]["sentiment"] == "negative"
        assert 0.5 < items["p"]["confidence"] <= 1.0
        assert items["ghost"]["problem"] == "unknown_message" and items["ghost"]["message"]
        # the other app sees none of it
        assert _ok(client.get("/api/v1/jobs", headers=_key(other)))["jobs"] == []
        _error(client.get(f"/api/v1/jobs/{jobid}", headers=_key(other)), 404, "unknown_job")
        # and cannot analyse the owner's archive through a job of its own
        theirs = _ok(
            client.post("/api/v1/jobs", headers=_key(other), json={"messages": [{"msgid": "p"}]})
        )
        _drain(db_url, analyzer)
        seen = _ok(client.get(f"/api/v1/jobs/{theirs['jobid']}", headers=_key(other)))
        assert seen["items"][0]["problem"] == "unknown_message"


def test_job_requests_refused_clearly(tmp_path: Any, analyzer: qinggan.Analyzer) -> None:
    db_url = f"sqlite:///{tmp_path / 'q.db'}"
    JobStore.open(db_url).close()
    (app,) = _apps(db_url, "limits")
    with serve(db_url, analyzer, daily_quota=2) as client:
        post = client.post
        _error(
            post("/api/v1/jobs", json={"messages": [{"msgid": "a"}]}), 401, "missing_credentials"
        )
        _error(
            post("/api/v1/jobs", headers=_key(app), json={"messages": []}), 422, "invalid_request"
        )
        many = {"messages": [{"msgid": f"m{i}"} for i in range(1001)]}
        _error(post("/api/v1/jobs", headers=_key(app), json=many), 422, "invalid_request")
        twice = {"messages": [{"msgid": "a"}, {"msgid": "a"}]}
        assert "a" in _error(
            post("/api/v1/jobs", headers=_key(app), json=twice), 422, "invalid_request"
        )
        broken = {**_key(app), "Content-Type": "application/json"}
        _error(post("/api/v1/jobs", headers=broken, content=b"{"), 400, "bad_json")
        _error(
            post("/api/v1/jobs", headers=_key(app), content=b"{}"), 415, "unsupported_media_type"
        )
        three = {"messages": [{"msgid": f"q{i}"} for i in range(3)]}
        _error(post("/api/v1/jobs", headers=_key(app), json=three), 429, "job_quota_exceeded")
        two = {"messages": [{"msgid": f"q{i}"} for i in range(2)]}
        assert _ok(post("/api/v1/jobs", headers=_key(app), json=two))["total"] == 2
        listing = _ok(client.get("/api/v1/jobs", headers=_key(app), params={"limit": 1}))
        assert len(listing["jobs"]) == 1 and listing["quota"] == {"used": 2, "limit": 2}
        _error(
            client.get("/api/v1/jobs", headers=_key(app), params={"limit": 0}),
            422,
            "invalid_request",
        )
        _error(client.get("/api/v1/jobs/nope", headers=_key(app)), 404, "unknown_job")


def test_client_with_jobs_reads_only_its_own(db_url: str, analyzer: qinggan.Analyzer) -> None:
    """Listing is per app even with many jobs of several apps in one database."""
    JobStore.open(db_url).close()
    first, second = _apps(db_url, "first", "second")
    with serve(db_url, analyzer) as client:
        mine = {
            app.app_id: [
                _ok(
                    client.post(
                        "/api/v1/jobs",
                        headers=_key(app),
                        json={"messages": [{"msgid": f"{app.name}{n}"}]},
                    )
                )["jobid"]
                for n in range(3)
            ]
            for app in (first, second)
        }
        for app in (first, second):
            listing = _ok(client.get("/api/v1/jobs", headers=_key(app)))
            assert sorted(job["jobid"] for job in listing["jobs"]) == sorted(mine[app.app_id])
            assert {job["org"] for job in listing["jobs"]} == {app.app_id}
