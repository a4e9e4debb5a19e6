"""Fuzz run of the HTTP service: malformed requests on every route, and never a 5xx.

    python -m benchmarks.service_fuzz                      # 20,000 requests, seed 20250301
    python -m benchmarks.service_fuzz --requests 20000 --seed 7

Starts ``qinggan serve`` (one worker, so that its ``/metrics`` see every request) on 127.0.0.1
with a temporary SQLite database holding an app allowed on every dialect (high quota and rate),
then sends ``--requests`` requests from a seeded generator over raw keep-alive HTTP/1.1 sockets
(so that any byte can be sent): for each, a target (the native API, the JD, Jumdata, iFlytek and
WeCom paths, unknown paths under their prefixes) and a valid request for it, then one to three
mutations: random bytes, bad JSON, wrong types, missing and extra fields, huge and empty texts,
invalid UTF-8 and lone surrogates, bad or missing signatures, keys and timestamps (stale, not a
number, huge), wrong methods and content types, bad percent-escapes, bodies over the size limit.
A few requests (about 3 %) go unmutated, to show the server still answers properly meanwhile.

A failure is any of: an HTTP 5xx; a body carrying a dialect's "internal failure" code (JD
``10020``, Jumdata ``500``, iFlytek ``10700``, WeCom ``-1``, native ``internal``), since the
dialects answer errors with HTTP 200; an ``internal`` error counted by the server's metrics; a
dropped connection. Counts by status, target and mutation go to
``benchmarks/results/service_fuzz.json`` (``--out``); the exit status is 1 on any failure.
Bounded: loopback only, ``--max-seconds`` (default 600) stops it early.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import md5, sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from benchmarks.service_load import ROOT, Server, load_average, uptime_line

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "service_fuzz.json"
TEXT = "房间很干净，服务也周到"
INTERNAL_CODES = {"jd": "10020", "jumdata": 500, "iflytek": "10700", "wecom": -1}
METHODS = ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO")


@dataclass
class Req:
    """One request as bytes on the wire (built, then mutated)."""

    target: str
    dialect: str
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    mutations: list[str] = field(default_factory=list)
    raw: bytes | None = None  # a whole malformed request line/head, sent as is

    def wire(self, port: int) -> bytes:
        if self.raw is not None:
            return self.raw
        target = self.path + ("?" + self.query if self.query else "")
        lines = [f"{self.method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        headers = dict(self.headers)
        body = self.body
        if headers.get("Transfer-Encoding") == "chunked":
            step = 65536
            body = b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + step]), body[i : i + step])
                for i in range(0, len(body), step)
            )
            body += b"0\r\n\r\n"
        else:
            headers["Content-Length"] = str(len(body))  # always the true length
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("utf-8", "surrogateescape") + body


# -- valid requests -----------------------------------------------------------------------------
class Valid:
    """Builds a correct request for each target with the app's real credentials."""

    def __init__(self, app_id: str, secret: str, token: str) -> None:
        self.app_id, self.secret, self.token = app_id, secret, token

    def native(self, path: str, rng: random.Random) -> Req:
        body: dict[str, Any]
        if path.endswith("/trend"):
            body = {"texts": [TEXT, "太差了"], "customer_speakers": ["c"]}
            body = {"turns": [{"text": TEXT, "speaker": "c"}]} if rng.random() < 0.5 else body
        elif path.endswith("/archive/import"):
            body = {"messages": [{"msgid": "m1", "msgtype": "text", "text": {"content": TEXT}}]}
        else:
            body = {"text": TEXT} if rng.random() < 0.6 else {"texts": [TEXT, "太差了"]}
            if path.endswith("/emotions"):
                body["classes"] = rng.choice([7, 8])
            if path.endswith("/dialogue-emotion"):
                body["scene"] = rng.choice(["default", "talk", "task", "customer_service"])
        return Req(
            "native " + path,
            "native",
            "POST",
            path,
            headers={
                "Content-Type": "application/json",
                "X-API-Key": f"{self.app_id}:{self.secret}",
            },
            body=json.dumps(body, ensure_ascii=False).encode(),
        )

    def jd(self, path: str, rng: random.Random) -> Req:
        stamp = str(int(time.time() * 1000))
        sign = md5((self.secret + stamp).encode()).hexdigest()
        if path.endswith("Series"):
            body: dict[str, Any] = {"type": 0, "texts": [TEXT, "太差了"]}
        else:
            body = {"type": rng.choice([1, 3, 5]), "text": TEXT}
        return Req(
            "jd " + path,
            "jd",
            "POST",
            path,
            query=urlencode({"appkey": self.app_id, "timestamp": stamp, "sign": sign}),
            headers={"Content-Type": "application/json"},
            body=json.dumps(body, ensure_ascii=False).encode(),
        )

    def jumdata(self, path: str, rng: random.Random) -> Req:
        stamp = str(int(time.time() * 1000))
        sign = sha256((self.app_id + self.secret + stamp).encode()).hexdigest()
        form = {"appId": self.app_id, "timestamp": stamp, "sign": sign, "text": TEXT}
        if path.endswith("discern"):
            form["scene"] = rng.choice(["default", "talk", "task", "customer_service", ""])
        return Req(
            "jumdata " + path,
            "jumdata",
            "POST",
            path,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(form).encode(),
        )

    def iflytek(self, path: str, rng: random.Random) -> Req:
        cur = str(int(time.time()))
        param = base64.b64encode(json.dumps({"type": "dependent"}).encode()).decode()
        checksum = md5((self.secret + cur + param).encode()).hexdigest()
        return Req(
            "iflytek " + path,
            "iflytek",
            "POST",
            path,
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "X-Appid": self.app_id,
                "X-CurTime": cur,
                "X-Param": param,
                "X-CheckSum": checksum,
            },
            body=urlencode({"text": TEXT}).encode(),
        )

    def wecom(self, path: str, rng: random.Random) -> Req:
        if path.endswith("gettoken"):
            query = urlencode({"corpid": self.app_id, "corpsecret": self.secret})
            return Req("wecom " + path, "wecom", "GET", path, query=query)
        if path.endswith("create_sentiment_task"):
            item = {"msgid": f"m{rng.randrange(10**6)}", "encrypt_info": {"secret_key": "k"}}
            body: dict[str, Any] = {"msg_list": [item]}
        else:
            body = {"jobid": f"job{rng.randrange(10**6)}"}
        return Req(
            "wecom " + path,
            "wecom",
            "POST",
            path,
            query=urlencode({"access_token": self.token}),
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode(),
        )


