"""Jumdata text analysis (``/text-analysi/sentiment/analysis``, ``/text-analysi/emotion/discern``).

Request: an ``application/x-www-form-urlencoded`` POST (the body is read as a form whatever the
declared type) with ``appId``, ``timestamp`` (milliseconds, within
``Settings.timestamp_window_s`` of now) and ``sign`` = sha256(appId + appSecret + timestamp) as
hex (compared in constant time, either case), plus ``text`` and, for emotion, ``scene``
(``default`` when missing or empty). Unknown fields are ignored.

Answer: ``{"code": 200, "msg": "成功", "taskNo", "charge", "data": {"text", "items"}}``; an error
is ``{"code", "msg"}`` (as in the document's example), HTTP 200 except for code 404 (HTTP 404).
``charge`` is true when the request was counted toward the app's daily quota (one call each).

Sentiment items: ``positive_prob`` and ``negative_prob`` (the two polar probabilities, rescaled
to sum to 1 as the vendor's do), ``confidence`` and ``sentiment`` 0 negative / 1 neutral / 2
positive (the engine's three-way decision). Emotion items: one item, level 1 ``label`` and
``prob``, ``subitems`` (the level-2 labels on level 1's side, highest first; empty for neutral)
and ``replies`` (empty for neutral).

Codes and when they are produced:

====  ======================================================================================
200   success (charged)
400   parameter error: ``appId``, ``timestamp`` or ``sign`` missing; ``timestamp`` not an
      integer; unknown ``appId``; wrong ``sign``; ``text`` missing, blank, over the byte limit
      (:data:`MAX_TEXT_BYTES`) or with invalid characters; unknown ``scene``; a body that is
      not UTF-8, is multipart or JSON, or is over the body size limit
404   no such path under ``/text-analysi/``, or a method other than POST
500   unexpected server failure (never a client mistake)
601   the app may not use the Jumdata dialect (interface not enabled)
602   the app is disabled (account disabled)
606   the app's daily quota is used up
607   the client address is not in the app's IP allow-list
609   over the app's requests per second
610   ``timestamp`` more than the window away from now (request timed out)
999   any other refusal the service may add later (fallback)
====  ======================================================================================

603 (no balance) and 604 (interface disabled) have no condition here: there is no prepaid
balance, and an interface is switched off per app by its allowed dialects (601).
"""

from __future__ import annotations

import re
import secrets
from hashlib import sha256
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qinggan.dialogue import POSITIVE_LEVEL2
from qinggan.errors import InputError
from qinggan.labels import DialogueLevel1, Polarity, Scene, ServiceLevel2, TalkLevel2
from qinggan.results import DialogueEmotionResult, ItemError, PolarityResult
from qinggan.service.access import check_timestamp, signature_proof
from qinggan.service.apps import App
from qinggan.service.context import client_ip, get_services, read_form, run_inference
from qinggan.service.errors import ServiceError
from qinggan.service.registry import Dialect
from qinggan.text import check_text

NAME = "jumdata"
PREFIX = "/text-analysi/"
#: ``text`` limits in UTF-8 bytes, per path
MAX_TEXT_BYTES = {"sentiment": 2048, "emotion": 512}

OK = (200, "成功")
#: service error code -> (Jumdata code, message)
CODES: dict[str, tuple[int, str]] = {
    "bad_json": (400, "参数错误"),
    "bad_encoding": (400, "参数错误"),
    "unsupported_media_type": (400, "参数错误"),
    "payload_too_large": (400, "参数错误"),
    "invalid_request": (400, "参数错误"),
    "invalid_text": (400, "参数错误"),
    "missing_credentials": (400, "参数错误"),
    "bad_timestamp": (400, "参数错误"),
    "unknown_app": (400, "appId无效"),
    "bad_credentials": (400, "签名错误"),
    "not_found": (404, "接口地址不正确"),
    "method_not_allowed": (404, "接口地址不正确"),
    "internal": (500, "系统维护,请稍候再试"),
    "dialect_not_allowed": (601, "接口未开通"),
    "app_disabled": (602, "账号停用"),
    "quota_exceeded": (606, "调用超限,请稍候再试"),
    "ip_not_allowed": (607, "ip不在白名单"),
    "rate_limited": (609, "请求过于频繁,请稍候再试"),
    "stale_timestamp": (610, "请求超时"),
}
OTHER = (999, "其他")
#: the document's own messages for an empty text, per path
EMPTY_TEXT = {"sentiment": "文本内容不能为空", "emotion": "待识别文本不能为空"}

#: the one label table: canonical labels -> Jumdata numbers and names
SENTIMENT: dict[Polarity, int] = {Polarity.NEGATIVE: 0, Polarity.NEUTRAL: 1, Polarity.POSITIVE: 2}
LEVEL1: dict[DialogueLevel1, str] = {
    DialogueLevel1.PESSIMISTIC: "pessimistic",
    DialogueLevel1.NEUTRAL: "neutral",
    DialogueLevel1.OPTIMISTIC: "optimistic",
}
LEVEL2: dict[str, str] = {
    ServiceLevel2.THANKFUL.value: "thankful",
    ServiceLevel2.HAPPY.value: "happy",
    ServiceLevel2.COMPLAINING.value: "complaining",
    ServiceLevel2.ANGRY.value: "angry",
    TalkLevel2.LIKE.value: "like",
    TalkLevel2.DISGUSTING.value: "disgusting",
    TalkLevel2.FEARFUL.value: "fearful",
    TalkLevel2.SAD.value: "sad",
}
SCENES: dict[str, Scene] = {
    "default": Scene.DEFAULT,
    "talk": Scene.TALK,
    "task": Scene.TASK,
    "customer_service": Scene.CUSTOMER_SERVICE,
}

