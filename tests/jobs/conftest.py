"""Fixtures of the job tests: the shipped analyzer, job stores on a SQLite file and on
PostgreSQL (a schema of its own per run, dropped after; skipped when no server answers, a
failure under CI=true), archives with plaintext and encrypted messages, worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import qinggan
from qinggan.jobs.crypto import encrypt, new_key
from qinggan.jobs.model import JobSettings
from qinggan.jobs.store import JobStore
from tests.postgres import postgres_schema

HERE = Path(__file__).parent

POSITIVE = "非常满意，下次还会再来"
NEGATIVE = "太差了，再也不来了"


class Clock:
    """A settable clock for the store (seconds since the epoch)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def analyzer() -> qinggan.Analyzer:
    return qinggan.Analyzer().load_all()


@pytest.fixture(scope="session")
def analyze(analyzer: qinggan.Analyzer) -> Callable[[list[str]], Any]:
    def run(texts: list[str]) -> Any:
        return analyzer.analyze_batch(texts, errors="report")

    return run


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    with postgres_schema("qg_jobs") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh job database: a SQLite file, or the run's PostgreSQL schema emptied after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    url = request.getfixturevalue("pg_base_url")
    yield url
    from sqlalchemy import delete

    from qinggan.jobs.store import archive_table, items_table, jobs_table, quota_table

    store = JobStore(url)
    try:
        with store.engine.begin() as conn:
            for table in (items_table, jobs_table, quota_table, archive_table):
                conn.execute(delete(table))
    finally:
        store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_store(db_url: str) -> Iterator[Callable[..., JobStore]]:
    opened: list[JobStore] = []

    def make(clock: Callable[[], float] = time.time, **settings: Any) -> JobStore:
        store = JobStore.open(db_url, settings=JobSettings(**settings), clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def org_name() -> str:
    return f"org-{uuid.uuid4().hex[:10]}"


def archive_lines(n: int, *, key: str | None = None, prefix: str = "m") -> list[str]:
    """``n`` text messages alternating positive and negative; encrypted under ``key`` if given."""
    lines = []
    for index in range(n):
        text = POSITIVE if index % 2 == 0 else NEGATIVE
        body: dict[str, Any] = {"msgid": f"{prefix}{index}", "msgtype": "text"}
        if key is None:
            body["content"] = text
        else:
            body["encrypted_content"] = encrypt(key, text)
        lines.append(json.dumps(body, ensure_ascii=False))
    return lines


@pytest.fixture(scope="session")
def shared_key() -> str:
    return new_key()


def start_worker(db_url: str, name: str, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A worker process: ``python -m qinggan worker`` with ``args``; waits until it is ready."""
    command = [sys.executable, "-m", "qinggan", "worker", "--db", db_url, "--name", name, *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
    )
    return process


def start_slow_worker(db_url: str, name: str, *, delay_s: float, batch: int, lease_s: float):  # type: ignore[no-untyped-def]
    """A worker process whose engine sleeps ``delay_s`` per batch (to be killed mid-job)."""
    command = [
        sys.executable, str(HERE / "slow_worker.py"), db_url, name,
        str(delay_s), str(batch), str(lease_s),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)
