"""JD NeuHub sentiment (``/jdai/sentiment``, ``/jdai/sentimentV2``, ``/jdai/sentimentSeries``).

Auth, either of two forms on every path (an app's ``app_id`` is the JD appkey / access key id and
its ``secret`` the secretkey / secret access key):

* **query signature** (the seed's V2 and series form): query ``appkey``, ``timestamp``
  (milliseconds, within ``Settings.timestamp_window_s`` of now, 5 minutes by default) and
  ``sign`` = md5(secretkey + timestamp) as hex (constant-time comparison; upper-case hex is
  accepted too: the digest is the same number).
* **JD Cloud header signature** (the seed's V1 form, what JD's SDKs send), used when the
  ``Authorization`` header starts with ``JDCLOUD2-HMAC-SHA256``, or when there is no ``appkey``
  in the query but an ``Authorization``, ``x-jdcloud-date`` or ``x-jdcloud-nonce`` header::

    Authorization: JDCLOUD2-HMAC-SHA256 Credential=<app_id>/<yyyymmdd>/<region>/<service>/
                   jdcloud2_request, SignedHeaders=<names;...>, Signature=<hex>
    x-jdcloud-date: <yyyymmddTHHMMSSZ, UTC>        x-jdcloud-nonce: <unique per request>

  The canonical request is ``METHOD\nURI\nQUERY\nHEADERS\nSIGNED\nsha256hex(body)``: URI is
  the path as sent, percent-encoded once more (``/`` kept); QUERY the raw query's ``&``-separated
  items, each cut at ``=`` into trimmed pieces, sorted, written ``name=value`` (``name=`` when
  there is no ``=``); HEADERS one ``name:value\n`` per name of SignedHeaders in its order (the
  value as received; ``host`` without a ``:80``/``:443`` port); SIGNED the SignedHeaders list.
  The string to sign is ``JDCLOUD2-HMAC-SHA256\n<x-jdcloud-date>\n<scope>\n`` +
  sha256hex(canonical request), where scope is the Credential after the app id; the signing key
  is HMAC-SHA256 chained from the key ``"JDCLOUD2" + secret`` over the scope's date, region,
  service and ``jdcloud2_request``; the signature is hex HMAC-SHA256(signing key, string to
  sign), compared in constant time. Any region and service are accepted (they are signed); the
  SignedHeaders must cover ``host``, ``x-jdcloud-date`` and ``x-jdcloud-nonce``; the scope date
  must be the date of ``x-jdcloud-date``, which must be within the timestamp window of now; an
  ``x-jdcloud-content-sha256`` header (JD's SDK sends one) must be the body's hash (every body
  is signed; there is no unsigned payload).

  Replays: after the signature holds, ``(app_id, nonce)`` is remembered until the request's date
  leaves the window, and a request carrying a remembered pair is refused (10049). The nonces
  live in this server process, in a :class:`NonceCache` (thread-safe, expiring, at most
  :data:`NONCE_CACHE_SIZE` entries) and not in the database: a write per request would double
  the database work of the hot path (one transaction per request, the charge), and the dialect
  holds no SQL. The cost: with ``serve --workers N`` or several servers behind a balancer, a
  captured request can be replayed once in each *other* process within its window (TLS keeps
  requests from being captured in the first place). When the cache is full of live nonces it
  forgets the ones nearest to expiry and from then refuses, as stale (10045), every request
  whose date is no later than the forgotten ones: under more than
  :data:`NONCE_CACHE_SIZE` signed requests per window the window shrinks, replays stay refused.

The body is JSON (read whatever the declared content type); unknown fields are ignored.

Envelope: ``{"code", "charge", "remain", "msg", "result": {"status", "request_id", "message",
"sentiment"}}``, always HTTP 200 except for an unknown path (404) or method (405). ``code`` is a
*system* code; ``result.status`` a *business* code, used when the gateway accepted the request
(``code`` "10000") but its body is unusable. ``charge`` is true when the request was counted
toward the daily quota (one call per request, series included) and ``remain`` is what is left of
it today (:data:`UNLIMITED_REMAIN` for an app without a quota); a system error omits ``remain``
when the app is not known yet, and has no ``result``. No refused request is charged.

System codes (``code``) and when they are produced (both auth forms unless marked):

=======  ===================================================================================
10000    success, or a business error in ``result.status``
10001    unknown appkey / access key (also one over 64 characters or holding control
         characters, refused without a lookup)
10003    no such path under ``/jdai/`` or wrong HTTP method
10004    query: ``appkey`` missing or empty (and no header signature either)
10020    unexpected server failure (never a client mistake)
10040    the app's daily quota is used up
10041    query: ``timestamp`` missing or empty
10042    query: ``sign`` missing or empty; header: ``Authorization``, ``x-jdcloud-date`` or
         ``x-jdcloud-nonce`` missing or empty, or Authorization without its Credential,
         SignedHeaders or Signature
10043    over the app's requests per second
10045    query: ``timestamp`` more than the window away from now; header: ``x-jdcloud-date``
         more than the window away from now (or older than the nonces forgotten, see above)
10046    query: ``timestamp`` not an integer; header: ``x-jdcloud-date`` not yyyymmddTHHMMSSZ
10047    query: ``sign`` does not match; header: the signature does not match, or the
         Authorization is malformed (another algorithm, a scope not ``<id>/<date>/<region>/
         <service>/jdcloud2_request`` or of another date, SignedHeaders without host,
         x-jdcloud-date or x-jdcloud-nonce), a nonce over 128 characters or not visible ASCII,
         or an ``x-jdcloud-content-sha256`` that is not the body's
10048    the app may not use the JD dialect
10049    header: ``x-jdcloud-nonce`` already used by this app within the window (a replay).
         Ours: JD's table has no code for it (10049 is unused there)
10050    the app is disabled
10060    the client address is not in the app's IP allow-list
=======  ===================================================================================

JD's table also lists 10010 (payment needed), 10030, 10044 (cluster QPS), 11010 and 11030
(publisher failures): nothing here produces them. JD's table gives no codes of its own to the
header signature: it reuses the query form's code for the same fault (missing, malformed, stale,
wrong), with messages naming the headers (:data:`HEADER_CODES`).

Business codes (``result.status``, with ``code`` "10000"): 12001 "Invalid parameter" (``type``
not one of the path's, ``text`` not a string, blank, over :data:`MAX_TEXT_BYTES` or holding
invalid characters, ``texts`` not a list of such texts or too long, a body over the size limit);
12002 "Missing parameter" (``type``, ``text`` or ``texts`` missing, null or empty); 12003 "Error
parsing parameter information" (the body is not a UTF-8 JSON object).
"""

