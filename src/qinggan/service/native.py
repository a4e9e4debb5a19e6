"""The native API under ``/api/v1/``: clean JSON, batch-friendly, canonical labels.

Every route takes ``{"text": "..."}`` (answer: ``{"result": {...}, "usage": {...}}``) or
``{"texts": [...]}`` with at most ``Settings.max_batch`` items (answer: ``{"results": [...],
"usage": {...}}``, a bad item answered in place by ``{"index", "error"}``). Auth: the header
``X-API-Key: <app_id>:<secret>``. Each answered text costs one call of the app's daily quota;
``usage`` tells ``charged`` and ``remain`` (``null`` without a quota). Errors:
``{"error": {"code", "message"}}`` with 400, 401, 403, 404, 413, 415, 422 or 429.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, model_validator

from qinggan.conversation import Turn, analyze_conversation, counted_turns
from qinggan.errors import InputError
from qinggan.labels import Scene, parse_choice
from qinggan.results import ItemError
from qinggan.service.access import Grant, parse_api_key, secret_proof
from qinggan.service.context import authorize, get_services
from qinggan.service.errors import BadEncoding, InvalidRequest, InvalidText, UnsupportedMediaType
from qinggan.service.registry import Dialect
from qinggan.text import check_text

PREFIX = "/api/v1"


class NativeRoute(APIRoute):
    """Checks what FastAPI would otherwise guess at: a JSON content type and UTF-8 bytes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind != "application/json" and not kind.endswith("+json"):
                    raise UnsupportedMediaType("send the body as application/json")
                try:
                    (await request.body()).decode("utf-8")
                except UnicodeDecodeError:
                    raise BadEncoding("the body is not valid UTF-8") from None
            return await handler(request)

        return checked


router = APIRouter(prefix=PREFIX, route_class=NativeRoute, tags=["native"])
ApiKey = Annotated[
    str | None,
    Header(alias="X-API-Key", description="<app_id>:<secret>, from `qinggan apps add`"),
]


class TextsIn(BaseModel):
    """One text or a list of texts (exactly one of the two)."""

    model_config = ConfigDict(extra="ignore")
    text: str | None = Field(None, description="one text")
    texts: list[str] | None = Field(None, description="several texts (up to the batch limit)")

    @model_validator(mode="after")
    def _one_of(self) -> TextsIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' and 'texts'")
        return self


class EmotionsIn(TextsIn):
    classes: Literal[7, 8] = Field(7, description="7 classes, or 8 with satiric")


class DialogueIn(TextsIn):
    scene: str = Field("default", description="default, talk, task or customer_service")


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str
    speaker: str | None = None


class TrendIn(BaseModel):
    """One conversation, in order: plain ``texts`` or ``turns`` with speakers."""

    model_config = ConfigDict(extra="ignore")
    texts: list[str] | None = None
    turns: list[TurnIn] | None = None
    customer_speakers: list[str] | None = Field(
        None, description="speaker names that mean the customer (a sensible default otherwise)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> TrendIn:
        if (self.texts is None) == (self.turns is None):
            raise ValueError("give exactly one of 'texts' and 'turns'")
        return self


class AspectOpinionOut(BaseModel):
    """One opinion of ``POST /api/v1/aspects``: spans are ``[start, end)`` character offsets."""

    aspect: str | None = Field(description="the aspect term; null for an implicit aspect")
    aspect_span: list[int] | None
    opinion: str
    opinion_span: list[int]
    polarity: Literal["positive", "negative", "neutral"]
    confidence: float
    probabilities: dict[str, float]
    category: str | None = Field(description="food, service, price, ...; null when none fits")


class AspectResultOut(BaseModel):
    text: str
    opinions: list[AspectOpinionOut] = Field(description="in text order; empty when none")


class Usage(BaseModel):
    charged: int
    remain: int | None


class ResultOut(BaseModel):
    result: dict[str, Any]
    usage: Usage


class ResultsOut(BaseModel):
    results: list[dict[str, Any]]
    usage: Usage


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 413, 415, 422, 429)
}
_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": ResultOut | ResultsOut}, **_ERRORS}

Answer = Callable[[list[str]], Awaitable[Sequence[Any]]]


async def admit_native(request: Request, api_key: str | None, calls: int) -> Grant:
    """Check the ``X-API-Key`` value and charge ``calls`` (0: a rate-limited, free request)."""
    app_id, secret = parse_api_key(api_key)
    return await authorize(
        request, dialect="native", app_id=app_id, proof=secret_proof(secret), calls=calls
    )


def _json(body: dict[str, Any], grant: Grant) -> JSONResponse:
    body["usage"] = {"charged": grant.charge.calls, "remain": grant.remain}
    headers = {} if grant.remain is None else {"X-Quota-Remaining": str(grant.remain)}
    return JSONResponse(body, headers=headers)


