"""Fixtures of the dialect tests: an in-process client serving every dialect, and apps."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.store import AppStore

MakeApp = Callable[..., App]
#: room for 1000 WeCom messages in one body
BODY_LIMIT = 256 * 1024


@pytest.fixture
def dialect_client(
    tiny_analyzer: Analyzer, store: AppStore, sqlite_url: str
) -> Iterator[TestClient]:
    """Every installed dialect (the four vendors and the native API) on a fresh database."""
    settings = Settings(db_url=sqlite_url, max_body_bytes=BODY_LIMIT)
    with TestClient(create_app(settings, tiny_analyzer, store)) as client:
        yield client


@pytest.fixture
def make_app(store: AppStore) -> MakeApp:
    """``make_app(dialect, daily_quota=1000, rps=0, allow_ips=())``: a new app."""

    def make(dialect: str, *, daily_quota: int = 1000, rps: int = 0, **kwargs: object) -> App:
        return store.add_app(
            f"test-{dialect}", dialects=[dialect], daily_quota=daily_quota, rps=rps, **kwargs
        )

    return make
