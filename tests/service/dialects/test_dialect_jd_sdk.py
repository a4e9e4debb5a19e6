"""JD Cloud header signature (``JDCLOUD2-HMAC-SHA256``): JD's own Python SDK, unmodified, against
a real server on loopback; the refusals of a bad, stale, replayed or incomplete signature, none
of them charged; the README's signed example; the nonce cache.

Python versions: JD's SDK (``jdcloud-apim-sdk-core`` 2.0.2) runs unchanged on Python 3.11. Its
signer takes the time from ``datetime.datetime.utcfromtimestamp``, which Python 3.12 deprecates
(a ``DeprecationWarning``, the result unchanged); our warnings-as-errors setting would turn that
warning into an exception inside the SDK, so this module ignores that one warning. Nothing of the
SDK is patched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jdcloud_apim_sdk.core.config import Config
from jdcloud_apim_sdk.core.const import SCHEME_HTTP
from jdcloud_apim_sdk.core.credential import Credential
from jdcloud_apim_sdk.core.logger import ERROR, Logger
from jdcloud_apim_sdk.core.signer import Signer
from jdcloud_apim_sdk.simpleclient import SimpleClient
from jdcloud_apim_sdk.simplerequest import SimpleRequest

from qinggan import Analyzer
from qinggan.config import Settings
from qinggan.service.app import create_app
from qinggan.service.apps import App
from qinggan.service.dialects import jd
from qinggan.service.store import AppStore

from .support import assert_ranked

pytestmark = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning"
)

README = Path(__file__).resolve().parents[3] / "README.md"
#: JD's V2 example conversation (the seed's), and what it should come out as
SERIES = ["货还没送到", "货还没收到", "他妈这个厂家真不是人来的", "还是纠纷那个单", "都投诉N次了"]
QUIET = Logger(ERROR)  # the SDK prints every request and its headers at its default level


def _add_app(db_url: str, **limits: Any) -> App:
    store = AppStore(db_url)
    try:
        return store.add_app("jd-sdk", dialects=["jd"], **{"daily_quota": 100, "rps": 0, **limits})
    finally:
        store.close()


def _usage(db_url: str, app_id: str) -> int:
    store = AppStore(db_url)
    try:
        return store.usage(app_id)
    finally:
        store.close()


@pytest.fixture
def app(live_server: Any) -> App:
    return _add_app(live_server.db_url)


def _sdk(base_url: str, app_id: str, secret: str) -> SimpleClient:
    config = Config(endpoint=base_url.removeprefix("http://"), scheme=SCHEME_HTTP, timeout=10)
    return SimpleClient(config, Credential(app_id, secret), logger=QUIET)


def test_jd_sdk_unmodified_calls_every_path(live_server: Any, app: App) -> None:
    client = _sdk(live_server.base_url, app.app_id, app.secret)
    calls = [
        ("/jdai/sentiment", {"type": 1, "text": "房间很干净，服务也周到"}),
        ("/jdai/sentimentV2", {"type": 3, "text": "周三了，怎么还没有到货啊"}),
        ("/jdai/sentimentSeries", {"type": 0, "texts": SERIES}),
    ]
    answers = []
    for path, body in calls:
        response = client.send(SimpleRequest(path, "POST", body=body))
        # the SDK signed with headers, not the query form
        assert response.request.headers["Authorization"].startswith("JDCLOUD2-HMAC-SHA256 ")
        assert "?" not in response.request.url and "x-jdcloud-nonce" in response.request.headers
        assert response.status_code == 200, response.text
        answers.append(response.json())
    for remain, answer in zip((99, 98, 97), answers, strict=True):
        assert answer["code"] == "10000" and answer["msg"] == "查询成功", answer
        assert answer["charge"] is True and answer["remain"] == remain
        assert answer["result"]["status"] == 0 and answer["result"]["message"] == "ok"
        assert len(answer["result"]["request_id"]) == 36
    v1, v2, series = (answer["result"]["sentiment"] for answer in answers)
    assert v1[0]["sentiment"] == "positive"
    assert {item["sentiment"] for item in v1} == {"positive", "negative", "other"}
    assert all(set(item) == {"sentiment", "probability"} for item in v1)
    assert_ranked([item["probability"] for item in v1])
    assert v2[0]["sentiment"] == "anxiety" and len(v2) == 7
    assert sorted(level["degree"] for level in v2[0]["levelList"]) == [0, 1, 2, 3]
    assert all(item["levelList"] == [] and item["optional"] == {} for item in v2[1:])
    assert {item["sentiment"] for item in series} == {"turn_good", "turn_bad", "keep_smooth"}
    assert series[0]["sentiment"] == "turn_bad"
    assert_ranked([item["probability"] for item in series])
    assert _usage(live_server.db_url, app.app_id) == 3


# -- refusals ---------------------------------------------------------------------------------


def sign(
    app_id: str,
    secret: str,
    url: str,
    body: bytes,
    *,
    when: float | None = None,
    nonce: str | None = None,
    region: str = "jdcloud-api",
    service: str = "simpleclient",
) -> dict[str, str]:
    """The headers of a POST signed by the steps of the module docstring of ``jd`` and the
    README (written here again, independently of the server's code)."""
    parsed = httpx.URL(url)
    date = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    stamp = date.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/json",
        "host": parsed.netloc.decode(),
        "x-jdcloud-date": stamp,
        "x-jdcloud-nonce": nonce or str(uuid.uuid4()),
    }
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            parsed.path,
            "",
            "".join(f"{name}:{headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/jdcloud2_request"
    to_sign = "\n".join(
        ["JDCLOUD2-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = b"JDCLOUD2" + secret.encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"JDCLOUD2-HMAC-SHA256 Credential={app_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    del headers["host"]  # sent by the client itself
    return headers


def sdk_sign(app: App, url: str, body: bytes) -> dict[str, str]:
    """The headers JD's SDK signer puts on a POST of ``body`` (its own clock and nonce)."""
    headers = {"Content-Type": "application/json"}
    Signer(QUIET).sign(
        method="POST",
        service="simpleclient",
        region="jdcloud-api",
        uri=url,
        headers=headers,
        data=body.decode(),
        credential=Credential(app.app_id, app.secret),
        security_token="",
    )
    return headers


def _post(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    raw = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
    response = httpx.post(url, content=body, headers=raw, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _refused(answer: dict[str, Any], code: str) -> None:
    messages = {c: m for c, m in jd.HEADER_CODES.values()} | {"10001": "错误的请求appkey"}
    assert answer == {"code": code, "charge": False, "msg": messages[code]}


def test_jd_sdk_signer_and_the_documented_steps_agree(live_server: Any, app: App) -> None:
    url = f"{live_server.base_url}/jdai/sentiment"
    body = json.dumps({"type": 1, "text": "太差了"}).encode()
    by_sdk = sdk_sign(app, url, body)
    stamp = datetime.strptime(by_sdk["x-jdcloud-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = sign(
        app.app_id, app.secret, url, body, when=stamp.timestamp(), nonce=by_sdk["x-jdcloud-nonce"]
    )
    assert ours["authorization"] == by_sdk["Authorization"]
    assert _post(url, body, ours)["code"] == "10000"


Mutate = Callable[[App, str, bytes], tuple[bytes, dict[str, str]]]


def _flip_signature(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = sdk_sign(app, url, body)
    last = headers["Authorization"][-1]
    headers["Authorization"] = headers["Authorization"][:-1] + ("0" if last != "0" else "1")
    return body, headers


def _other_body(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    return body.replace(b'"type": 1', b'"type": 3'), sdk_sign(app, url, body)


def _drop(name: str) -> Mutate:
    def mutate(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
        headers = sdk_sign(app, url, body)
        del headers[name]
        return body, headers

    return mutate


def _signed(*, app_id: str = "", secret: str = "", offset_s: float = 0) -> Mutate:
    def mutate(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
        when = time.time() + offset_s
        return body, sign(app_id or app.app_id, secret or app.secret, url, body, when=when)

    return mutate


def _content_hash(value: str) -> Mutate:
    def mutate(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
        return body, {**sign(app.app_id, app.secret, url, body), "x-jdcloud-content-sha256": value}

    return mutate


def _edit(header: str, old: str, new: str) -> Mutate:
    def mutate(app: App, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
        headers = sign(app.app_id, app.secret, url, body)
        assert old in headers[header]
        headers[header] = headers[header].replace(old, new)
        return body, headers

    return mutate


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (_flip_signature, "10047"),
        (_other_body, "10047"),
        (_signed(secret="not-the-secret"), "10047"),
        (_signed(offset_s=-400), "10045"),  # older than the 300 s window
        (_signed(offset_s=400), "10045"),
        (_drop("x-jdcloud-nonce"), "10042"),
        (_drop("x-jdcloud-date"), "10042"),
        (_drop("Authorization"), "10042"),
        (_edit("authorization", ", Signature=", ", Sig="), "10042"),
        (_edit("x-jdcloud-date", "T", "-"), "10046"),
        (_edit("authorization", ";x-jdcloud-nonce,", ","), "10047"),  # nonce left unsigned
        (_edit("authorization", "/jdcloud2_request", "/aws4_request"), "10047"),
        (_edit("authorization", "JDCLOUD2-HMAC-SHA256 ", "JDCLOUD3-HMAC-SHA256 "), "10047"),
        (_signed(app_id="nosuchapp"), "10001"),
        (_signed(app_id="a\tb"), "10001"),
        (_content_hash(hashlib.sha256(b"another body").hexdigest()), "10047"),
        (_content_hash("é"), "10047"),
    ],
    ids=[
        "tampered-signature", "tampered-body", "wrong-secret", "stale-date", "future-date",
        "no-nonce", "no-date", "no-authorization", "no-signature-field", "bad-date",
        "nonce-not-signed", "wrong-scope-end", "other-algorithm", "unknown-key", "control-key",
        "wrong-content-hash", "non-ascii-content-hash",
    ],
)  # fmt: skip
def test_jd_header_signature_refused_and_not_charged(
    live_server: Any, app: App, mutate: Mutate, code: str
) -> None:
    url = f"{live_server.base_url}/jdai/sentimentV2"
    body, headers = mutate(app, url, json.dumps({"type": 1, "text": "太差了"}).encode())
    _refused(_post(url, body, headers), code)
    assert _usage(live_server.db_url, app.app_id) == 0


def test_jd_replayed_nonce_refused_and_not_charged(live_server: Any, app: App) -> None:
    url = f"{live_server.base_url}/jdai/sentimentSeries"
    body = json.dumps({"type": 0, "texts": SERIES}).encode()
    headers = sdk_sign(app, url, body)
    first = _post(url, body, headers)
    assert first["code"] == "10000" and first["remain"] == 99
    for _ in range(2):
        _refused(_post(url, body, headers), "10049")
    assert _usage(live_server.db_url, app.app_id) == 1
    # the same nonce from another app is not a replay of this one's
    other = _add_app(live_server.db_url)
    nonce = headers["x-jdcloud-nonce"]
    again = sign(other.app_id, other.secret, url, body, nonce=nonce)
    assert _post(url, body, again)["code"] == "10000"


def test_jd_both_auth_forms_on_every_path(live_server: Any, app: App) -> None:
    body = json.dumps({"type": 0, "texts": SERIES[:2]}).encode()
    for path in ("/jdai/sentiment", "/jdai/sentimentV2", "/jdai/sentimentSeries"):
        url = f"{live_server.base_url}{path}"
        payload = body if path.endswith("Series") else b'{"type": 5, "text": "hi"}'
        assert _post(url, payload, sign(app.app_id, app.secret, url, payload))["code"] == "10000"
        stamp = str(int(time.time() * 1000))
        query = f"?appkey={app.app_id}&timestamp={stamp}&sign="
        query += hashlib.md5((app.secret + stamp).encode()).hexdigest()
        assert _post(url + query, payload, {})["code"] == "10000"
    # jdcloud-sdk-core (JD's other SDK core) also sends the body's hash in a header
    url = f"{live_server.base_url}/jdai/sentiment"
    payload = b'{"type": 1, "text": "hi"}'
    hashed = _content_hash(hashlib.sha256(payload).hexdigest())(app, url, payload)[1]
    assert _post(url, payload, hashed)["code"] == "10000"
    assert _usage(live_server.db_url, app.app_id) == 7


@pytest.fixture
def jd_client(tiny_analyzer: Analyzer, any_store: AppStore) -> Any:
    """The JD dialect in process, on SQLite and on PostgreSQL."""
    settings_ = Settings(db_url=str(any_store.engine.url))
    with TestClient(create_app(settings_, tiny_analyzer, any_store)) as client:
        yield client, any_store.add_app("jd-in-process", dialects=["jd"], daily_quota=10, rps=0)


def test_jd_header_signature_on_both_stores(jd_client: Any) -> None:
    client, app = jd_client
    body = b'{"type": 0, "texts": ["hi", "ok"]}'
    headers = sign(app.app_id, app.secret, "http://testserver/jdai/sentimentSeries", body)
    first = client.post("/jdai/sentimentSeries", content=body, headers=headers).json()
    assert first["code"] == "10000" and first["remain"] == 9
    replay = client.post("/jdai/sentimentSeries", content=body, headers=headers).json()
    assert replay == {"code": "10049", "charge": False, "msg": jd.HEADER_CODES["replayed_nonce"][1]}


@pytest.mark.parametrize("appkey", ["\x00", "a\x00b", "x" * 65, "中文"])
def test_jd_appkey_with_control_characters_is_unknown(jd_client: Any, appkey: str) -> None:
    client, app = jd_client
    stamp = str(int(time.time() * 1000))
    sign_ = hashlib.md5((app.secret + stamp).encode()).hexdigest()
    query = {"appkey": appkey, "timestamp": stamp, "sign": sign_}
    response = client.post("/jdai/sentiment", params=query, json={"type": 1, "text": "好"})
    assert response.status_code == 200
    assert response.json() == {"code": "10001", "charge": False, "msg": "错误的请求appkey"}
    body = b'{"type": 1, "text": "hi"}'
    headers = sign(app.app_id, app.secret, "http://testserver/jdai/sentiment", body)
    headers["authorization"] = headers["authorization"].replace(app.app_id, appkey)
    raw = {name.encode(): value.encode() for name, value in headers.items()}  # UTF-8 as it is
    signed = client.post("/jdai/sentiment", content=body, headers=raw)
    assert signed.json()["code"] == "10001"


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    authorization=st.one_of(
        _HEADER_TEXT,
        st.builds(lambda rest: f"JDCLOUD2-HMAC-SHA256 {rest}", _HEADER_TEXT),
        st.builds(
            lambda key, scope, names, sig: (
                f"JDCLOUD2-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, "
                f"Signature={sig}"
            ),
            _HEADER_TEXT, _HEADER_TEXT, _HEADER_TEXT, _HEADER_TEXT,
        ),
    ),
    date=st.one_of(_HEADER_TEXT, st.from_regex(r"\A[0-9]{8}T[0-9]{6}Z\Z")),
    nonce=_HEADER_TEXT,
    content_hash=st.none() | _HEADER_TEXT,
)  # fmt: skip
def test_jd_header_signature_fuzz_never_fails_or_charges(
    dialect_client: TestClient,
    authorization: str,
    date: str,
    nonce: str,
    content_hash: str | None,
) -> None:
    headers = {"Authorization": authorization, "x-jdcloud-date": date, "x-jdcloud-nonce": nonce}
    if content_hash is not None:
        headers["x-jdcloud-content-sha256"] = content_hash
    raw = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
    response = dialect_client.post(
        "/jdai/sentimentV2", content=b'{"type": 3, "text": "hi"}', headers=raw
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["charge"] is False and "result" not in answer
    assert answer["code"] in {"10001", "10042", "10045", "10046", "10047"}


# -- the README's example ---------------------------------------------------------------------


def _readme_example() -> tuple[str, list[tuple[str, str]]]:
    """The README's "A signed JD request" section and its code blocks (info string, text)."""
    text = README.read_text("utf-8")
    section = text[text.index("### A signed JD request") :]
    section = section[: section.index("\n### ", 10)]
    return section, re.findall(r"```(\w+)\n(.*?)\n```", section, flags=re.S)


def test_jd_readme_signed_example_runs(live_server: Any, app: App) -> None:
    section, blocks = _readme_example()
    [python] = [code for kind, code in blocks if kind == "python"]
    [http] = [code for kind, code in blocks if kind == "http"]
    canonical, to_sign = [code for kind, code in blocks if kind == "text"]
    namespace: dict[str, Any] = {}
    exec(compile(python, "README.md", "exec"), namespace)  # the documented code, as it is
    authorization = namespace["jd_authorization"]
    head, _, body_text = http.partition("\n\n")
    request_line, *header_lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    body = body_text.encode()
    found = re.search(r"app `(\w+)` and secret `([\w-]+)`", section)
    assert found is not None
    app_id, secret = found.groups()
    # every documented value follows from the ones before it
    assert request_line == "POST /jdai/sentiment HTTP/1.1"
    assert canonical.splitlines()[-1] == hashlib.sha256(body).hexdigest()
    assert to_sign.splitlines()[-1] == hashlib.sha256(canonical.encode()).hexdigest()
    key = b"JDCLOUD2" + secret.encode()
    for step in to_sign.splitlines()[2].split("/"):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    assert headers["Authorization"].endswith(f", Signature={signature}")
    documented = authorization(
        app_id, secret, headers["Host"], "/jdai/sentiment", body,
        headers["x-jdcloud-date"], headers["x-jdcloud-nonce"],
    )  # fmt: skip
    assert documented == headers["Authorization"]
    # the same request by the same code, for this app and now: the server answers it
    host = live_server.base_url.removeprefix("http://")
    date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    nonce = str(uuid.uuid4())
    signed = {
        "Content-Type": headers["Content-Type"],
        "x-jdcloud-date": date,
        "x-jdcloud-nonce": nonce,
        "Authorization": authorization(
            app.app_id, app.secret, host, "/jdai/sentiment", body, date, nonce
        ),
    }
    answer = _post(f"{live_server.base_url}/jdai/sentiment", body, signed)
    assert answer["code"] == "10000" and answer["charge"] is True and answer["remain"] == 99
    assert answer["result"]["sentiment"][0]["sentiment"] == "positive"


# -- the nonce cache ----------------------------------------------------------------------------


def test_jd_nonce_cache_expires_and_stays_bounded() -> None:
    now = [1000.0]
    cache = jd.NonceCache(max_size=3, clock=lambda: now[0])
    assert cache.remember("a", "n1", 1300) is None
    assert cache.remember("a", "n1", 1300) == "replayed"
    assert cache.remember("b", "n1", 1300) is None  # per app
    now[0] = 1300.0  # n1 of both apps expired
    assert cache.remember("a", "n1", 1600) is None and len(cache) == 1
    for i, expiry in enumerate((1400, 1500, 1700)):
        assert cache.remember("a", f"m{i}", expiry) is None
    # full: the entry nearest to expiry (1400) was forgotten, so nothing expiring by then passes
    assert len(cache) == 3
    assert cache.remember("a", "m0", 1400) == "stale"
    assert cache.remember("a", "new", 1350) == "stale"
    assert cache.remember("a", "m1", 1500) == "replayed"


def test_jd_nonce_cache_is_thread_safe() -> None:
    cache = jd.NonceCache()
    expiry = time.time() + 300
    results: list[str | None] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for i in range(500):
            results.append(cache.remember("app", f"n{i}", expiry))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 500 and results.count("replayed") == 3500
