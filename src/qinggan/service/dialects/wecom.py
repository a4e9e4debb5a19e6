"""WeCom session-archive sentiment (``/cgi-bin/gettoken``, ``/cgi-bin/chatdata/...``).

Tokens: ``GET /cgi-bin/gettoken?corpid=<app_id>&corpsecret=<secret>`` answers ``{"errcode": 0,
"errmsg": "ok", "access_token", "expires_in": 7200}``. The token is self-contained:
``<app_id>.<expiry, unix seconds>.<HMAC-SHA256 hex>`` keyed on the app's secret, so every server
process sharing the database verifies it without storing anything, and changing the secret
revokes every token of the app. A token is checked like a secret (constant time), then its
expiry (42001 after it).

Jobs: ``POST /cgi-bin/chatdata/create_sentiment_task?access_token=..`` with ``{"msg_list":
[{"msgid", "encrypt_info": {"secret_key"}}]}`` (1 to :data:`MAX_MESSAGES`; unknown fields
ignored) answers ``{"errcode", "errmsg", "jobid", "fail_list"}``: a repeated msgid goes to
``fail_list`` (errcode 710601, echoing the item) and the first occurrence wins. Each distinct
message costs one call of the app's daily quota (set it to 100,000 for WeCom's own limit).
``POST /cgi-bin/chatdata/get_sentiment_result?access_token=..`` with ``{"jobid"}`` answers
``{"errcode", "errmsg", "status", "analyze_result_list"}``: status 0 running, 1 done, 2 failed,
and every submitted message each time, ``sentiment_result`` 0 none, 1 positive, 2 negative once
known, or a per-item ``errcode``/``errmsg``.

The job handling sits behind :class:`SentimentJobs` (``create``/``get``), kept in the app state
under :data:`JOBS_STATE`. The service installs :class:`StoreSentimentJobs` at start-up: durable
jobs over the message archive (:mod:`qinggan.jobs`), analysed by workers; ``status`` stays 0 until
every item is resolved. :class:`InMemorySentimentJobs` (answers at once over an in-memory archive)
remains for tests and embedding. Sentiment: neutral is reported as 0 (no sentiment), since WeCom
has no neutral. Besides the app's daily call quota, the job store counts the distinct messages of
each organisation (app) per UTC day (100,000 by default, ``QINGGAN_JOBS_DAILY_QUOTA``) in the same
transaction that creates the job; a job over it gets 45009 and nothing of it is counted there.

Codes (``errcode``; every answer is HTTP 200, except an unknown path, HTTP 404). Nothing that
ends in an error is charged: the body is checked before the charge, and a refusal after it (the
job quota) gives the calls back.

======  ===================================================================================
0       ok
-1      unexpected server failure (never a client mistake)
40001   gettoken: wrong ``corpsecret``
40013   gettoken: unknown ``corpid``
40014   ``access_token`` malformed, unknown app, or not signed by the app's current secret
40058   invalid parameter: ``msg_list`` missing, empty, over the limit or with a malformed
        item (a msgid or secret_key too long or holding a NUL); ``jobid`` missing or unknown
        to this app; a body over the size limit
41001   ``access_token`` missing
41002   gettoken: ``corpid`` missing
41004   gettoken: ``corpsecret`` missing
42001   ``access_token`` expired
43001   gettoken needs GET
43002   the chatdata calls need POST
45009   the app's daily quota is used up
45011   over the app's requests per second
47001   the body is not a UTF-8 JSON object, or a string in it holds an unpaired surrogate
48001   no such API under ``/cgi-bin/``
48002   the app is disabled or may not use the WeCom dialect
60020   the client address is not in the app's IP allow-list
======  ===================================================================================

Per-item codes (ours; the seed shows 710601 without naming it): 710601 repeated msgid (in
``fail_list``); 710602 message not in the archive; 710603 content cannot be analysed (empty or
invalid text); 710604 ``secret_key`` does not decrypt the message (malformed, or the AES-GCM tag
fails); 710605 message type not analysed (only text, voice, audio); 710606 voice or audio message
without a transcript; 710607 analysis failed repeatedly (the job then ends with status 2).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256
from typing import Any, Protocol

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from qinggan.labels import Polarity
from qinggan.results import ItemError, PolarityResult
from qinggan.service.access import secret_proof
from qinggan.service.apps import App
from qinggan.service.context import client_ip, get_services
from qinggan.service.errors import QuotaExceeded, ServiceError
from qinggan.service.registry import Dialect

NAME = "wecom"
PREFIX = "/cgi-bin/"
TOKEN_TTL_S = 7200
MAX_MESSAGES = 1000
MAX_MSGID_CHARS = 256
#: longest ``secret_key`` a job item holds (the ``job_items.secret_key`` column)
MAX_SECRET_KEY_CHARS = 256
#: app-state attribute holding the :class:`SentimentJobs`
JOBS_STATE = "wecom_sentiment_jobs"
_TOKEN_PURPOSE = b"qinggan/wecom/access_token/v1"

#: service error code -> (errcode, errmsg)
CODES: dict[str, tuple[int, str]] = {
    "internal": (-1, "system busy"),
    "bad_secret": (40001, "invalid credential"),
    "bad_corpid": (40013, "invalid corpid"),
    "unknown_app": (40014, "invalid access_token"),
    "bad_credentials": (40014, "invalid access_token"),
    "invalid_request": (40058, "invalid parameter"),
    "invalid_text": (40058, "invalid parameter"),
    "payload_too_large": (40058, "invalid parameter"),
    "missing_token": (41001, "access_token missing"),
    "missing_corpid": (41002, "corpid missing"),
    "missing_secret": (41004, "corpsecret missing"),
    "stale_timestamp": (42001, "access_token expired"),
    "quota_exceeded": (45009, "api freq out of limit"),
    "rate_limited": (45011, "api minute-quota freq out of limit"),
    "bad_json": (47001, "data format error"),
    "bad_encoding": (47001, "data format error"),
    "unsupported_media_type": (47001, "data format error"),
    "not_found": (48001, "api unauthorized"),
    "app_disabled": (48002, "api forbidden"),
    "dialect_not_allowed": (48002, "api forbidden"),
    "ip_not_allowed": (60020, "not allow to access from your ip"),
}


class JobStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ItemProblem(StrEnum):
    """Why one message of a job has no sentiment."""

    DUPLICATE = "duplicate"
    UNKNOWN_MESSAGE = "unknown_message"
    UNUSABLE_CONTENT = "unusable_content"
    WRONG_KEY = "wrong_key"
    UNSUPPORTED_TYPE = "unsupported_type"
    NO_TRANSCRIPT = "no_transcript"
    INTERNAL = "internal"


#: the one label table: canonical values -> WeCom numbers and per-item codes
SENTIMENT: dict[Polarity, int] = {Polarity.NEUTRAL: 0, Polarity.POSITIVE: 1, Polarity.NEGATIVE: 2}
STATUS: dict[JobStatus, int] = {JobStatus.RUNNING: 0, JobStatus.DONE: 1, JobStatus.FAILED: 2}
ITEM_CODES: dict[ItemProblem, tuple[int, str]] = {
    ItemProblem.DUPLICATE: (710601, "duplicate msgid; the first occurrence is used"),
    ItemProblem.UNKNOWN_MESSAGE: (710602, "message not found in the archive"),
    ItemProblem.UNUSABLE_CONTENT: (710603, "message content cannot be analysed"),
    ItemProblem.WRONG_KEY: (710604, "secret_key does not decrypt the message"),
    ItemProblem.UNSUPPORTED_TYPE: (710605, "message type not supported"),
    ItemProblem.NO_TRANSCRIPT: (710606, "voice or audio message without a transcript"),
    ItemProblem.INTERNAL: (710607, "analysis failed; submit the message again"),
}


# -- jobs -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JobMessage:
    """One submitted message: its id and the key of its archived content (never stored)."""

    msgid: str
    secret_key: str


@dataclass(frozen=True, slots=True)
class JobItem:
    """One message of a job: its sentiment once known, or why there is none."""

    msgid: str
    sentiment: Polarity | None = None
    problem: ItemProblem | None = None


@dataclass(frozen=True, slots=True)
class JobView:
    status: JobStatus
    items: tuple[JobItem, ...]


class SentimentJobs(Protocol):
    """Where sentiment jobs live. ``owner`` is the app id: a job is visible to its owner only."""

    async def create(self, owner: str, messages: Sequence[JobMessage]) -> str:
        """Start a job over distinct messages; its id."""
        ...

    async def get(self, owner: str, jobid: str) -> JobView | None:
        """The job's state with every submitted message, or None if ``owner`` has no such job."""
        ...