async def _answer(request: Request, api_key: str | None, body: TextsIn, answer: Answer) -> Response:
    settings = get_services(request).settings
    if body.text is not None:
        try:
            check_text(body.text, max_bytes=settings.max_text_bytes)
        except InputError as exc:
            raise InvalidText(str(exc)) from None
        grant = await admit_native(request, api_key, 1)
        result = (await answer([body.text]))[0]
        return _json({"result": result.to_dict()}, grant)
    texts = body.texts or []
    if not texts:
        raise InvalidRequest("texts: give at least one text")
    if len(texts) > settings.max_batch:
        raise InvalidRequest(f"texts: at most {settings.max_batch} per request, got {len(texts)}")
    problems: dict[int, str] = {}
    for index, text in enumerate(texts):
        try:
            check_text(text, max_bytes=settings.max_text_bytes)
        except InputError as exc:
            problems[index] = str(exc)
    good = [text for index, text in enumerate(texts) if index not in problems]
    grant = await admit_native(request, api_key, len(good))
    answered = iter(await answer(good) if good else [])
    results = [
        ItemError(i, problems[i]).to_dict() if i in problems else next(answered).to_dict()
        for i in range(len(texts))
    ]
    return _json({"results": results}, grant)


@router.post("/polarity", responses=_RESPONSES, summary="Polarity: positive, negative, neutral")
async def polarity(request: Request, body: TextsIn, x_api_key: ApiKey = None) -> Response:
    services = get_services(request)
    inference = services.inference

    async def answer(texts: list[str]) -> Sequence[Any]:
        if len(texts) == 1:
            return [await inference.polarity(texts[0])]
        return await inference.run(services.analyzer.analyze_batch, texts, errors="report")

    return await _answer(request, x_api_key, body, answer)


@router.post(
    "/emotions", responses=_RESPONSES, summary="Customer-service emotions (7/8) with intensity"
)
async def emotions(request: Request, body: EmotionsIn, x_api_key: ApiKey = None) -> Response:
    services = get_services(request)

    async def answer(texts: list[str]) -> Sequence[Any]:
        run = services.inference.run
        return await run(services.analyzer.emotions_batch, texts, body.classes, errors="report")

    return await _answer(request, x_api_key, body, answer)


@router.post(
    "/dialogue-emotion", responses=_RESPONSES, summary="Two-level dialogue emotion with replies"
)
async def dialogue_emotion(
    request: Request, body: DialogueIn, x_api_key: ApiKey = None
) -> Response:
    services = get_services(request)
    try:
        scene = parse_choice(Scene, body.scene, "scene")
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None

    async def answer(texts: list[str]) -> Sequence[Any]:
        run = services.inference.run
        return await run(services.analyzer.dialogue_emotion_batch, texts, scene, errors="report")

    return await _answer(request, x_api_key, body, answer)


class AspectItemOut(BaseModel):
    """A text's opinions, or ``{"index", "error"}`` for a bad text of the batch."""

    text: str | None = None
    opinions: list[AspectOpinionOut] | None = None
    index: int | None = None
    error: str | None = None


class AspectsOut(BaseModel):
    result: AspectResultOut
    usage: Usage


class AspectsBatchOut(BaseModel):
    results: list[AspectItemOut]
    usage: Usage


@router.post(
    "/aspects",
    responses={200: {"model": AspectsOut | AspectsBatchOut}, **_ERRORS},
    summary="Aspect opinions: aspect, opinion, polarity and category, with character spans",
)
async def aspects(request: Request, body: TextsIn, x_api_key: ApiKey = None) -> Response:
    """Each text's (aspect, opinion, polarity, category) opinions, like Baidu's comment tags;
    a text without an opinion answers ``"opinions": []``. One call per answered text."""
    services = get_services(request)

    async def answer(texts: list[str]) -> Sequence[Any]:
        run = services.inference.run
        return await run(services.analyzer.aspects_batch, texts, errors="report")

    return await _answer(request, x_api_key, body, answer)


@router.post(
    "/trend",
    responses={200: {"model": ResultOut}, **{k: v for k, v in _RESPONSES.items() if k != 200}},
    summary="Conversation trend: turn_good, turn_bad, keep_smooth",
)
async def trend(request: Request, body: TrendIn, x_api_key: ApiKey = None) -> Response:
    services = get_services(request)
    settings = services.settings
    if body.turns is not None:
        turns = [Turn(text=t.text, speaker=t.speaker) for t in body.turns]
    else:
        turns = [Turn(text=t) for t in body.texts or []]
    if not turns:
        raise InvalidRequest("give at least one turn")
    if len(turns) > settings.max_batch:
        raise InvalidRequest(f"at most {settings.max_batch} turns per request, got {len(turns)}")
    for index, turn in enumerate(turns):
        try:
            check_text(turn.text, max_bytes=settings.max_text_bytes)
        except InputError as exc:
            raise InvalidText(f"turn {index}: {exc}") from None
    speakers = body.customer_speakers
    named = [("speaker", turn.speaker) for turn in turns]
    for what, name in [*named, *(("customer_speakers", s) for s in speakers or ())]:
        if name is not None and not _unicode(name):  # echoed in the answer: must encode
            raise InvalidRequest(f"{what}: holds an unpaired surrogate (not Unicode text)")
    if not any(counted_turns(turns, speakers)):
        raise InvalidText("no customer turn to score; name the customer in customer_speakers")
    grant = await admit_native(request, x_api_key, len(turns))
    result = await services.inference.run(analyze_conversation, turns, services.analyzer, speakers)
    return _json({"result": result.to_dict()}, grant)


def _unicode(value: str) -> bool:
    """Whether ``value`` is valid Unicode text (no unpaired surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def native_dialect() -> Dialect:
    return Dialect(name="native", router=router, prefixes=(PREFIX + "/",))