TARGETS: list[tuple[str, str]] = [
    ("native", "/api/v1/polarity"),
    ("native", "/api/v1/emotions"),
    ("native", "/api/v1/dialogue-emotion"),
    ("native", "/api/v1/trend"),
    ("native", "/api/v1/archive/import"),
    ("native", "/api/v1/nope"),
    ("jd", "/jdai/sentiment"),
    ("jd", "/jdai/sentimentV2"),
    ("jd", "/jdai/sentimentSeries"),
    ("jd", "/jdai/nope"),
    ("jumdata", "/text-analysi/sentiment/analysis"),
    ("jumdata", "/text-analysi/emotion/discern"),
    ("jumdata", "/text-analysi/nope"),
    ("iflytek", "/v1/sa"),
    ("wecom", "/cgi-bin/gettoken"),
    ("wecom", "/cgi-bin/chatdata/create_sentiment_task"),
    ("wecom", "/cgi-bin/chatdata/get_sentiment_result"),
    ("wecom", "/cgi-bin/nope"),
]


# -- mutations ----------------------------------------------------------------------------------
def _junk_text(rng: random.Random) -> Any:
    return rng.choice(
        [
            "",
            " ",
            "\u3000\t\n",
            "\x00\x01\x02",
            "\ud800",
            "a" * rng.choice([501, 513, 2049, 10_001, 60_000]),
            "好" * rng.choice([171, 683, 3334, 20_000]),
            "\u202e\ufeff\u200b",
            "😀" * 200,
            12345,
            -1.5e308,
            True,
            None,
            [],
            [TEXT],
            {"text": TEXT},
            [[[]]],
            "\\u0000",
        ]
    )


