"""iFlytek LTP sentiment analysis (``POST /v1/sa``).

Auth headers: ``X-Appid``; ``X-CurTime`` (seconds, within ``Settings.timestamp_window_s`` of
now); ``X-Param``, base64 of the JSON ``{"type": "dependent"}`` (other keys ignored); and
``X-CheckSum`` = md5(apiKey + X-CurTime + X-Param) as hex over the headers exactly as sent
(compared in constant time, either case). Body: form ``text`` (at most :data:`MAX_TEXT_BYTES`
UTF-8 bytes), read as ``application/x-www-form-urlencoded`` whatever the declared type; unknown
fields are ignored.

Answer: ``{"code": "0", "data": {"sa": [{"negative_prob", "neutral_prob", "positive_prob",
"sentiment"}]}, "desc": "success", "sid"}``; the three probabilities sum to 1 and ``sentiment``
(0 neutral, 1 positive, 2 negative) is the most probable. Every answer is HTTP 200 except an
unknown path (404) or method (405); an error has ``data`` ``{}``.

Codes and when they are produced (the seed document shows 10105; the others are iFlytek WebAPI
codes with the same meaning):

=====  ====================================================================================
10105  ``illegal access|...``: a missing ``X-Appid``, ``X-CurTime`` or ``X-CheckSum``; an
       ``X-CurTime`` that is not an integer or is outside the window; an unknown ``X-Appid``;
       a wrong ``X-CheckSum``; a client address outside the app's IP allow-list
10106  ``invalid parameter|...``: ``X-Param`` missing or not base64 JSON, ``type`` missing;
       ``text`` missing or blank; a body that is not UTF-8; unknown path or method
10107  ``illegal parameter|...``: ``type`` other than ``dependent``; ``text`` with invalid
       characters
10109  ``illegal text length``: ``text`` over the byte limit, or a body over the size limit
10700  ``engine error``: unexpected server failure (never a client mistake)
11200  ``auth no license``: the app is disabled or may not use the iFlytek dialect
11201  ``auth no enough license``: the app's daily quota is used up
11202  ``auth no enough license|qps``: over the app's requests per second
=====  ====================================================================================
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from hashlib import md5
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qinggan.errors import InputError
from qinggan.labels import Polarity
from qinggan.results import ItemError
from qinggan.service.access import check_timestamp, signature_proof
from qinggan.service.apps import App
from qinggan.service.context import client_ip, get_services, read_form
from qinggan.service.errors import ServiceError
from qinggan.service.registry import Dialect
from qinggan.text import check_text

NAME = "iflytek"
PATH = "/v1/sa"
MAX_TEXT_BYTES = 500
SERVICE_TYPE = "dependent"

#: service error code -> (iFlytek code, desc); ``desc`` may get ``|detail`` appended
CODES: dict[str, tuple[str, str]] = {
    "missing_credentials": ("10105", "illegal access"),
    "bad_timestamp": ("10105", "illegal access"),
    "stale_timestamp": ("10105", "illegal access"),
    "unknown_app": ("10105", "illegal access|invalid X-Appid"),
    "bad_credentials": ("10105", "illegal access|illegal X-CheckSum"),
    "ip_not_allowed": ("10105", "illegal access|illegal client_ip"),
    "bad_json": ("10106", "invalid parameter"),
    "bad_encoding": ("10106", "invalid parameter"),
    "unsupported_media_type": ("10106", "invalid parameter"),
    "invalid_request": ("10106", "invalid parameter"),
    "not_found": ("10106", "invalid parameter|no such service"),
    "method_not_allowed": ("10106", "invalid parameter|use POST"),
    "illegal_parameter": ("10107", "illegal parameter"),
    "invalid_text": ("10107", "illegal parameter"),
    "text_too_long": ("10109", "illegal text length"),
    "payload_too_large": ("10109", "illegal text length"),
    "internal": ("10700", "engine error"),
    "app_disabled": ("11200", "auth no license"),
    "dialect_not_allowed": ("11200", "auth no license"),
    "quota_exceeded": ("11201", "auth no enough license"),
    "rate_limited": ("11202", "auth no enough license|qps"),
}

#: the one label table: canonical polarity -> iFlytek ``sentiment``
SENTIMENT: dict[Polarity, int] = {Polarity.NEUTRAL: 0, Polarity.POSITIVE: 1, Polarity.NEGATIVE: 2}

_DIGITS = re.compile(r"-?[0-9]{1,19}")

router = APIRouter(tags=["iflytek"])


class IflytekError(ServiceError):
    """A refusal decided here; ``detail`` is appended to the desc after ``|``."""

    status = 200

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def _sid() -> str:
    return f"ltp{secrets.token_hex(4)}@qg{secrets.token_hex(7)}00"


def render(request: Request, error: ServiceError) -> Response:
    code, desc = CODES.get(error.code, CODES["internal"])
    detail = getattr(error, "detail", None)
    if error.code == "ip_not_allowed":
        detail = client_ip(request)
        desc = f"{desc}: {detail}" if detail else desc
    elif detail:
        desc = f"{desc}|{detail}"
    status = error.status if error.code in ("not_found", "method_not_allowed") else 200
    return JSONResponse({"code": code, "desc": desc, "data": {}, "sid": _sid()}, status_code=status)


async def _authenticate(request: Request) -> tuple[App, str]:
    """The app of a request with valid iFlytek headers, and its raw ``X-Param``."""
    headers = request.headers
    app_id, cur_time, param, checksum = (
        headers.get(name, "").strip() for name in ("X-Appid", "X-CurTime", "X-Param", "X-CheckSum")
    )
    for name, value in (("X-Appid", app_id), ("X-CurTime", cur_time), ("X-CheckSum", checksum)):
        if not value:
            raise IflytekError("missing_credentials", f"{name} is missing")
    if not param:
        raise IflytekError("invalid_request", "X-Param is missing")
    if not _DIGITS.fullmatch(cur_time):
        raise IflytekError("bad_timestamp", "illegal X-CurTime")
    services = get_services(request)
    try:
        check_timestamp(int(cur_time), window_s=services.settings.timestamp_window_s)
    except ServiceError:
        raise IflytekError("stale_timestamp", "X-CurTime expired") from None
    proof = signature_proof(
        lambda secret: md5((secret + cur_time + param).encode()).hexdigest(), checksum
    )
    app = await services.access.authenticate(
        app_id, proof, dialect=NAME, client_ip=client_ip(request)
    )
    return app, param


def _check_param(param: str) -> None:
    try:
        decoded = json.loads(base64.b64decode(param, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        raise IflytekError("invalid_request", "invalid X-Param") from None
    if not isinstance(decoded, dict) or decoded.get("type") in (None, ""):
        raise IflytekError("invalid_request", "X-Param type is missing")
    if decoded["type"] != SERVICE_TYPE:
        raise IflytekError("illegal_parameter", f"X-Param type must be {SERVICE_TYPE}")


def _text(form: dict[str, str]) -> str:
    text = form.get("text", "")
    if not text.strip():
        raise IflytekError("invalid_request", "text is empty")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise IflytekError("text_too_long")
    try:
        return check_text(text, max_bytes=MAX_TEXT_BYTES)
    except InputError:
        raise IflytekError("invalid_text", "text holds invalid characters") from None


@router.post(PATH, summary="iFlytek LTP sentiment analysis")
async def sentiment(request: Request) -> Response:
    services = get_services(request)
    app, param = await _authenticate(request)
    _check_param(param)
    try:
        form = await read_form(request)
    except ServiceError:
        raise IflytekError("bad_encoding", "the body is not UTF-8") from None
    text = _text(form)
    await services.access.charge(app, 1, dialect=NAME)
    result = await services.inference.polarity(text)
    if isinstance(result, ItemError):  # the text was checked above: not expected
        raise InputError(result.message)
    negative, neutral = result.negative, result.neutral
    item: dict[str, Any] = {
        "negative_prob": negative,
        "neutral_prob": neutral,
        "positive_prob": max(0.0, 1.0 - negative - neutral),
        "sentiment": SENTIMENT[result.label],
    }
    return JSONResponse({"code": "0", "data": {"sa": [item]}, "desc": "success", "sid": _sid()})


def dialect() -> Dialect:
    return Dialect(name=NAME, router=router, prefixes=(PATH,), render_error=render)