from __future__ import annotations

import heapq
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from hashlib import blake2b, md5, sha256
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qinggan.conversation import analyze_conversation
from qinggan.errors import InputError
from qinggan.labels import Emotion, Intensity, Polarity, Trend
from qinggan.results import EmotionResult, ItemError, PolarityResult
from qinggan.service.access import Grant, check_timestamp, signature_proof
from qinggan.service.apps import App
from qinggan.service.context import client_ip, get_services, run_inference
from qinggan.service.errors import BadCredentials, ServiceError
from qinggan.service.registry import Dialect
from qinggan.text import check_text

NAME = "jd"
PREFIX = "/jdai/"
#: JD states no text limit; this one keeps a request to a sane size
MAX_TEXT_BYTES = 10_000
#: ``remain`` of an app without a daily quota
UNLIMITED_REMAIN = 2**31 - 1

SUCCESS = ("10000", "查询成功")

#: service error code -> (JD system code, JD message)
SYSTEM_CODES: dict[str, tuple[str, str]] = {
    "unknown_app": ("10001", "错误的请求appkey"),
    "not_found": ("10003", "不存在相应的数据信息"),
    "method_not_allowed": ("10003", "不存在相应的数据信息"),
    "missing_appkey": ("10004", "URL上appkey参数不能为空"),
    "internal": ("10020", "系统繁忙，请稍后再试"),
    "quota_exceeded": ("10040", "超过每天限量，请明天继续"),
    "missing_timestamp": ("10041", "URL上timestamp参数不能为空"),
    "missing_sign": ("10042", "URL上sign参数不能为空"),
    "rate_limited": ("10043", "超过QPS限额，请降低调用频率"),
    "stale_timestamp": ("10045", "timestamp参数无效，请检查timestamp距离当前时间是否超过5分钟"),
    "bad_timestamp": ("10046", "timestamp参数格式错误"),
    "bad_credentials": ("10047", "请求签名sign无效，请检查签名信息"),
    "dialect_not_allowed": ("10048", "无接口权限，请下单购买"),
    "app_disabled": ("10050", "用户已被禁用"),
    "ip_not_allowed": ("10060", "发布方设置调用权限，请联系发布方"),
}

