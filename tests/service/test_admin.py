"""The admin routes: every app's limits and usage for the holder of the admin key, changes that
apply to the app's next request, and refusals for everyone else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qinggan.config import Settings
from qinggan.engine import Analyzer
from qinggan.service.app import create_app
from qinggan.service.store import AppStore

from .conftest import api_key

ADMIN = "admin-key-for-tests"
APPS = "/api/v1/admin/apps"


@pytest.fixture
def admin_client(tiny_analyzer: Analyzer, any_store: AppStore) -> Iterator[TestClient]:
    """A service with an admin key, on SQLite and on PostgreSQL (its jobs in the same database)."""
    settings = Settings(db_url=any_store.url, admin_key=ADMIN)
    with TestClient(create_app(settings, tiny_analyzer, any_store, dialects=[])) as client:
        yield client


@pytest.fixture
def store(any_store: AppStore) -> AppStore:
    return any_store


def _admin(key: str = ADMIN) -> dict[str, str]:
    return {"X-Admin-Key": key}


def _rows(client: TestClient) -> dict[str, dict[str, Any]]:
    answer = client.get(APPS, headers=_admin())
    assert answer.status_code == 200, answer.text
    return {row["app_id"]: row for row in answer.json()["apps"]}


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_admin_sees_every_app_with_usage_and_no_secret(
    admin_client: TestClient, store: AppStore
) -> None:
    busy = store.add_app("busy", dialects=["native"], daily_quota=100, rps=0)
    idle = store.add_app("idle", dialects=["native"], daily_quota=None, rps=7)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    store.charge(busy.app_id, 4, now=two_days_ago)
    for _ in range(3):
        answer = admin_client.post("/api/v1/polarity", headers=api_key(busy), json={"text": "好"})
        assert answer.status_code == 200
    body = admin_client.get(APPS, headers=_admin())
    assert busy.secret not in body.text and idle.secret not in body.text
    rows = _rows(admin_client)
    assert set(rows) == {busy.app_id, idle.app_id}
    assert rows[busy.app_id]["calls_today"] == 3
    history = rows[busy.app_id]["calls_7d"]
    assert [day["calls"] for day in history] == [0, 0, 0, 0, 4, 0, 3]
    assert history[-1]["day"] == datetime.now(UTC).date().isoformat() == body.json()["day"]
    assert rows[busy.app_id]["daily_quota"] == 100 and rows[busy.app_id]["name"] == "busy"
    assert rows[idle.app_id]["calls_today"] == 0 and rows[idle.app_id]["daily_quota"] is None
    assert rows[idle.app_id]["rps"] == 7
    assert rows[idle.app_id]["jobs"]["total"] == 0 and rows[idle.app_id]["jobs"]["quota"] > 0


def test_admin_sees_job_activity(admin_client: TestClient, store: AppStore) -> None:
    app = store.add_app("jobs", dialects=["native"], daily_quota=0, rps=0)
    job = {"messages": [{"msgid": "a"}, {"msgid": "b"}]}
    assert admin_client.post("/api/v1/jobs", headers=api_key(app), json=job).status_code == 200
    jobs = _rows(admin_client)[app.app_id]["jobs"]
    assert (jobs["messages_today"], jobs["total"]) == (2, 1)
    assert jobs["running"] == 0  # both msgids are unknown: resolved at submission, job done


def test_admin_changes_apply_to_the_next_request(admin_client: TestClient, store: AppStore) -> None:
    app = store.add_app("limited", dialects=["native"], daily_quota=100, rps=0)

    def call() -> Any:
        return admin_client.post("/api/v1/polarity", headers=api_key(app), json={"text": "好"})

    assert call().json()["usage"]["remain"] == 99
    changed = admin_client.patch(f"{APPS}/{app.app_id}", headers=_admin(), json={"daily_quota": 2})
    assert changed.status_code == 200 and changed.json()["daily_quota"] == 2
    assert changed.json()["calls_today"] == 1
    assert call().json()["usage"]["remain"] == 0
    assert _code(call()) == (429, "quota_exceeded")
    off = admin_client.patch(f"{APPS}/{app.app_id}", headers=_admin(), json={"enabled": False})
    assert off.json()["enabled"] is False
    assert _code(call()) == (403, "app_disabled")
    back = admin_client.patch(
        f"{APPS}/{app.app_id}", headers=_admin(), json={"enabled": True, "daily_quota": None}
    )
    assert back.json()["enabled"] is True and back.json()["daily_quota"] is None
    assert call().json()["usage"]["remain"] is None
    assert store.get_app(app.app_id).rps is None  # type: ignore[union-attr]  # untouched: 0


def test_admin_refusals(admin_client: TestClient, store: AppStore) -> None:
    app = store.add_app("someone", dialects=["native"], daily_quota=10, rps=0)
    assert _code(admin_client.get(APPS)) == (401, "bad_admin_key")
    assert _code(admin_client.get(APPS, headers=_admin("wrong"))) == (401, "bad_admin_key")
    # an app's own credentials open nothing here
    assert _code(admin_client.get(APPS, headers=api_key(app))) == (401, "bad_admin_key")
    patch = admin_client.patch
    assert _code(patch(f"{APPS}/nope", headers=_admin(), json={"rps": 3})) == (404, "unknown_app")
    bad_bodies = ({"daily_quota": -1}, {"rps": "fast"}, {"enabled": None}, {"secret": "x"})
    for bad in (*bad_bodies, {"daily_quota": 5, "enabled": None}):  # the last: nothing written
        answer = patch(f"{APPS}/{app.app_id}", headers=_admin(), json=bad)
        assert _code(answer) == (422, "invalid_request"), bad
    plain = {**_admin(), "Content-Type": "text/plain"}
    answer = patch(f"{APPS}/{app.app_id}", headers=plain, content=b'{"rps": 1}')
    assert _code(answer) == (415, "unsupported_media_type")
    assert store.get_app(app.app_id) == app  # nothing changed


def test_admin_routes_are_off_without_a_key(client: TestClient) -> None:
    answer = client.get(APPS, headers=_admin())
    assert _code(answer) == (403, "admin_disabled")
    assert "QINGGAN_ADMIN_KEY" in answer.json()["error"]["message"]
