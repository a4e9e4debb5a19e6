"""Fixtures of the service tests: tiny models trained in a second, stores on SQLite and
PostgreSQL, an in-process client with lifespan running, and a real uvicorn server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.models.io import ModelMeta, write_meta
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.store import AppStore
from qinggan.text import normalize
from tests.postgres import postgres_schema

POLARITY = [
    ("房间很干净，服务也周到", "positive"),
    ("非常满意，下次还会再来", "positive"),
    ("质量很好，物流也快，好评", "positive"),
    ("太差了，再也不来了", "negative"),
    ("服务态度恶劣，房间又脏又吵", "negative"),
    ("质量太差，用了两天就坏了", "negative"),
    ("请问怎么修改收货地址", "neutral"),
    ("明天几点开门营业", "neutral"),
    ("国务院召开常务会议", "neutral"),
]
EMOTION = [
    ("周三了，怎么还没有到货啊", "anxiety"),
    ("气死我了，我要投诉你们", "anger"),
    ("谢谢，问题解决了", "happy"),
    ("唉，算了，没意思", "lost"),
    ("好难过，心都碎了", "sad"),
    ("好可怕，我不敢再用了", "fear"),
    ("请问几点发货", "other"),
    ("呵呵，你们可真是太厉害了，三天发不了货", "satiric"),
]
TALK = [
    ("我好喜欢你呀", "like"),
    ("今天真开心", "happy"),
    ("气死我了", "angry"),
    ("真恶心", "disgusting"),
    ("好害怕", "fearful"),
    ("好伤心", "sad"),
]


def _train(directory: Path, task: str, rows: list[tuple[str, str]]) -> Path:
    from qinggan.models.linear import HashedLinearClassifier

    texts = [normalize(text) for text, _ in rows] * 3
    labels = [label for _, label in rows] * 3
    model = HashedLinearClassifier(n_buckets=1 << 12, alpha=1e-4, epochs=30).fit(texts, labels)
    directory.mkdir(parents=True)
    model.save(directory)
    write_meta(
        directory,
        ModelMeta(
            name=f"tiny-{task}",
            task=task,
            architecture=model.architecture,
            labels=list(model.classes_),
            hyperparameters=model.hyperparameters(),
        ),
    )
    return directory


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("sklearn")
    root = tmp_path_factory.mktemp("models")
    return {
        "polarity_model": _train(root / "polarity", "polarity", POLARITY),
        "emotion_model": _train(root / "emotion", "emotion", EMOTION),
        "talk_model": _train(root / "talk", "talk-emotion", TALK),
    }


@pytest.fixture(scope="session")
def tiny_analyzer(tiny_models: dict[str, Path]) -> Analyzer:
    return Analyzer(
        tiny_models["polarity_model"],
        emotion_model=tiny_models["emotion_model"],
        talk_model=tiny_models["talk_model"],
    ).load_all()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'qinggan.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[AppStore]:
    opened = AppStore.open(sqlite_url)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a schema of its own, dropped at the end; skipped when no server
    answers (a failure instead under CI=true)."""
    with postgres_schema("qg_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppStore]:
    """The same tests on a SQLite file and on PostgreSQL (fresh tables each time)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'qinggan.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = AppStore.open(url)
    yield opened
    if request.param == "postgresql":
        from sqlalchemy import delete

        from qinggan.service.store import apps_table, rate_table, usage_table

        with opened.engine.begin() as conn:
            for table in (apps_table, usage_table, rate_table):
                conn.execute(delete(table))
    opened.close()


def api_key(app: App) -> dict[str, str]:
    return {"X-API-Key": f"{app.app_id}:{app.secret}"}


@pytest.fixture
def client(tiny_analyzer: Analyzer, store: AppStore, sqlite_url: str) -> Iterator[TestClient]:
    settings = Settings(db_url=sqlite_url, max_batch=5, max_body_bytes=4096, max_text_bytes=300)
    app = create_app(settings, tiny_analyzer, store, dialects=[])
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def native_app(store: AppStore) -> App:
    return store.add_app("tests", dialects=["native"], daily_quota=1000, rps=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_process(
    command: list[str],
    env: dict[str, str],
    log: Path,
    port: int,
    *,
    cwd: Path | None = None,
    timeout_s: float = 60,
) -> Iterator[str]:
    """Run the server ``command`` (in ``cwd``) in a child process logging to ``log``; yield its
    base URL on 127.0.0.1:``port`` once /healthz answers, stop it at the end."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz within {timeout_s:.0f} s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve_on_loopback(
    settings: Settings, log: Path, *uvicorn_args: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``uvicorn`` serving ``create_app_from_env`` with ``settings`` (host 127.0.0.1, its port)
    in a child process logging to ``log``; yields the base URL once /healthz answers, stops the
    server at the end."""
    child_env = {**os.environ, **settings.to_env(), **(env or {}), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "uvicorn", "qinggan.service.app:create_app_from_env", "--factory",
        "--host", "127.0.0.1", "--port", str(settings.port), "--no-access-log", *uvicorn_args,
    ]  # fmt: skip
    with serve_process(command, child_env, log, settings.port) as base_url:
        yield base_url


class LiveServer:
    def __init__(self, base_url: str, db_url: str, log: Path) -> None:
        self.base_url = base_url
        self.db_url = db_url
        self.log = log


@pytest.fixture(scope="session")
def live_server(
    tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``uvicorn`` serving ``create_app_from_env`` on a free loopback port."""
    root = tmp_path_factory.mktemp("live")
    port = free_port()
    db_url = f"sqlite:///{root / 'live.db'}"
    settings = Settings(
        db_url=db_url,
        port=port,
        max_body_bytes=4096,
        log_level="debug",
        **{k: str(v) for k, v in tiny_models.items()},
    )
    log = root / "server.log"
    with serve_on_loopback(settings, log, "--log-level", "debug") as base_url:
        yield LiveServer(base_url, db_url, log)