INVALID, MISSING, UNPARSABLE = 12001, 12002, 12003
#: JD business status -> its message
BUSINESS_MESSAGES: dict[int, str] = {
    INVALID: "Invalid parameter",
    MISSING: "Missing parameter",
    UNPARSABLE: "Error parsing parameter information",
}
#: service error codes raised outside a route (no app known) -> business status
BUSINESS_CODES: dict[str, int] = {
    "bad_json": UNPARSABLE,
    "bad_encoding": UNPARSABLE,
    "unsupported_media_type": UNPARSABLE,
    "payload_too_large": INVALID,
    "invalid_request": INVALID,
    "invalid_text": INVALID,
}

#: the one label table: canonical labels -> JD names
LABELS: dict[Polarity | Emotion | Trend, str] = {
    Polarity.POSITIVE: "positive",
    Polarity.NEGATIVE: "negative",
    Polarity.NEUTRAL: "other",
    Emotion.OTHER: "other",
    Emotion.ANXIETY: "anxiety",
    Emotion.ANGER: "anger",
    Emotion.HAPPY: "happy",
    Emotion.LOST: "lost",
    Emotion.SAD: "sad",
    Emotion.FEAR: "fear",
    Emotion.SATIRIC: "satiric",
    Trend.TURN_GOOD: "turn_good",
    Trend.TURN_BAD: "turn_bad",
    Trend.KEEP_SMOOTH: "keep_smooth",
}
#: intensity degree -> JD ``levelList.degree``
DEGREES: dict[Intensity, int] = {
    Intensity.HIGH: 3,
    Intensity.MEDIUM: 2,
    Intensity.LOW: 1,
    Intensity.OTHER: 0,
}
#: JD ``type`` -> emotion classes (1 = polarity)
SENTIMENT_TYPES: dict[int, int | None] = {1: None, 3: 7, 5: 8}
SERIES_TYPES = frozenset({0})

_DIGITS = re.compile(r"-?[0-9]{1,19}")

#: the JD Cloud header signature (see the module docstring)
ALGORITHM = "JDCLOUD2-HMAC-SHA256"
SCOPE_END = "jdcloud2_request"
DATE_HEADER = "x-jdcloud-date"
NONCE_HEADER = "x-jdcloud-nonce"
CONTENT_SHA256_HEADER = "x-jdcloud-content-sha256"
#: headers every header signature must cover
REQUIRED_SIGNED = frozenset({"host", DATE_HEADER, NONCE_HEADER})
MAX_NONCE_CHARS = 128
#: most nonces one server process remembers (about 200 bytes each)
NONCE_CACHE_SIZE = 250_000
#: longest app id (the store's column); a longer key or one with control characters is unknown
MAX_APP_ID_CHARS = 64