def _junk_value(rng: random.Random) -> Any:
    return rng.choice(
        [None, 0, -1, 2**70, 1.5, float("inf"), True, "", "x", [], {}, [1, 2], {"a": None}]
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _decode_body(req: Req) -> dict[str, Any] | None:
    try:
        value = json.loads(req.body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def m_random_bytes(req: Req, rng: random.Random) -> None:
    req.body = rng.randbytes(rng.choice([1, 7, 64, 1000, 5000]))


def m_bad_json(req: Req, rng: random.Random) -> None:
    req.body = rng.choice(
        [
            b"{",
            b'{"text": ',
            b'{"text": "\xff\xfe"}',
            b"[1, 2, 3]",
            b'"just a string"',
            b"null",
            b"NaN",
            b'{"text": NaN}',
            b'{"text": "a", "text": 3}',
            b"{'text': 'single quotes'}",
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"text": "\\ud800\\udc00\\ud800"}',
            b'{"texts": ' + b"1" * 5000 + b"}",
            b"",
            b"\x00" * 32,
            req.body[: max(1, len(req.body) // 2)],
        ]
    )


def m_wrong_types(req: Req, rng: random.Random) -> None:
    body = _decode_body(req)
    if body is None:
        m_bad_json(req, rng)
        return
    for key in list(body) or ["text"]:
        if rng.random() < 0.7:
            body[key] = _junk_value(rng) if rng.random() < 0.5 else _junk_text(rng)
    req.body = _json_bytes(body)


def m_missing_extra(req: Req, rng: random.Random) -> None:
    body = _decode_body(req)
    if body is None:  # a form: drop or add fields
        pairs = [p for p in req.body.split(b"&") if p]
        rng.shuffle(pairs)
        pairs = pairs[: rng.randrange(len(pairs) + 1)]
        pairs.append(b"extra=%s" % quote(str(_junk_value(rng))).encode())
        req.body = b"&".join(pairs)
        return
    for key in list(body):
        if rng.random() < 0.5:
            del body[key]
    body[rng.choice(["extra", "text2", "__proto__", "type", "texts", "classes"])] = _junk_value(rng)
    req.body = _json_bytes(body)


def m_texts(req: Req, rng: random.Random) -> None:
    body = _decode_body(req)
    if body is None:  # a form
        text = _junk_text(rng)
        value = text if isinstance(text, str) else json.dumps(text)
        encoded = quote(value.encode("utf-8", "surrogatepass"))
        req.body = re.sub(rb"text=[^&]*", b"text=" + encoded.encode(), req.body) or req.body
        return
    if "texts" in body or rng.random() < 0.3:
        body["texts"] = rng.choice(
            [[], [""] * 3, [TEXT] * rng.choice([101, 500, 2000]), [_junk_text(rng)] * 3]
        )
    if "turns" in body:
        body["turns"] = rng.choice([[], [{"speaker": "c"}], [{"text": _junk_text(rng)}], "x"])
    if "text" in body or rng.random() < 0.3:
        body["text"] = _junk_text(rng)
    req.body = _json_bytes(body)


def m_bad_encoding(req: Req, rng: random.Random) -> None:
    req.body = rng.choice(
        [
            req.body.replace("房".encode(), b"\xff\xfe"),
            "房间很干净".encode("gbk") + req.body,
            req.body + b"\xc3\x28",
            b"text=%FF%FE&" + req.body,
            b"text=%ZZ%&" + req.body,
            req.body.decode("utf-8", "replace").encode("utf-16"),
            b'{"text": "\xed\xa0\x80"}',
        ]
    )


def m_credentials(req: Req, rng: random.Random) -> None:
    if req.dialect == "native":
        choice = rng.choice(
            ["drop", "nocolon", "unknown", "wrongsecret", "empty", "colons", "unicode"]
        )
        key = req.headers.get("X-API-Key", "a:b")
        app_id, _, secret = key.partition(":")
        value = {
            "drop": None,
            "nocolon": app_id,
            "unknown": f"{'0' * 16}:{secret}",
            "wrongsecret": f"{app_id}:{secret[::-1]}",
            "empty": "",
            "colons": ":::",
            "unicode": f"{app_id}:密钥\udcff",
        }[choice]
        if value is None:
            req.headers.pop("X-API-Key", None)
        else:
            req.headers["X-API-Key"] = value
    elif req.dialect == "iflytek":
        name = rng.choice(["X-Appid", "X-CurTime", "X-Param", "X-CheckSum"])
        req.headers[name] = rng.choice(
            ["", "0", "-1", "abc", "1" * 40, "ZZZZ", "e30=", "bnVsbA==", "W10=", "\u00e9"]
        )
        if rng.random() < 0.3:
            req.headers.pop(name, None)
    elif req.dialect == "jumdata":
        text = req.body.decode("latin-1")
        pairs = dict(p.split("=", 1) for p in text.split("&") if "=" in p)
        name = rng.choice(["appId", "timestamp", "sign"])
        pairs[name] = quote(rng.choice(["", "0", "x", "f" * 64, "F" * 63, "1" * 40, "-5"]))
        if rng.random() < 0.3:
            pairs.pop(name)
        req.body = "&".join(f"{k}={v}" for k, v in pairs.items()).encode("latin-1")
    else:  # jd and wecom carry credentials in the query
        names = ["appkey", "timestamp", "sign"] if req.dialect == "jd" else ["access_token"]
        names += ["corpid", "corpsecret"] if req.path.endswith("gettoken") else []
        pairs = dict(p.split("=", 1) for p in req.query.split("&") if "=" in p)
        name = rng.choice(names)
        pairs[name] = quote(
            rng.choice(["", "0", "x", "a.b.c", "a.99999999999999999999.ff", "0" * 64, "%"])
        )
        if rng.random() < 0.3:
            pairs.pop(name, None)
        req.query = "&".join(f"{k}={v}" for k, v in pairs.items())


def m_timestamps(req: Req, rng: random.Random) -> None:
    now_ms = int(time.time() * 1000)
    value = str(
        rng.choice(
            [
                now_ms - 3_600_000,
                now_ms + 3_600_000,
                0,
                -1,
                10**40,
                "1e12",
                "12.5",
                " 123 ",
                "١٢٣٤",
                "",
                "9" * 400,
                now_ms // 1000,
            ]
        )
    )
    if req.dialect == "iflytek":
        req.headers["X-CurTime"] = value if value.isascii() else "abc"
    elif req.dialect == "jumdata":
        req.body = re.sub(rb"timestamp=[^&]*", b"timestamp=" + quote(value).encode(), req.body)
    elif req.dialect == "jd":
        req.query = re.sub(r"timestamp=[^&]*", "timestamp=" + quote(value), req.query)
    else:
        m_credentials(req, rng)


def m_method(req: Req, rng: random.Random) -> None:
    req.method = "POST" if req.method == "GET" else rng.choice(METHODS)
    if req.method == "HEAD":  # no body comes back: keep it simple, send none
        req.body = b""


def m_content_type(req: Req, rng: random.Random) -> None:
    choice = rng.choice(
        [
            None,
            "text/plain",
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "application/json; charset=latin-1",
            "application/vnd.api+json",
            "image/png",
            ";;;",
        ]
    )
    if choice is None:
        req.headers.pop("Content-Type", None)
    else:
        req.headers["Content-Type"] = choice


def m_query(req: Req, rng: random.Random) -> None:
    req.query = rng.choice(
        [
            req.query + "&" + req.query,
            req.query + "&%ZZ=%FF",
            "%",
            req.query + "&x=" + "y" * 6000,
            "appkey&timestamp&sign",
            req.query.replace("=", "=%00", 1),
            "",
        ]
    )


def m_oversize(req: Req, rng: random.Random) -> None:
    size = rng.choice([(1 << 20) + 1, 1 << 21])
    req.body = b'{"text": "' + b"a" * size + b'"}'
    # chunked, the server cannot refuse it by the declared length: it must count while reading
    req.headers["Transfer-Encoding" if rng.random() < 0.5 else "X-Not-Chunked"] = "chunked"


def m_raw(req: Req, rng: random.Random) -> None:
    req.raw = raw = rng.choice(
        [
            b"GARBAGE\r\n\r\n",
            b"POST /api/v1/polarity HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            b"POST /api/v1/polarity HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /jdai/sentiment HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\n{}\r\n0\r\n\r\n",
            b"POST /v1/sa HTTP/1.1\r\nHost: x\r\nX-Appid: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
            b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/v1/polarity HTTP/9.9\r\nHost: x\r\n\r\n",
        ]
    )
    # a raw request goes to a path of its own: label it by that path
    path = raw.split(b" ")[1] if raw.count(b" ") >= 2 else b""
    prefixes = {b"/jdai/": "jd", b"/v1/sa": "iflytek", b"/api/v1/": "native"}
    req.dialect = next((d for pre, d in prefixes.items() if path.startswith(pre)), "raw")
    req.target = "raw " + path.decode("latin-1")


MUTATIONS: dict[str, Callable[[Req, random.Random], None]] = {
    "random_bytes": m_random_bytes,
    "bad_json": m_bad_json,
    "wrong_types": m_wrong_types,
    "missing_extra_fields": m_missing_extra,
    "huge_empty_texts": m_texts,
    "bad_encoding": m_bad_encoding,
    "credentials": m_credentials,
    "timestamps": m_timestamps,
    "method": m_method,
    "content_type": m_content_type,
    "query": m_query,
    "oversize_body": m_oversize,
    "raw_http": m_raw,
}
WEIGHTS = {name: 1.0 for name in MUTATIONS} | {"oversize_body": 0.05, "raw_http": 0.1}


def make_request(valid: Valid, rng: random.Random) -> Req:
    dialect, path = rng.choice(TARGETS)
    req: Req = getattr(valid, dialect)(path, rng)
    if rng.random() < 0.03:
        req.mutations.append("none")
        return req
    names = list(MUTATIONS)
    weights = [WEIGHTS[n] for n in names]
    for name in rng.choices(names, weights, k=rng.choice([1, 1, 2, 3])):
        MUTATIONS[name](req, rng)
        req.mutations.append(name)
    return req


# -- the client ---------------------------------------------------------------------------------
class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def send(self, req: Req) -> tuple[int, bytes, bool]:
        """(status, body, connection closed by the server); status 0: no answer at all."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None and self.writer is not None
        self.writer.write(req.wire(self.port))
        await self.writer.drain()
        status_line = await asyncio.wait_for(self.reader.readline(), 30)
        if not status_line:
            await self.close()
            return 0, b"", True
        parts = status_line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        length, chunked, closing = None, False, False
        while True:
            line = await asyncio.wait_for(self.reader.readline(), 30)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                closing = True
        if req.method == "HEAD" or status in (204, 304):
            body = b""
        elif chunked:
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(chunks)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await asyncio.wait_for(self.reader.read(), 30)
            closing = True
        if closing or req.raw is not None:
            await self.close()
        return status, body, closing


def answer_code(dialect: str, body: bytes) -> str:
    """The dialect's own code in the answer (``jd:10047``, ``native:bad_json``, ...)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return f"{dialect}:not_json"
    if not isinstance(parsed, dict):
        return f"{dialect}:other"
    if dialect == "native":
        error = parsed.get("error")
        return f"native:{error.get('code')}" if isinstance(error, dict) else "native:ok"
    key = "errcode" if dialect == "wecom" else "code"
    return f"{dialect}:{parsed.get(key)}"


def internal_code(dialect: str, status: int, body: bytes) -> bool:
    """True when the answer is the dialect's 'unexpected server failure'."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(parsed, dict):
        return False
    if isinstance(parsed.get("error"), dict) and parsed["error"].get("code") == "internal":
        return True
    if dialect not in INTERNAL_CODES:
        return False
    key = "errcode" if dialect == "wecom" else "code"
    return bool(parsed.get(key) == INTERNAL_CODES[dialect])


async def fuzz(
    port: int, valid: Valid, total: int, seed: int, concurrency: int, max_seconds: float
) -> dict[str, Any]:
    rng = random.Random(seed)
    requests = [make_request(valid, rng) for _ in range(total)]
    by_status: Counter[str] = Counter()
    by_target: dict[str, Counter[str]] = {}
    by_mutation: dict[str, Counter[str]] = {}
    by_code: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    dropped = 0
    sent = 0
    deadline = time.monotonic() + max_seconds
    queue: asyncio.Queue[Req] = asyncio.Queue()
    for req in requests:
        queue.put_nowait(req)

    async def worker() -> None:
        nonlocal dropped, sent
        conn = Conn(port)
        previous: Req | None = None
        try:
            while not queue.empty() and time.monotonic() < deadline:
                req = queue.get_nowait()
                try:
                    status, body, _ = await conn.send(req)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    await conn.close()
                    status, body = 0, repr(exc).encode()
                sent += 1
                label = str(status) if status else "no_answer"
                # a malformed request line may be refused by the HTTP parser, which closes
                # the connection: that is an answer of its own, not a server failure
                if status == 0 and req.raw is not None:
                    label = "closed_by_parser"
                by_status[label] += 1
                by_target.setdefault(req.target, Counter())[label] += 1
                if status:
                    by_code[answer_code(req.dialect, body)] += 1
                for name in req.mutations:
                    by_mutation.setdefault(name, Counter())[label] += 1
                failed = status >= 500 or internal_code(req.dialect, status, body)
                if status == 0 and req.raw is None:
                    dropped += 1
                    failed = True
                if failed and len(failures) < 50:
                    failures.append(
                        {
                            "target": req.target,
                            "method": req.method,
                            "mutations": req.mutations,
                            "status": status,
                            "answer": body[:300].decode("utf-8", "replace"),
                            "previous_on_connection": None
                            if previous is None
                            else {
                                "target": previous.target,
                                "method": previous.method,
                                "mutations": previous.mutations,
                                "headers": {
                                    k: v for k, v in previous.headers.items() if k != "X-API-Key"
                                },
                                "body_bytes": len(previous.body),
                            },
                        }
                    )
                previous = None if conn.writer is None else req
        finally:
            await conn.close()

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "sent": sent,
        "seconds": round(time.monotonic() - start, 1),
        "by_status": dict(sorted(by_status.items())),
        "by_target": {k: dict(sorted(v.items())) for k, v in sorted(by_target.items())},
        "by_mutation": {k: dict(sorted(v.items())) for k, v in sorted(by_mutation.items())},
        "by_answer_code": dict(sorted(by_code.items())),
        "dropped_connections": dropped,
        "failures": failures,
    }


def metrics_internal(base: str) -> tuple[int, int]:
    """(internal errors, 5xx answers) counted by the server's /metrics."""
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    internal = server_5xx = 0
    for line in text.splitlines():
        if line.startswith("qinggan_http_errors_total{") and 'code="internal"' in line:
            internal += int(float(line.rsplit(" ", 1)[1]))
        if line.startswith("qinggan_http_requests_total{") and re.search(r'status="5\d\d"', line):
            server_5xx += int(float(line.rsplit(" ", 1)[1]))
    return internal, server_5xx


def get_token(base: str, app_id: str, secret: str) -> str:
    import urllib.request

    query = urlencode({"corpid": app_id, "corpsecret": secret})
    with urllib.request.urlopen(f"{base}/cgi-bin/gettoken?{query}", timeout=10) as response:
        body = json.loads(response.read())
    if body.get("errcode") != 0:
        raise RuntimeError(f"no WeCom token: {body}")
    return str(body["access_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 200_000 or not 1 <= args.concurrency <= 128:
        parser.error("--requests must be 1-200000 and --concurrency 1-128")
    from qinggan.service.apps import DIALECTS
    from qinggan.service.store import AppStore

    uptime_before = uptime_line()
    with tempfile.TemporaryDirectory(prefix="qinggan-fuzz-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'fuzz.db'}"
        store = AppStore.open(db_url)
        try:
            app = store.add_app("fuzz", dialects=list(DIALECTS), daily_quota=10**12, rps=10**6)
        finally:
            store.close()
        log = Path(tmp) / "server.log"
        server = Server(1, db_url, log, None)
        try:
            server.wait_ready()
            valid = Valid(app.app_id, app.secret, get_token(server.base, app.app_id, app.secret))
            print(f"fuzzing {server.base} with {args.requests} requests (seed {args.seed})")
            result = asyncio.run(
                fuzz(
                    server.port, valid, args.requests, args.seed, args.concurrency, args.max_seconds
                )
            )
            internal, server_5xx = metrics_internal(server.base)
            alive = True
        except Exception:
            alive = False
            raise
        finally:
            server.stop()
            log_text = log.read_text(errors="replace") if log.exists() else ""
    unexpected_logged = len(re.findall(r"unexpected \w+ while serving", log_text))
    client_5xx = sum(n for status, n in result["by_status"].items() if status.startswith("5"))
    ok = (
        alive
        and client_5xx == 0
        and not result["failures"]
        and internal == 0
        and server_5xx == 0
        and unexpected_logged == 0
        and result["sent"] >= min(args.requests, 10_000)
    )
    out = {
        "benchmark": "service_fuzz",
        "seed": args.seed,
        "requested": args.requests,
        "concurrency": args.concurrency,
        "passed": ok,
        "http_5xx": client_5xx,
        "server_metrics_internal_errors": internal,
        "server_metrics_5xx": server_5xx,
        "server_log_unexpected_errors": unexpected_logged,
        **result,
        "machine": {"load_average_after": load_average(), "uptime_before": uptime_before},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"sent {result['sent']} in {result['seconds']} s; by status {result['by_status']}; "
        f"5xx {client_5xx}; internal (metrics) {internal}; dropped {result['dropped_connections']}"
    )
    print(("PASSED" if ok else "FAILED") + f"; wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
