"""The hot path of the service: the app cache of :class:`Access`, the one-transaction charge (on
the event loop when the lock is free), and the adaptive polarity micro-batcher."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.results import ItemError
from qinggan.service import store as store_module
from qinggan.service.access import Access, AppCache, Proof, secret_proof
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.errors import (
    AppDisabled,
    BadCredentials,
    DialectNotAllowed,
    QuotaExceeded,
    UnknownApp,
)
from qinggan.service.inference import Inference
from qinggan.service.metrics import Metrics
from qinggan.service.store import AppStore, apps_table
from tests.service.conftest import api_key
from tests.service.service_support import charge_many

TTL = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """Counts the reads of the app record (``get_app``) of a real store."""

    def __init__(self, store: AppStore) -> None:
        self.reads = 0
        self._get_app = store.get_app

        def get_app(app_id: str) -> App | None:
            self.reads += 1
            return self._get_app(app_id)

        store.get_app = get_app  # type: ignore[method-assign]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(store: AppStore, clock: Clock) -> Access:
    access = Access(store, Metrics())
    access.cache = AppCache(TTL, clock=clock)
    return access


def authenticate(access: Access, app: App, proof: Proof, dialect: str = "native") -> App:
    return asyncio.run(
        access.authenticate(app.app_id, proof, dialect=dialect, client_ip="127.0.0.1")
    )


def charge(access: Access, app: App, calls: int = 1) -> Any:
    return asyncio.run(access.charge(app, calls, dialect="native"))


def set_secret(store: AppStore, app_id: str, secret: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(apps_table).where(apps_table.c.app_id == app_id).values(secret=secret))


# -- the cache ----------------------------------------------------------------------------------
def test_cache_keeps_a_record_for_the_ttl_only(clock: Clock) -> None:
    cache = AppCache(TTL, clock=clock)
    app = App("a1", "n", "s", frozenset({"native"}), None, None)
    cache.put(app)
    assert cache.get("a1") is app
    clock.now += TTL - 0.01
    assert cache.get("a1") is app
    clock.now += 0.02
    assert cache.get("a1") is None and len(cache) == 0
    off = AppCache(0, clock=clock)
    off.put(app)
    assert off.get("a1") is None
    small = AppCache(TTL, max_size=3, clock=clock)
    for i in range(10):
        small.put(App(f"a{i}", "n", "s", frozenset({"native"}), None, None))
    assert len(small) <= 3 and small.get("a9") is not None


def test_cached_app_saves_the_read_and_a_wrong_secret_is_still_refused(
    store: AppStore, access: Access
) -> None:
    app = store.add_app("c", dialects=["native"], daily_quota=100, rps=0)
    reads = CountingStore(store)
    for _ in range(5):
        assert authenticate(access, app, secret_proof(app.secret)).app_id == app.app_id
    assert reads.reads == 1
    with pytest.raises(BadCredentials):
        authenticate(access, app, secret_proof(app.secret + "x"))
    with pytest.raises(BadCredentials):
        authenticate(access, app, secret_proof(""))
    # still refused, and the cached record is unchanged for the right secret
    assert authenticate(access, app, secret_proof(app.secret)).secret == app.secret
    with pytest.raises(UnknownApp):
        asyncio.run(
            access.authenticate(
                "0" * 16, secret_proof(app.secret), dialect="native", client_ip=None
            )
        )


def test_changed_secret_new_one_at_once_old_one_until_the_ttl(
    store: AppStore, access: Access, clock: Clock
) -> None:
    app = store.add_app("s", dialects=["native"], daily_quota=100, rps=0)
    authenticate(access, app, secret_proof(app.secret))  # cached
    set_secret(store, app.app_id, "a-brand-new-secret")
    assert authenticate(access, app, secret_proof("a-brand-new-secret")).app_id == app.app_id
    with pytest.raises(BadCredentials):  # the fresh read is cached now
        authenticate(access, app, secret_proof(app.secret))
    set_secret(store, app.app_id, "third")
    # the cached record still says a-brand-new-secret: accepted until the TTL is over
    assert authenticate(access, app, secret_proof("a-brand-new-secret")).app_id == app.app_id
    clock.now += TTL + 0.1
    with pytest.raises(BadCredentials):
        authenticate(access, app, secret_proof("a-brand-new-secret"))


def test_disabling_refuses_at_the_charge_at_once(store: AppStore, access: Access) -> None:
    app = store.add_app("d", dialects=["native"], daily_quota=100, rps=0)
    cached = authenticate(access, app, secret_proof(app.secret))
    store.set_enabled(app.app_id, False)
    # the cached record passes authentication, the charge reads the truth in its transaction
    assert authenticate(access, app, secret_proof(app.secret)).enabled
    with pytest.raises(AppDisabled):
        charge(access, cached)
    # the refusal dropped the cached record: authentication sees the disabled app now
    with pytest.raises(AppDisabled):
        authenticate(access, app, secret_proof(app.secret))
    assert store.usage(app.app_id) == 0


def test_re_enabling_and_dialects_take_effect_after_the_ttl(
    store: AppStore, access: Access, clock: Clock
) -> None:
    app = store.add_app("e", dialects=["native"], daily_quota=100, rps=0)
    store.set_enabled(app.app_id, False)
    with pytest.raises(AppDisabled):
        authenticate(access, app, secret_proof(app.secret))  # cached, disabled
    store.set_enabled(app.app_id, True)
    with pytest.raises(AppDisabled):
        authenticate(access, app, secret_proof(app.secret))
    clock.now += TTL + 0.1
    assert authenticate(access, app, secret_proof(app.secret)).enabled

    with pytest.raises(DialectNotAllowed):
        authenticate(access, app, secret_proof(app.secret), dialect="jd")
    store.remove_app(app.app_id)
    other = store.add_app("f", dialects=["native", "jd"], daily_quota=100, rps=0)
    assert authenticate(access, other, secret_proof(other.secret), dialect="jd")
    # a removed app: the charge refuses it at once, then so does authentication
    with pytest.raises(UnknownApp):
        charge(access, app)
    with pytest.raises(UnknownApp):
        authenticate(access, app, secret_proof(app.secret))


def test_quota_and_rate_changes_are_immediate(store: AppStore, access: Access) -> None:
    app = store.add_app("q", dialects=["native"], daily_quota=100, rps=0)
    cached = authenticate(access, app, secret_proof(app.secret))
    assert charge(access, cached).remain == 99
    store.set_limits(app.app_id, daily_quota=2)
    assert authenticate(access, app, secret_proof(app.secret)).daily_quota == 100  # cached
    assert charge(access, cached).remain == 0
    with pytest.raises(QuotaExceeded):
        charge(access, cached)
    assert store.usage(app.app_id) == 2


def test_the_service_reads_the_app_once_per_ttl(
    tiny_analyzer: Analyzer, store: AppStore, sqlite_url: str
) -> None:
    app = store.add_app("svc", dialects=["native"], daily_quota=1000, rps=0)
    reads = CountingStore(store)
    settings = Settings(db_url=sqlite_url)
    with TestClient(create_app(settings, tiny_analyzer, store, dialects=[])) as client:
        for _ in range(5):
            answer = client.post("/api/v1/polarity", json={"text": "太差了"}, headers=api_key(app))
            assert answer.status_code == 200
        wrong = {"X-API-Key": f"{app.app_id}:{app.secret}x"}
        refused = client.post("/api/v1/polarity", json={"text": "太差了"}, headers=wrong)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "bad_credentials"
    assert reads.reads == 2  # the first request, and the re-read for the wrong secret
    assert store.usage(app.app_id) == 5


# -- the charge ---------------------------------------------------------------------------------
def test_try_charge_now_does_not_wait(store: AppStore) -> None:
    app = store.add_app("t", dialects=["native"], daily_quota=10, rps=0)
    assert store.try_charge_now(app.app_id) is None  # the counting connection is not open yet
    assert store.charge(app.app_id).used == 1
    got = store.try_charge_now(app.app_id, 2)
    assert got is not None and (got.used, got.remain, got.calls) == (3, 7, 2)

    held = threading.Event()
    release = threading.Event()

    def hold_the_mutex() -> None:
        with store._charging:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold_the_mutex)
    thread.start()
    held.wait(10)
    assert store.try_charge_now(app.app_id) is None  # another thread of this process charges
    release.set()
    thread.join()

    path = store.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # as another process holding the write lock
    assert store.try_charge_now(app.app_id) is None
    timer = threading.Timer(0.3, lambda: other.execute("ROLLBACK"))
    timer.start()
    assert store.charge(app.app_id).used == 4  # waits for the lock, then counts
    timer.join()
    other.close()
    with pytest.raises(QuotaExceeded):
        store.try_charge_now(app.app_id, 7)
    assert store.usage(app.app_id) == 4


def test_checkpoints_happen_off_the_loop(store: AppStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 3)
    app = store.add_app("w", dialects=["native"], daily_quota=0, rps=0)
    store.charge(app.app_id)
    assert store.try_charge_now(app.app_id) is not None
    assert store.try_charge_now(app.app_id) is not None
    assert store.try_charge_now(app.app_id) is None  # a checkpoint is due: for charge()
    assert store.charge(app.app_id).used == 4
    assert store.try_charge_now(app.app_id) is not None


def test_two_processes_under_contention_count_exactly(store: AppStore) -> None:
    app = store.add_app("race", dialects=["native"], daily_quota=300, rps=0)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(2) as pool:
        pending = [
            pool.apply_async(charge_many, (store.url, app.app_id, 200, start)) for _ in range(2)
        ]
        start.set()
        accepted = [p.get(timeout=60) for p in pending]
    assert sum(accepted) == 300
    assert store.usage(app.app_id) == 300


# -- the micro-batcher --------------------------------------------------------------------------
def gather(inference: Inference, texts: list[str]) -> list[Any]:
    async def main() -> list[Any]:
        try:
            return list(await asyncio.gather(*(inference.polarity(t) for t in texts)))
        finally:
            inference.close()

    return asyncio.run(main())


def test_adaptive_batches_grow_under_load(tiny_analyzer: Analyzer) -> None:
    sizes: list[int] = []
    texts = ["房间很干净", "太差了", "请问几点开门", "  "] * 10
    results = gather(Inference(tiny_analyzer, on_batch=sizes.append, max_size=16), texts)
    alone = [tiny_analyzer.analyze_batch([t], errors="report")[0] for t in texts]
    for got, want in zip(results, alone, strict=True):
        if isinstance(want, ItemError):  # its index is the one in its micro-batch
            assert isinstance(got, ItemError) and got.message == want.message
        else:
            assert got == want
    # the first text goes alone at once; the others wait for it and go together
    assert sizes[0] == 1 and max(sizes) == 16 and sum(sizes) == len(texts)


def test_a_failing_batch_fails_every_waiter_and_the_next_batch_still_runs(
    tiny_analyzer: Analyzer,
) -> None:
    calls: list[int] = []

    class Flaky:
        def analyze_batch(self, texts: list[str], errors: str = "raise") -> list[Any]:
            calls.append(len(texts))
            if len(calls) == 1:
                raise RuntimeError("boom")
            return tiny_analyzer.analyze_batch(texts, errors=errors)  # type: ignore[arg-type]

    inference = Inference(Flaky())  # type: ignore[arg-type]

    async def main() -> tuple[list[Any], Any]:
        try:
            first = await asyncio.gather(
                *(inference.polarity(t) for t in ["太差了"] * 3), return_exceptions=True
            )
            later = await inference.polarity("房间很干净")
            return list(first), later
        finally:
            inference.close()

    first, later = asyncio.run(main())
    assert isinstance(first[0], RuntimeError)
    assert all(not isinstance(r, RuntimeError) for r in first[1:])  # they went in batch two
    assert later == tiny_analyzer.analyze_batch(["房间很干净"], errors="report")[0]