#: service error code of the header signature -> (JD system code, JD message)
HEADER_CODES: dict[str, tuple[str, str]] = {
    "missing_signature": ("10042", "请求头Authorization、x-jdcloud-date和x-jdcloud-nonce不能为空"),
    "stale_date": ("10045", "x-jdcloud-date无效，请检查x-jdcloud-date距离当前时间是否超过5分钟"),
    "bad_date": ("10046", "x-jdcloud-date格式错误，应为UTC时间yyyyMMddTHHmmssZ"),
    "bad_signature": ("10047", "请求签名Authorization无效，请检查签名信息"),
    "replayed_nonce": ("10049", "x-jdcloud-nonce已使用过，请勿重放请求"),
}

_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_NONCE = re.compile(rf"[\x21-\x7e]{{1,{MAX_NONCE_CHARS}}}")
_APP_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_APP_ID_CHARS}}}")
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")

router = APIRouter(tags=["jd"])


class JdError(ServiceError):
    """A refusal with its JD code: ``system`` (envelope ``code``) or ``business`` status."""

    status = 200

    def __init__(
        self,
        code: str,
        message: str,
        *,
        business: int | None = None,
        remain: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.business = business
        self.remain = remain


def _remain(value: int | None) -> int:
    return UNLIMITED_REMAIN if value is None else value


def _request_id() -> str:
    return str(uuid.uuid4())


def render(request: Request, error: ServiceError) -> Response:
    business = getattr(error, "business", None) or BUSINESS_CODES.get(error.code)
    remain = getattr(error, "remain", None)
    if error.code == "quota_exceeded":
        remain = 0
    if business is not None:
        body: dict[str, Any] = {"code": SUCCESS[0], "charge": False}
        if remain is not None:
            body["remain"] = remain
        body["msg"] = SUCCESS[1]
        body["result"] = {
            "status": business,
            "request_id": _request_id(),
            "message": BUSINESS_MESSAGES[business],
            "sentiment": [],
        }
        return JSONResponse(body)
    code, msg = SYSTEM_CODES.get(error.code) or HEADER_CODES.get(
        error.code, SYSTEM_CODES["internal"]
    )
    body = {"code": code, "charge": False}
    if remain is not None:
        body["remain"] = remain
    body["msg"] = msg
    status = error.status if error.code in ("not_found", "method_not_allowed") else 200
    return JSONResponse(body, status_code=status)


class NonceCache:
    """``(app_id, nonce)`` pairs seen, each until its expiry (seconds since the epoch): at most
    ``max_size`` of them, safe from threads and the event loop (one lock, no I/O under it).

    When full of unexpired pairs it forgets those nearest to expiry, and from then answers
    ``"stale"`` for any pair expiring no later than one forgotten: it can no longer tell a replay
    of those apart, so it refuses them all (see the module docstring)."""

    def __init__(
        self, max_size: int = NONCE_CACHE_SIZE, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[bytes, float] = {}
        self._heap: list[tuple[float, bytes]] = []
        self._floor = float("-inf")

    def remember(self, app_id: str, nonce: str, expires_at: float) -> str | None:
        """None for a pair not seen (now remembered until ``expires_at``), ``"replayed"`` for
        one seen and not expired, ``"stale"`` for one that may have been forgotten."""
        key = blake2b(f"{app_id}\0{nonce}".encode(), digest_size=16).digest()
        with self._lock:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                when, old = heapq.heappop(self._heap)
                if self._expiry.get(old) == when:
                    del self._expiry[old]
            known = self._expiry.get(key)
            if known is not None and known > now:
                return "replayed"
            if expires_at <= self._floor:
                return "stale"
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            while len(self._expiry) > self.max_size:
                when, old = heapq.heappop(self._heap)
                if self._expiry.get(old) == when:
                    del self._expiry[old]
                    self._floor = max(self._floor, when)
            return None

    def __len__(self) -> int:
        return len(self._expiry)


def _nonces(request: Request) -> NonceCache:
    """The running app's nonce cache (made on first use; the event loop makes no race)."""
    cache: NonceCache | None = getattr(request.app.state, "jd_nonces", None)
    if cache is None:
        cache = request.app.state.jd_nonces = NonceCache()
    return cache


def _unknown_app() -> JdError:
    return JdError("unknown_app", "unknown appkey")


def _uses_header_signature(request: Request) -> bool:
    authorization = request.headers.get("authorization", "").strip()
    if authorization.startswith(ALGORITHM):
        return True
    if "appkey" in request.query_params:
        return False
    return bool(authorization) or any(h in request.headers for h in (DATE_HEADER, NONCE_HEADER))


async def _authenticate(request: Request) -> App:
    """The app of a request signed in either form (see the module docstring)."""
    if _uses_header_signature(request):
        return await _authenticate_header(request)
    return await _authenticate_query(request)


async def _authenticate_query(request: Request) -> App:
    """The app of a request signed with ``appkey``, ``timestamp`` and ``sign``."""
    query = request.query_params
    appkey, timestamp, sign = (query.get(k, "").strip() for k in ("appkey", "timestamp", "sign"))
    for value, code in ((appkey, "missing_appkey"), (timestamp, "missing_timestamp")):
        if not value:
            raise JdError(code, f"the query parameter {code.removeprefix('missing_')} is missing")
    if not sign:
        raise JdError("missing_sign", "the query parameter sign is missing")
    if not _DIGITS.fullmatch(timestamp):
        raise JdError("bad_timestamp", "timestamp must be milliseconds since the epoch")
    if not _APP_ID.fullmatch(appkey):
        raise _unknown_app()
    services = get_services(request)
    check_timestamp(
        int(timestamp) / 1000, window_s=services.settings.timestamp_window_s, app_id=appkey
    )
    proof = signature_proof(lambda secret: md5((secret + timestamp).encode()).hexdigest(), sign)
    return await services.access.authenticate(
        appkey, proof, dialect=NAME, client_ip=client_ip(request)
    )


def _authorization_fields(header: str) -> dict[str, str]:
    """Credential, SignedHeaders and Signature of an ``Authorization`` header."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise JdError("bad_signature", f"the Authorization algorithm must be {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name.strip(), value.strip())
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise JdError("missing_signature", f"the Authorization header has no {name}")
    return fields


def canonical_query(raw: str) -> str:
    """The query as JD Cloud signs it: items cut at ``=`` into trimmed pieces, sorted."""
    items = sorted(
        tuple(piece.strip() for piece in item.split("=")) for item in raw.split("&") if item
    )
    return "&".join(f"{item[0]}={item[1] if len(item) > 1 else ''}" for item in items)


def jdcloud_signature(secret: str, scope: str, date: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign under the key derived from ``secret`` and
    ``scope`` (``<yyyymmdd>/<region>/<service>/jdcloud2_request``)."""
    key = ("JDCLOUD2" + secret).encode("utf-8", "surrogatepass")
    for step in scope.split("/"):
        key = hmac.new(key, step.encode(), sha256).digest()
    digest = sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    to_sign = f"{ALGORITHM}\n{date}\n{scope}\n{digest}"
    return hmac.new(key, to_sign.encode(), sha256).hexdigest()


def _signed_host(request: Request) -> str:
    host = request.headers.get("host", "")
    for port in (":80", ":443"):
        if host.endswith(port):
            return host.removesuffix(port)
    return host


def _canonical_request(request: Request, names: list[str], body_hash: str) -> str:
    """The canonical request of the module docstring, from the request as received."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    lines = "".join(
        f"{n}:{_signed_host(request) if n == 'host' else ','.join(request.headers.getlist(n))}\n"
        for n in names
    )
    query = canonical_query(request.scope.get("query_string", b"").decode("latin-1"))
    path = quote(raw_path.decode("latin-1"), safe="/")
    return "\n".join((request.method, path, query, lines, ";".join(names), body_hash))


async def _authenticate_header(request: Request) -> App:
    """The app of a request signed with ``Authorization: JDCLOUD2-HMAC-SHA256 ...``."""
    headers = request.headers
    authorization = headers.get("authorization", "").strip()
    date = headers.get(DATE_HEADER, "").strip()
    nonce = headers.get(NONCE_HEADER, "").strip()
    for value, name in (
        (authorization, "Authorization"),
        (date, DATE_HEADER),
        (nonce, NONCE_HEADER),
    ):
        if not value:
            raise JdError("missing_signature", f"the header {name} is missing")
    fields = _authorization_fields(authorization)
    if not _DATE.fullmatch(date):
        raise JdError("bad_date", f"{DATE_HEADER} must be yyyymmddTHHMMSSZ (UTC)")
    try:
        signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise JdError("bad_date", f"{DATE_HEADER} is not a real date and time") from None
    services = get_services(request)
    window = services.settings.timestamp_window_s
    if not abs(time.time() - signed_at) <= window:
        raise JdError("stale_date", f"{DATE_HEADER} is more than {window:g} s from now")
    if not _NONCE.fullmatch(nonce):
        raise JdError("bad_signature", f"{NONCE_HEADER}: 1-{MAX_NONCE_CHARS} visible ASCII")
    app_id, *steps = fields["Credential"].rsplit("/", 4)
    scope = "/".join(steps)
    if len(steps) != 4 or not all(steps) or steps[0] != date[:8] or steps[3] != SCOPE_END:
        raise JdError(
            "bad_signature", "Credential must be <app_id>/<date of x-jdcloud-date>/<region>/"
            f"<service>/{SCOPE_END}",
        )  # fmt: skip
    names = fields["SignedHeaders"].split(";")
    if not all(_HEADER_NAME.fullmatch(n) for n in names) or not set(names) >= REQUIRED_SIGNED:
        raise JdError(
            "bad_signature", "SignedHeaders must cover " + ";".join(sorted(REQUIRED_SIGNED))
        )
    if not _APP_ID.fullmatch(app_id):
        raise _unknown_app()
    body_hash = sha256(await request.body()).hexdigest()
    declared = headers.get(CONTENT_SHA256_HEADER)
    if declared is not None and not hmac.compare_digest(
        declared.strip().lower().encode("latin-1"), body_hash.encode()
    ):
        raise JdError("bad_signature", f"{CONTENT_SHA256_HEADER} is not the body's SHA-256")
    canonical = _canonical_request(request, names, body_hash)
    proof = signature_proof(
        lambda secret: jdcloud_signature(secret, scope, date, canonical), fields["Signature"]
    )
    try:
        app = await services.access.authenticate(
            app_id, proof, dialect=NAME, client_ip=client_ip(request)
        )
    except BadCredentials:
        raise JdError("bad_signature", "the signature does not match") from None
    seen = _nonces(request).remember(app.app_id, nonce, signed_at + window)
    if seen == "replayed":
        raise JdError("replayed_nonce", f"{NONCE_HEADER} was used before within the window")
    if seen == "stale":
        raise JdError("stale_date", f"{DATE_HEADER} is older than the nonces remembered")
    return app


class _Unusable(Exception):
    def __init__(self, business: int, message: str) -> None:
        super().__init__(message)
        self.business = business


async def _body(request: Request) -> Mapping[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise _Unusable(MISSING, "the body is empty")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Unusable(UNPARSABLE, "the body is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise _Unusable(UNPARSABLE, "the body must be a JSON object")
    return body


def _type(body: Mapping[str, Any], allowed: Mapping[int, Any] | frozenset[int]) -> int:
    value = body.get("type")
    if value is None or value == "":
        raise _Unusable(MISSING, "type is missing")
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise _Unusable(INVALID, f"type must be one of {', '.join(map(str, sorted(allowed)))}")
    return value


def _text(value: Any, what: str) -> str:
    if value is None or value == "":
        raise _Unusable(MISSING, f"{what} is missing")
    try:
        return check_text(value, max_bytes=MAX_TEXT_BYTES)
    except InputError as exc:
        raise _Unusable(INVALID, f"{what}: {exc}") from None


async def _admit(request: Request, read: Any) -> tuple[Grant, Any]:
    """Authenticate, read the body with ``read``, then charge one call; a body that cannot be
    used is answered with its business status and the real ``remain`` (nothing charged)."""
    services = get_services(request)
    app = await _authenticate(request)
    try:
        parsed = read(await _body(request))
    except _Unusable as exc:
        charge = await services.access.charge(app, 0, dialect=NAME)
        raise JdError(
            "invalid_request", str(exc), business=exc.business, remain=_remain(charge.remain)
        ) from None
    charge = await services.access.charge(app, 1, dialect=NAME)
    return Grant(app=app, charge=charge), parsed


def _answer(grant: Grant, sentiment: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(
        {
            "code": SUCCESS[0],
            "charge": grant.charge.calls > 0,
            "remain": _remain(grant.remain),
            "msg": SUCCESS[1],
            "result": {
                "status": 0,
                "request_id": _request_id(),
                "message": "ok",
                "sentiment": sentiment,
            },
        }
    )


def _read_single(body: Mapping[str, Any]) -> tuple[int, str]:
    return _type(body, SENTIMENT_TYPES), _text(body.get("text"), "text")


async def _classify(request: Request, kind: int, text: str) -> list[tuple[str, float, list[Any]]]:
    """(JD name, probability, levelList) of every class, highest first."""
    services = get_services(request)
    classes = SENTIMENT_TYPES[kind]
    result: PolarityResult | EmotionResult | ItemError
    if classes is None:
        result = await services.inference.polarity(text)
    else:
        run = services.analyzer.emotions_batch
        result = (await run_inference(request, run, [text], classes, errors="report"))[0]
    if isinstance(result, ItemError):  # the text was checked above: not expected
        raise InputError(result.message)
    pairs: list[tuple[Polarity | Emotion, float]] = list(result.probabilities.items())
    ranked = sorted(pairs, key=lambda kv: -kv[1])
    levels = result.intensity if isinstance(result, EmotionResult) else ()
    out = []
    for rank, (label, probability) in enumerate(ranked):
        level_list = [
            {"probability": level.probability, "degree": DEGREES[level.degree]}
            for level in (levels if rank == 0 else ())
        ]
        out.append((LABELS[label], probability, level_list))
    return out


@router.post("/jdai/sentiment", summary="JD NeuHub sentiment (type 1, 3, 5)")
async def sentiment(request: Request) -> Response:
    grant, (kind, text) = await _admit(request, _read_single)
    ranked = await _classify(request, kind, text)
    return _answer(grant, [{"sentiment": name, "probability": p} for name, p, _ in ranked])


@router.post("/jdai/sentimentV2", summary="JD NeuHub sentiment with intensity (levelList)")
async def sentiment_v2(request: Request) -> Response:
    grant, (kind, text) = await _admit(request, _read_single)
    ranked = await _classify(request, kind, text)
    return _answer(
        grant,
        [
            {"sentiment": name, "levelList": levels, "probability": p, "optional": {}}
            for name, p, levels in ranked
        ],
    )


@router.post("/jdai/sentimentSeries", summary="JD NeuHub conversation trend (type 0)")
async def sentiment_series(request: Request) -> Response:
    max_turns = get_services(request).settings.max_batch

    def read(body: Mapping[str, Any]) -> list[str]:
        _type(body, SERIES_TYPES)
        texts = body.get("texts")
        if texts is None or texts == []:
            raise _Unusable(MISSING, "texts is missing")
        if not isinstance(texts, list):
            raise _Unusable(INVALID, "texts must be a list of texts")
        if len(texts) > max_turns:
            raise _Unusable(INVALID, f"texts: at most {max_turns} per request")
        return [_text(text, f"texts[{i}]") for i, text in enumerate(texts)]

    grant, texts = await _admit(request, read)
    analyzer = get_services(request).analyzer
    trend = await run_inference(request, analyze_conversation, texts, analyzer)
    ranked = sorted(trend.probabilities.items(), key=lambda kv: -kv[1])
    return _answer(grant, [{"sentiment": LABELS[t], "probability": p} for t, p in ranked])


def dialect() -> Dialect:
    return Dialect(name=NAME, router=router, prefixes=(PREFIX,), render_error=render)
