from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from qinggan.database import normalize_url
from qinggan.errors import ConfigError
from qinggan.service.errors import AppDisabled, QuotaExceeded, RateLimited, UnknownApp
from qinggan.service.store import MIGRATIONS, AppStore
from tests.service.service_support import charge_many

NOON = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_store_migrations_are_recorded_and_idempotent(any_store: AppStore) -> None:
    assert any_store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert any_store.migrate() == []


def test_store_sqlite_uses_wal(store: AppStore) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_store_add_get_list_remove(any_store: AppStore) -> None:
    app = any_store.add_app(
        "shop", dialects=["jd,native"], daily_quota=10, rps=0, allow_ips=["10.1.2.3/8"]
    )
    assert len(app.app_id) == 16 and len(app.secret) >= 32
    got = any_store.get_app(app.app_id)
    assert got == app
    assert got is not None and got.dialects == {"jd", "native"} and got.rps is None
    assert got.allow_ips == ("10.0.0.0/8",)
    assert [a.app_id for a in any_store.list_apps()] == [app.app_id]
    assert "secret" not in repr(got) and app.secret not in repr(got)
    assert any_store.remove_app(app.app_id) is True
    assert any_store.remove_app(app.app_id) is False
    assert any_store.get_app(app.app_id) is None


def test_store_refuses_bad_app_settings(store: AppStore) -> None:
    with pytest.raises(ConfigError, match="unknown dialect"):
        store.add_app("x", dialects=["baidu"])
    with pytest.raises(ConfigError, match="not an IP network"):
        store.add_app("x", allow_ips=["10.0.0.300/8"])
    with pytest.raises(ConfigError, match="positive"):
        store.add_app("x", daily_quota=-1)
    with pytest.raises(ConfigError, match="name"):
        store.add_app("  ")


def test_store_quota_exactly_at_the_limit_then_one_over(any_store: AppStore) -> None:
    app = any_store.add_app("q", daily_quota=5, rps=0)
    assert any_store.charge(app.app_id, 3, now=NOON).remain == 2
    last = any_store.charge(app.app_id, 2, now=NOON)
    assert (last.used, last.remain, last.calls) == (5, 0, 2)
    with pytest.raises(QuotaExceeded) as refused:
        any_store.charge(app.app_id, 1, now=NOON)
    assert refused.value.app_id == app.app_id
    assert any_store.usage(app.app_id, now=NOON) == 5
    # a new UTC day starts from zero
    assert any_store.charge(app.app_id, 1, now=NOON + timedelta(days=1)).remain == 4


def test_store_refused_request_costs_nothing(any_store: AppStore) -> None:
    app = any_store.add_app("q", daily_quota=5, rps=0)
    any_store.charge(app.app_id, 4, now=NOON)
    with pytest.raises(QuotaExceeded):
        any_store.charge(app.app_id, 2, now=NOON)
    with pytest.raises(QuotaExceeded):
        any_store.charge(app.app_id, 6, now=NOON + timedelta(days=1))
    assert any_store.usage(app.app_id, now=NOON) == 4
    assert any_store.usage(app.app_id, now=NOON + timedelta(days=1)) == 0


def test_store_rate_limit_per_second(any_store: AppStore) -> None:
    app = any_store.add_app("r", daily_quota=0, rps=2)
    any_store.charge(app.app_id, 1, now=NOON)
    any_store.charge(app.app_id, 1, now=NOON + timedelta(milliseconds=500))
    with pytest.raises(RateLimited):
        any_store.charge(app.app_id, 1, now=NOON + timedelta(milliseconds=900))
    # the refusal was not counted against the daily usage
    assert any_store.usage(app.app_id, now=NOON) == 2
    assert any_store.charge(app.app_id, 1, now=NOON + timedelta(seconds=1)).remain is None


def test_store_limits_and_enabled_can_change(any_store: AppStore) -> None:
    app = any_store.add_app("c", daily_quota=1, rps=0)
    any_store.charge(app.app_id, 1, now=NOON)
    changed = any_store.set_limits(app.app_id, daily_quota=3)
    assert changed.daily_quota == 3 and changed.rps is None
    assert any_store.charge(app.app_id, 2, now=NOON).remain == 0
    any_store.set_enabled(app.app_id, False)
    with pytest.raises(AppDisabled):
        any_store.charge(app.app_id, 0, now=NOON)
    assert any_store.set_enabled(app.app_id, True).enabled
    assert any_store.set_limits(app.app_id, daily_quota=0).daily_quota is None
    with pytest.raises(UnknownApp):
        any_store.set_limits("nope", rps=1)
    with pytest.raises(UnknownApp):
        any_store.charge("nope", 1)


def test_store_two_processes_never_exceed_the_quota(any_store: AppStore) -> None:
    app = any_store.add_app("race", daily_quota=30, rps=0)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(2) as pool:
        pending = [
            pool.apply_async(charge_many, (any_store.url, app.app_id, 25, start)) for _ in range(2)
        ]
        start.set()
        accepted = [p.get(timeout=60) for p in pending]
    assert sum(accepted) == 30
    assert any_store.usage(app.app_id) == 30


def test_store_url_forms() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigError, match="unsupported database"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        normalize_url("::nonsense")