_DIGITS = re.compile(r"-?[0-9]{1,19}")

router = APIRouter(tags=["jumdata"])


class JumdataError(ServiceError):
    """A refusal decided here, under one of the service error codes of :data:`CODES`."""

    status = 200

    def __init__(self, code: str, message: str, *, msg: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.msg = msg


def render(request: Request, error: ServiceError) -> Response:
    code, msg = CODES.get(error.code, OTHER)
    msg = getattr(error, "msg", None) or msg
    return JSONResponse({"code": code, "msg": msg}, status_code=404 if code == 404 else 200)


def _task_no() -> str:
    return f"{secrets.randbelow(10**24):024d}"


async def _authenticate(request: Request, form: dict[str, str]) -> App:
    app_id, timestamp, sign = (form.get(k, "").strip() for k in ("appId", "timestamp", "sign"))
    for name, value in (("appId", app_id), ("timestamp", timestamp), ("sign", sign)):
        if not value:
            raise JumdataError("missing_credentials", f"{name} is missing", msg=f"{name}不能为空")
    if not _DIGITS.fullmatch(timestamp):
        raise JumdataError(
            "bad_timestamp", "timestamp is not milliseconds", msg="timestamp格式错误"
        )
    services = get_services(request)
    check_timestamp(
        int(timestamp) / 1000, window_s=services.settings.timestamp_window_s, app_id=app_id
    )
    proof = signature_proof(
        lambda secret: sha256((app_id + secret + timestamp).encode()).hexdigest(), sign
    )
    return await services.access.authenticate(
        app_id, proof, dialect=NAME, client_ip=client_ip(request)
    )


async def _form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith("multipart/") or kind.endswith("json"):
        raise JumdataError(
            "unsupported_media_type",
            "send the fields as application/x-www-form-urlencoded",
            msg="参数错误: 请使用x-www-form-urlencoded格式",
        )
    return await read_form(request)


def _text(form: dict[str, str], path: str) -> str:
    text = form.get("text", "")
    if not text.strip():
        raise JumdataError("invalid_text", "text is empty", msg=EMPTY_TEXT[path])
    try:
        return check_text(text, max_bytes=MAX_TEXT_BYTES[path])
    except InputError as exc:
        raise JumdataError("invalid_text", str(exc), msg=f"参数错误: {exc}") from None


def _answer(text: str, items: list[dict[str, Any]], charged: bool) -> JSONResponse:
    return JSONResponse(
        {
            "code": OK[0],
            "msg": OK[1],
            "taskNo": _task_no(),
            "charge": charged,
            "data": {"text": text, "items": items},
        }
    )


def _sentiment_item(result: PolarityResult) -> dict[str, Any]:
    polar = result.positive + result.negative
    positive = round(result.positive / polar, 6) if polar > 0 else 0.5
    return {
        "positive_prob": positive,
        "sentiment": SENTIMENT[result.label],
        "confidence": round(result.confidence, 6),
        "negative_prob": round(1.0 - positive, 6),
    }


def _emotion_item(result: DialogueEmotionResult) -> dict[str, Any]:
    subitems = []
    if result.level2 is not None:
        optimistic = result.level1 is DialogueLevel1.OPTIMISTIC
        positive = {label.value for label in POSITIVE_LEVEL2}
        side = [
            (label, p)
            for label, p in result.level2_probabilities.items()
            if (label in positive) == optimistic
        ]
        side.sort(key=lambda kv: (kv[0] != result.level2, -kv[1]))
        subitems = [{"prob": round(p, 6), "label": LEVEL2[label]} for label, p in side]
    return {
        "prob": round(result.level1_probabilities[result.level1], 6),
        "replies": list(result.replies),
        "subitems": subitems,
        "label": LEVEL1[result.level1],
    }


@router.post("/text-analysi/sentiment/analysis", summary="Jumdata sentiment tendency")
async def sentiment(request: Request) -> Response:
    services = get_services(request)
    form = await _form(request)
    app = await _authenticate(request, form)
    text = _text(form, "sentiment")
    charge = await services.access.charge(app, 1, dialect=NAME)
    result = await services.inference.polarity(text)
    if isinstance(result, ItemError):  # the text was checked above: not expected
        raise InputError(result.message)
    return _answer(text, [_sentiment_item(result)], charge.calls > 0)


@router.post("/text-analysi/emotion/discern", summary="Jumdata dialogue emotion recognition")
async def emotion(request: Request) -> Response:
    services = get_services(request)
    form = await _form(request)
    app = await _authenticate(request, form)
    text = _text(form, "emotion")
    raw_scene = form.get("scene", "").strip() or "default"
    scene = SCENES.get(raw_scene.lower())
    if scene is None:
        choices = ", ".join(SCENES)
        message = f"unknown scene {raw_scene!r}; expected one of: {choices}"
        raise JumdataError("invalid_request", message, msg=f"参数错误: scene应为{choices}之一")
    charge = await services.access.charge(app, 1, dialect=NAME)
    run = services.analyzer.dialogue_emotion_batch
    result = (await run_inference(request, run, [text], scene, errors="report"))[0]
    if isinstance(result, ItemError):
        raise InputError(result.message)
    return _answer(text, [_emotion_item(result)], charge.calls > 0)


def dialect() -> Dialect:
    return Dialect(name=NAME, router=router, prefixes=(PREFIX,), render_error=render)
