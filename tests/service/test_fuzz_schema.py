"""Fuzzing our own OpenAPI schema against a real server, on SQLite and on PostgreSQL.

For every operation of ``/openapi.json`` schemathesis generates valid requests and requests that
break the schema (wrong types, missing fields, out-of-range numbers, odd strings) with a valid
app key (and the admin key), sends them to ``qinggan serve`` on loopback, and each answer must be
below 500, and an error answer must leave the app's usage unchanged; then the hand-written
hostile cases of every vendor door (form bodies, query signatures, surrogates, NUL, huge
numbers) are replayed. At the end the server's log holds no traceback and no ERROR line, and
its /metrics count no 5xx. Bounded: :data:`EXAMPLES` generated requests per store.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from qinggan.config import Settings
from qinggan.service.apps import App
from qinggan.service.store import AppStore
from tests.service.conftest import free_port
from tests.service.hostile_support import (
    ADMIN_KEY,
    hostile_requests,
    internal_failure,
    qinggan_serve,
    send,
    server_errors,
    vendor_error,
    wecom_token,
)

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

#: generated requests per store (the hostile cases come on top)
EXAMPLES = 300
DIALECTS = ["native", "jd", "jumdata", "iflytek", "wecom"]


@dataclass
class Target:
    base_url: str
    log: Path
    app: App
    store: AppStore
    backend: str
    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest,
    tiny_models: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        db_url = f"sqlite:///{root / 'fuzz.db'}"
    else:
        db_url = request.getfixturevalue("pg_url")
    store = AppStore.open(db_url)
    app = store.add_app("fuzz", dialects=DIALECTS, daily_quota=0, rps=0)
    settings_ = Settings(db_url=db_url, port=free_port(), admin_key=ADMIN_KEY, max_batch=20,
                         **{k: str(v) for k, v in tiny_models.items()})  # fmt: skip
    log = root / "server.log"
    with qinggan_serve(settings_, log) as base_url:
        yield Target(base_url, log, app, store, request.param)
    store.close()


def _strategy(target: Target) -> st.SearchStrategy:
    schema = schemathesis.openapi.from_url(f"{target.base_url}/openapi.json")
    headers = {"X-API-Key": f"{target.app.app_id}:{target.app.secret}", "X-Admin-Key": ADMIN_KEY}
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(generation_mode=mode, headers=headers))
    assert len(strategies) >= 20, "the schema lost its operations"
    return st.one_of(strategies)


def test_fuzz_schema_no_5xx_and_no_charge_for_errors(target: Target) -> None:
    strategy = _strategy(target)
    calls = _calls(target)
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        before = calls()
        answer = case.call(base_url=target.base_url, timeout=30)
        where = f"{case.method} {case.operation.path}"
        target.sent[where] += 1
        target.statuses[answer.status_code] += 1
        if answer.status_code >= 500:
            failures.append(f"{where}: {answer.status_code} {answer.text[:200]}")
        elif answer.status_code >= 400 and calls() != before:
            failures.append(f"{where}: {answer.status_code} charged a call")

    run()
    sent = sum(target.sent.values())
    statuses = sorted(target.statuses.items())
    print(f"\n{target.backend}: {sent} generated requests, statuses {statuses}")
    assert not failures, f"{len(failures)} of {sent} requests failed: {failures[:5]}"
    assert sent >= EXAMPLES * 0.9
    assert len(target.sent) >= 15, sorted(target.sent)  # most operations were reached


def test_fuzz_hostile_vendor_doors(target: Target) -> None:
    calls = _calls(target)
    with httpx.Client(base_url=target.base_url, timeout=30) as client:
        token = wecom_token(client, target.app)
        cases = hostile_requests(target.app, token)
        failures = []
        for case in cases:
            before = calls()
            answer = send(client, case)
            charged = calls() - before
            if internal_failure(case.dialect, answer):
                failures.append(f"{case.name}: {answer.status_code} {answer.text[:200]}")
            elif vendor_error(case.dialect, answer) and charged:
                failures.append(f"{case.name}: an error charged {charged} call(s)")
            elif not vendor_error(case.dialect, answer) and charged != case.charge:
                failures.append(f"{case.name}: charged {charged}, expected {case.charge}")
        assert not failures, f"{len(failures)} of {len(cases)} hostile requests: {failures}"
        # a head over 64 KiB: refused before the app runs
        big = client.get("/healthz", headers={"X-Filler": "x" * (100 * 1024)})
        assert big.status_code == 431


def test_fuzz_server_log_and_metrics_are_clean(target: Target) -> None:
    """After the two runs above on this store: no traceback, no ERROR, no 5xx counted."""
    metrics = httpx.get(f"{target.base_url}/metrics").text
    assert not re.search(r'qinggan_http_requests_total\{[^}]*status="5\d\d"', metrics)
    assert 'code="internal"' not in metrics
    assert 'route="unmatched"' not in metrics or "/docs" not in metrics
    assert not server_errors(target.log), server_errors(target.log)[:5]


def _calls(target: Target) -> Callable[[], int]:
    def calls() -> int:
        return target.store.usage(target.app.app_id)

    return calls