Analyze = Callable[[list[str]], Awaitable[Sequence[PolarityResult | ItemError]]]


class InMemorySentimentJobs:
    """Jobs answered at once over the engine, kept in memory (the newest ``max_jobs``).

    ``archive`` maps msgid to text; with none (the default, until the message archive exists)
    every message is unknown. ``analyze`` answers polarity for a list of texts.
    """

    def __init__(
        self,
        analyze: Analyze,
        archive: Mapping[str, str] | None = None,
        *,
        max_jobs: int = 10_000,
    ) -> None:
        self.analyze = analyze
        self.archive: Mapping[str, str] = archive if archive is not None else {}
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, tuple[str, JobView]] = OrderedDict()

    async def create(self, owner: str, messages: Sequence[JobMessage]) -> str:
        known = [m.msgid for m in messages if m.msgid in self.archive]
        answers = await self.analyze([self.archive[msgid] for msgid in known]) if known else []
        found = dict(zip(known, answers, strict=True))
        items = []
        for message in messages:
            answer = found.get(message.msgid)
            if answer is None:
                items.append(JobItem(message.msgid, problem=ItemProblem.UNKNOWN_MESSAGE))
            elif isinstance(answer, ItemError):
                items.append(JobItem(message.msgid, problem=ItemProblem.UNUSABLE_CONTENT))
            else:
                items.append(JobItem(message.msgid, sentiment=answer.label))
        jobid = secrets.token_hex(16)  # never starts with "-": safe on a command line
        self._jobs[jobid] = (owner, JobView(JobStatus.DONE, tuple(items)))
        while len(self._jobs) > self.max_jobs:
            self._jobs.popitem(last=False)
        return jobid

    async def get(self, owner: str, jobid: str) -> JobView | None:
        entry = self._jobs.get(jobid)
        if entry is None or not hmac.compare_digest(entry[0], owner):
            return None
        return entry[1]


