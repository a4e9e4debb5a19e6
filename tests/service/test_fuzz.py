"""Property-based fuzzing of the native API: no input ever gets a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.service.app import create_app
from qinggan.service.store import AppStore
from tests.service.conftest import api_key

ROUTES = ["/api/v1/polarity", "/api/v1/emotions", "/api/v1/dialogue-emotion", "/api/v1/trend"]
texts = st.text(max_size=40) | st.sampled_from(["房间很干净", "太差了", " ", "", "\x00"])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "text": values,
        "texts": st.lists(texts, max_size=8) | values,
        "turns": st.lists(st.fixed_dictionaries({"text": texts}, optional={"speaker": values}))
        | values,
        "classes": st.sampled_from([7, 8, 9, "7"]) | values,
        "scene": st.sampled_from(["default", "talk", "task", "customer_service", "CHAT"]) | values,
        "customer_speakers": values,
    },
)
bodies = (
    fields.map(lambda d: json.dumps(d, ensure_ascii=False).encode())
    | values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/x+json"]
)


@pytest.fixture(scope="module")
def fuzz_client(
    tiny_analyzer: Analyzer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"
    store = AppStore.open(f"sqlite:///{db}")
    app = store.add_app("fuzz", dialects=["native"], daily_quota=0, rps=0)
    settings_ = Settings(db_url=f"sqlite:///{db}", max_batch=5, max_body_bytes=2048)
    with TestClient(create_app(settings_, tiny_analyzer, store, dialects=[])) as client:
        yield client, api_key(app)
    store.close()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    body=bodies,
    content_type=content_types,
    authorised=st.booleans(),
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]),
)
def test_fuzz_native_api_never_answers_5xx(
    fuzz_client: tuple[TestClient, dict[str, str]],
    route: str,
    body: bytes,
    content_type: str,
    authorised: bool,
    method: str,
) -> None:
    client, key = fuzz_client
    headers = {**(key if authorised else {}), "Content-Type": content_type}
    response = client.request(method, route, content=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message"}
