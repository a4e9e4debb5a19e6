"""JD NeuHub sentiment (``/jdai/sentiment``, ``/jdai/sentimentV2``, ``/jdai/sentimentSeries``).

Auth: query ``appkey``, ``timestamp`` (milliseconds, within ``Settings.timestamp_window_s`` of
now, 5 minutes by default) and ``sign`` = md5(secretkey + timestamp) as hex (compared in constant
time; upper-case hex is accepted too: the digest is the same number). The V1 path's JD Cloud
``Authorization: JDCLOUD2-HMAC-SHA256`` header scheme is not reproduced: every path takes the
query signature. The body is JSON (read whatever the declared content type); unknown fields are
ignored.

Envelope: ``{"code", "charge", "remain", "msg", "result": {"status", "request_id", "message",
"sentiment"}}``, always HTTP 200 except for an unknown path (404) or method (405). ``code`` is a
*system* code; ``result.status`` a *business* code, used when the gateway accepted the request
(``code`` "10000") but its body is unusable. ``charge`` is true when the request was counted
toward the daily quota (one call per request, series included) and ``remain`` is what is left of
it today (:data:`UNLIMITED_REMAIN` for an app without a quota); a system error omits ``remain``
when the app is not known yet, and has no ``result``.

System codes (``code``) and when they are produced:

=======  ===================================================================================
10000    success, or a business error in ``result.status``
10001    unknown appkey
10003    no such path under ``/jdai/`` or wrong HTTP method
10004    ``appkey`` missing or empty
10020    unexpected server failure (never a client mistake)
10040    the app's daily quota is used up
10041    ``timestamp`` missing or empty
10042    ``sign`` missing or empty
10043    over the app's requests per second
10045    ``timestamp`` more than the window away from now
10046    ``timestamp`` not an integer
10047    ``sign`` does not match
10048    the app may not use the JD dialect
10050    the app is disabled
10060    the client address is not in the app's IP allow-list
=======  ===================================================================================

JD's table also lists 10010 (payment needed), 10030, 10044 (cluster QPS), 11010 and 11030
(publisher failures): nothing here produces them.

Business codes (``result.status``, with ``code`` "10000"): 12001 "Invalid parameter" (``type``
not one of the path's, ``text`` not a string, blank, over :data:`MAX_TEXT_BYTES` or holding
invalid characters, ``texts`` not a list of such texts or too long, a body over the size limit);
12002 "Missing parameter" (``type``, ``text`` or ``texts`` missing, null or empty); 12003 "Error
parsing parameter information" (the body is not a UTF-8 JSON object).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from hashlib import md5
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qinggan.conversation import analyze_conversation
from qinggan.errors import InputError
from qinggan.labels import Emotion, Intensity, Polarity, Trend
from qinggan.results import EmotionResult, ItemError, PolarityResult
from qinggan.service.access import Grant, check_timestamp, signature_proof
from qinggan.service.apps import App
from qinggan.service.context import client_ip, get_services, run_inference
from qinggan.service.errors import ServiceError
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
    code, msg = SYSTEM_CODES.get(error.code, SYSTEM_CODES["internal"])
    body = {"code": code, "charge": False}
    if remain is not None:
        body["remain"] = remain
    body["msg"] = msg
    status = error.status if error.code in ("not_found", "method_not_allowed") else 200
    return JSONResponse(body, status_code=status)


async def _authenticate(request: Request) -> App:
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
    services = get_services(request)
    check_timestamp(
        int(timestamp) / 1000, window_s=services.settings.timestamp_window_s, app_id=appkey
    )
    proof = signature_proof(lambda secret: md5((secret + timestamp).encode()).hexdigest(), sign)
    return await services.access.authenticate(
        appkey, proof, dialect=NAME, client_ip=client_ip(request)
    )


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