class StoreSentimentJobs:
    """Durable jobs in a :class:`qinggan.jobs.store.JobStore` (results written by workers)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def create(self, owner: str, messages: Sequence[JobMessage]) -> str:
        from qinggan.jobs.model import JobQuotaExceeded, TaskItem

        items = [TaskItem(m.msgid, m.secret_key) for m in messages]
        try:
            created = await anyio.to_thread.run_sync(self.store.create_job, owner, items)
        except JobQuotaExceeded as exc:
            raise QuotaExceeded(str(exc), app_id=owner) from None
        return str(created.jobid)

    async def get(self, owner: str, jobid: str) -> JobView | None:
        from qinggan.jobs.model import JobStatus as StoredStatus

        view = await anyio.to_thread.run_sync(lambda: self.store.get_job(jobid, org=owner))
        if view is None:
            return None
        status = {StoredStatus.DONE: JobStatus.DONE, StoredStatus.FAILED: JobStatus.FAILED}
        items = tuple(
            JobItem(
                item.msgid,
                sentiment=item.sentiment,
                problem=None if item.problem is None else ItemProblem(item.problem.value),
            )
            for item in view.items
        )
        return JobView(status.get(view.status, JobStatus.RUNNING), items)


def install_jobs(app: FastAPI, jobs: SentimentJobs) -> None:
    """Serve the WeCom job calls of ``app`` from ``jobs``."""
    setattr(app.state, JOBS_STATE, jobs)


def _jobs(request: Request) -> SentimentJobs:
    jobs: SentimentJobs | None = getattr(request.app.state, JOBS_STATE, None)
    if jobs is None:
        services = get_services(request)

        async def analyze(texts: list[str]) -> Sequence[PolarityResult | ItemError]:
            run = services.inference.run
            return await run(services.analyzer.analyze_batch, texts, errors="report")

        jobs = InMemorySentimentJobs(analyze)
        install_jobs(request.app, jobs)
    return jobs


# -- tokens -----------------------------------------------------------------------------------
def _token_mac(secret: str, app_id: str, expires: int) -> str:
    message = _TOKEN_PURPOSE + f"|{app_id}|{expires}".encode()
    return hmac.new(secret.encode(), message, sha256).hexdigest()


def issue_token(app: App, *, now: float | None = None) -> str:
    """A token for ``app`` valid :data:`TOKEN_TTL_S` seconds."""
    expires = int(now if now is not None else time.time()) + TOKEN_TTL_S
    return f"{app.app_id}.{expires}.{_token_mac(app.secret, app.app_id, expires)}"


_TOKEN = re.compile(r"([0-9A-Za-z_-]{1,64})\.([0-9]{1,12})\.([0-9a-f]{64})")


class WecomError(ServiceError):
    status = 200

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def render(request: Request, error: ServiceError) -> Response:
    if error.code == "method_not_allowed":
        get_only = request.url.path.rstrip("/").endswith("/gettoken")
        errcode, errmsg = (43001, "require GET method") if get_only else (43002, "require POST")
    else:
        errcode, errmsg = CODES.get(error.code, CODES["internal"])
    status = 404 if error.code == "not_found" else 200
    return JSONResponse({"errcode": errcode, "errmsg": errmsg}, status_code=status)


async def _token_app(request: Request) -> App:
    """The app whose valid, unexpired token the request carries."""
    token = request.query_params.get("access_token", "").strip()
    if not token:
        raise WecomError("missing_token", "access_token is missing")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise WecomError("bad_credentials", "access_token is malformed")
    app_id, expires, mac = match[1], int(match[2]), match[3]

    def prove(app: App) -> bool:
        return hmac.compare_digest(_token_mac(app.secret, app_id, expires), mac)

    access = get_services(request).access
    app = await access.authenticate(app_id, prove, dialect=NAME, client_ip=client_ip(request))
    if expires < time.time():
        raise WecomError("stale_timestamp", "access_token expired")
    return app


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads((await request.body()).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WecomError("bad_json", "the body is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise WecomError("bad_json", "the body must be a JSON object")
    if not _unicode(body):
        raise WecomError("bad_json", "the body holds an unpaired surrogate (not Unicode text)")
    return body


def _unicode(value: Any, depth: int = 0) -> bool:
    """Whether every string in a decoded JSON value is valid Unicode (no lone surrogate), so
    that it can be stored and echoed; checked before anything is charged."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if depth > 64:  # deeper than any body of ours: json.loads bounds it anyway
        return False
    if isinstance(value, dict):
        return all(_unicode(k, depth + 1) and _unicode(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_unicode(v, depth + 1) for v in value)
    return True


def _messages(body: Mapping[str, Any]) -> list[tuple[JobMessage, Any]]:
    """Every submitted message (with its raw ``encrypt_info``), in order, checked."""
    msg_list = body.get("msg_list")
    if not isinstance(msg_list, list) or not msg_list:
        raise WecomError("invalid_request", "msg_list must be a non-empty list")
    if len(msg_list) > MAX_MESSAGES:
        raise WecomError("invalid_request", f"msg_list holds at most {MAX_MESSAGES} messages")
    out = []
    for index, item in enumerate(msg_list):
        msgid = item.get("msgid") if isinstance(item, dict) else None
        info = item.get("encrypt_info") if isinstance(item, dict) else None
        key = info.get("secret_key") if isinstance(info, dict) else None
        if (
            not isinstance(msgid, str)
            or not msgid.strip()
            or len(msgid) > MAX_MSGID_CHARS
            or "\x00" in msgid
        ):
            raise WecomError("invalid_request", f"msg_list[{index}].msgid is missing or invalid")
        if not isinstance(key, str) or len(key) > MAX_SECRET_KEY_CHARS or "\x00" in key:
            raise WecomError("invalid_request", f"msg_list[{index}].encrypt_info.secret_key")
        out.append((JobMessage(msgid, key), info))
    return out


router = APIRouter(tags=["wecom"])


@router.get("/cgi-bin/gettoken", summary="WeCom access token")
async def gettoken(request: Request) -> Response:
    query = request.query_params
    corpid, corpsecret = query.get("corpid", "").strip(), query.get("corpsecret", "")
    if not corpid:
        raise WecomError("missing_corpid", "corpid is missing")
    if not corpsecret:
        raise WecomError("missing_secret", "corpsecret is missing")
    access = get_services(request).access
    try:
        app = await access.authenticate(
            corpid, secret_proof(corpsecret), dialect=NAME, client_ip=client_ip(request)
        )
    except ServiceError as exc:
        renamed = {"unknown_app": "bad_corpid", "bad_credentials": "bad_secret"}.get(exc.code)
        if renamed is None:
            raise
        raise WecomError(renamed, exc.message) from None
    await access.charge(app, 0, dialect=NAME)  # one request toward the rate limit
    return JSONResponse(
        {
            "errcode": 0,
            "errmsg": "ok",
            "access_token": issue_token(app),
            "expires_in": TOKEN_TTL_S,
        }
    )


@router.post("/cgi-bin/chatdata/create_sentiment_task", summary="WeCom: create a sentiment job")
async def create_sentiment_task(request: Request) -> Response:
    app = await _token_app(request)
    submitted = _messages(await _json_object(request))
    first: dict[str, JobMessage] = {}
    fail_list = []
    for message, info in submitted:
        if message.msgid in first:
            errcode, errmsg = ITEM_CODES[ItemProblem.DUPLICATE]
            fail_list.append(
                {"errcode": errcode, "errmsg": errmsg, "msgid": message.msgid, "encrypt_info": info}
            )
        else:
            first[message.msgid] = message
    await get_services(request).access.charge(app, len(first), dialect=NAME)
    jobid = await _jobs(request).create(app.app_id, list(first.values()))
    return JSONResponse({"errcode": 0, "errmsg": "ok", "jobid": jobid, "fail_list": fail_list})


@router.post("/cgi-bin/chatdata/get_sentiment_result", summary="WeCom: a sentiment job's results")
async def get_sentiment_result(request: Request) -> Response:
    app = await _token_app(request)
    jobid = (await _json_object(request)).get("jobid")
    if not isinstance(jobid, str) or not jobid.strip():
        raise WecomError("invalid_request", "jobid is missing")
    if len(jobid) > 64 or "\x00" in jobid:  # no job has such an id
        raise WecomError("invalid_request", "no such jobid")
    await get_services(request).access.charge(app, 0, dialect=NAME)
    view = await _jobs(request).get(app.app_id, jobid.strip())
    if view is None:
        raise WecomError("invalid_request", "no such jobid")
    results = []
    for item in view.items:
        if item.problem is not None:
            errcode, errmsg = ITEM_CODES[item.problem]
            if item.problem is ItemProblem.UNKNOWN_MESSAGE:  # say where we looked, and the fix
                errmsg = (
                    f"message not found in the archive of app {app.app_id}; import it with "
                    f"`qinggan archive import FILE --app {app.app_id}` or "
                    "POST /api/v1/archive/import"
                )
            results.append({"errcode": errcode, "errmsg": errmsg, "msgid": item.msgid})
        elif item.sentiment is not None:
            results.append(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "msgid": item.msgid,
                    "sentiment_result": SENTIMENT[item.sentiment],
                }
            )
        else:  # not known yet
            results.append({"errcode": 0, "errmsg": "ok", "msgid": item.msgid})
    return JSONResponse(
        {
            "errcode": 0,
            "errmsg": "ok",
            "status": STATUS[view.status],
            "analyze_result_list": results,
        }
    )


def dialect() -> Dialect:
    return Dialect(name=NAME, router=router, prefixes=(PREFIX,), render_error=render)
