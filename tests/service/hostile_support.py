"""Hostile requests for every door, and a real ``qinggan serve`` on loopback to send them to.

Shared by ``test_hostile.py`` (each reported case, one by one) and ``test_fuzz_schema.py`` (the
schema-driven fuzz run, which replays these too)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2 as httpx

from qinggan.config import Settings
from qinggan.service.apps import App
from tests.service.conftest import serve_process
from tests.service.dialects.support import iflytek_headers, jd_query, jumdata_form

SURROGATE = "\ud800"
NUL = "\x00"
HUGE = 2**64 + 1
#: the "internal failure" answer of each door: never allowed, whatever the input
INTERNAL = {"jd": ("code", "10020"), "jumdata": ("code", 500), "iflytek": ("code", "10700"),
            "wecom": ("errcode", -1)}  # fmt: skip
#: a vendor answer that is an error although its HTTP status is 200
VENDOR_OK = {"jd": ("code", "10000"), "jumdata": ("code", 200), "iflytek": ("code", "0"),
             "wecom": ("errcode", 0)}  # fmt: skip


@dataclass(frozen=True)
class Hostile:
    """One hostile request: ``raw`` JSON/form text is sent as UTF-8 bytes as it is (so that a
    ``\\ud800`` escape reaches the server's JSON decoder)."""

    name: str
    method: str
    path: str
    dialect: str
    raw: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: calls a successful answer costs (the good items of a batch); an error costs none
    charge: int = 0


def vendor_error(dialect: str, answer: httpx.Response) -> bool:
    """Whether ``answer`` is an error (HTTP status or the vendor's own code)."""
    if answer.status_code >= 400:
        return True
    if dialect not in VENDOR_OK:
        return False
    try:
        body = answer.json()
    except ValueError:
        return True
    key, ok = VENDOR_OK[dialect]
    return not isinstance(body, dict) or body.get(key) != ok


def internal_failure(dialect: str, answer: httpx.Response) -> bool:
    """A 5xx, or a door's own "internal failure" code in a 200."""
    if answer.status_code >= 500:
        return True
    if dialect not in INTERNAL:
        return False
    try:
        body = answer.json()
    except ValueError:
        return False
    key, bad = INTERNAL[dialect]
    return isinstance(body, dict) and body.get(key) == bad


def wecom_token(client: httpx.Client, app: App) -> str:
    answer = client.get("/cgi-bin/gettoken", params={"corpid": app.app_id,
                                                       "corpsecret": app.secret})  # fmt: skip
    token: str = answer.json()["access_token"]
    return token


def hostile_requests(app: App, token: str) -> list[Hostile]:
    """The hand-written cases: lone surrogates, NUL, huge numbers, over-long fields, form
    bodies and query signatures gone wrong, at every door (with valid credentials, so that
    the input reaches the code behind authentication)."""
    key = {"X-API-Key": f"{app.app_id}:{app.secret}"}
    s, n = "\\ud800", "\\u0000"  # JSON escapes, decoded by the server
    jd = "&".join(f"{k}={v}" for k, v in jd_query(app.app_id, app.secret).items())
    jd_nul = jd.replace(f"appkey={app.app_id}", "appkey=%00")
    wq = f"access_token={token}"
    cases = [
        Hostile("native text surrogate", "POST", "/api/v1/polarity", "native",
                f'{{"text": "{s}"}}', headers=key),
        Hostile("native texts surrogate", "POST", "/api/v1/emotions", "native",
                f'{{"texts": ["好", "{s}"]}}', headers=key, charge=1),
        Hostile("native scene surrogate", "POST", "/api/v1/dialogue-emotion", "native",
                f'{{"text": "好", "scene": "{s}"}}', headers=key),
        Hostile("trend speaker surrogate", "POST", "/api/v1/trend", "native",
                f'{{"turns": [{{"text": "货还没到", "speaker": "{s}"}}], '
                f'"customer_speakers": ["{s}"]}}', headers=key),
        Hostile("trend customer surrogate", "POST", "/api/v1/trend", "native",
                f'{{"texts": ["货还没到"], "customer_speakers": ["{s}"]}}', headers=key),
        Hostile("trend turn NUL", "POST", "/api/v1/trend", "native",
                f'{{"texts": ["货{n}还没到"]}}', headers=key, charge=1),
        Hostile("jobs msgid surrogate", "POST", "/api/v1/jobs", "native",
                f'{{"messages": [{{"msgid": "{s}"}}]}}', headers=key),
        Hostile("jobs msgid NUL", "POST", "/api/v1/jobs", "native",
                f'{{"messages": [{{"msgid": "a{n}"}}]}}', headers=key),
        Hostile("jobs secret_key NUL", "POST", "/api/v1/jobs", "native",
                f'{{"messages": [{{"msgid": "a", "secret_key": "{n}"}}]}}', headers=key),
        Hostile("job id NUL", "GET", "/api/v1/jobs/%00", "native", headers=key),
        Hostile("job id surrogate bytes", "GET", "/api/v1/jobs/%ED%A0%80", "native",
                headers=key),
        Hostile("job id too long", "GET", "/api/v1/jobs/" + "a" * 300, "native", headers=key),
        Hostile("jobs limit huge", "GET", f"/api/v1/jobs?limit={HUGE}", "native", headers=key),
        Hostile("JD appkey NUL", "POST", f"/jdai/sentiment?{jd_nul}", "jd",
                '{"type": 1, "text": "好"}'),
        Hostile("JD text surrogate", "POST", f"/jdai/sentiment?{jd}", "jd",
                f'{{"type": 1, "text": "{s}"}}'),
        Hostile("JD type huge", "POST", f"/jdai/sentimentV2?{jd}", "jd",
                f'{{"type": {HUGE}, "text": "好"}}'),
        Hostile("JD series surrogate", "POST", f"/jdai/sentimentSeries?{jd}", "jd",
                f'{{"texts": ["好", "{s}"]}}'),
        Hostile("JD timestamp huge", "POST",
                f"/jdai/sentiment?appkey={app.app_id}&timestamp={HUGE}&sign=x", "jd",
                '{"type": 1, "text": "好"}'),
        Hostile("WeCom corpid NUL", "GET", "/cgi-bin/gettoken?corpid=%00&corpsecret=x", "wecom"),
        Hostile("WeCom corpid long", "GET",
                "/cgi-bin/gettoken?corpid=" + "a" * 300 + "&corpsecret=x", "wecom"),
        Hostile("WeCom token NUL", "POST", "/cgi-bin/chatdata/get_sentiment_result?"
                "access_token=%00", "wecom", '{"jobid": "x"}'),
        Hostile("WeCom msgid surrogate", "POST",
                f"/cgi-bin/chatdata/create_sentiment_task?{wq}", "wecom",
                f'{{"msg_list": [{{"msgid": "{s}", "encrypt_info": {{"secret_key": ""}}}}]}}'),
        Hostile("WeCom secret_key surrogate", "POST",
                f"/cgi-bin/chatdata/create_sentiment_task?{wq}", "wecom",
                f'{{"msg_list": [{{"msgid": "m", "encrypt_info": {{"secret_key": "{s}"}}}}]}}'),
        Hostile("WeCom echoed info surrogate", "POST",
                f"/cgi-bin/chatdata/create_sentiment_task?{wq}", "wecom",
                '{"msg_list": [{"msgid": "m", "encrypt_info": {"secret_key": ""}}, '
                f'{{"msgid": "m", "encrypt_info": {{"secret_key": "", "x": "{s}"}}}}]}}'),
        Hostile("WeCom msgid NUL", "POST", f"/cgi-bin/chatdata/create_sentiment_task?{wq}",
                "wecom", f'{{"msg_list": [{{"msgid": "m{n}", "encrypt_info": '
                '{"secret_key": ""}}]}'),
        Hostile("WeCom jobid surrogate", "POST",
                f"/cgi-bin/chatdata/get_sentiment_result?{wq}", "wecom", f'{{"jobid": "{s}"}}'),
        Hostile("WeCom jobid NUL", "POST", f"/cgi-bin/chatdata/get_sentiment_result?{wq}",
                "wecom", f'{{"jobid": "j{n}"}}'),
        Hostile("WeCom jobid huge", "POST", f"/cgi-bin/chatdata/get_sentiment_result?{wq}",
                "wecom", f'{{"jobid": {HUGE}}}'),
        Hostile("Jumdata appId NUL", "POST", "/text-analysi/sentiment/analysis", "jumdata",
                _form({**jumdata_form(app.app_id, app.secret), "appId": NUL}, text="好"),
                content_type="application/x-www-form-urlencoded"),
        Hostile("Jumdata appId long", "POST", "/text-analysi/emotion/discern", "jumdata",
                _form({**jumdata_form(app.app_id, app.secret), "appId": "a" * 300}, text="好"),
                content_type="application/x-www-form-urlencoded"),
        Hostile("Jumdata appId surrogate bytes", "POST", "/text-analysi/emotion/discern",
                "jumdata", _form(jumdata_form(app.app_id, app.secret), text="好").replace(
                    f"appId={app.app_id}", "appId=%ED%A0%80"),
                content_type="application/x-www-form-urlencoded"),
        Hostile("iFlytek appid long", "POST", "/v1/sa", "iflytek", "text=好",
                content_type="application/x-www-form-urlencoded",
                headers=iflytek_headers("a" * 300, app.secret)),
        Hostile("Jumdata text NUL", "POST", "/text-analysi/sentiment/analysis", "jumdata",
                _form(jumdata_form(app.app_id, app.secret), text="好\x00"),
                content_type="application/x-www-form-urlencoded", charge=1),
        Hostile("Jumdata text surrogate bytes", "POST", "/text-analysi/sentiment/analysis",
                "jumdata", _form(jumdata_form(app.app_id, app.secret)) + "&text=%ED%A0%80",
                content_type="application/x-www-form-urlencoded"),
        Hostile("Jumdata timestamp huge", "POST", "/text-analysi/sentiment/analysis", "jumdata",
                f"appId={app.app_id}&timestamp={'9' * 40}&sign=x&text=好",
                content_type="application/x-www-form-urlencoded"),
        Hostile("Jumdata scene NUL", "POST", "/text-analysi/emotion/discern", "jumdata",
                _form(jumdata_form(app.app_id, app.secret), text="好", scene="\x00"),
                content_type="application/x-www-form-urlencoded"),
        Hostile("iFlytek text NUL", "POST", "/v1/sa", "iflytek", "text=%00",
                content_type="application/x-www-form-urlencoded",
                headers=iflytek_headers(app.app_id, app.secret), charge=1),
        Hostile("iFlytek text surrogate bytes", "POST", "/v1/sa", "iflytek", "text=%ED%A0%80",
                content_type="application/x-www-form-urlencoded",
                headers=iflytek_headers(app.app_id, app.secret)),
        Hostile("iFlytek curtime huge", "POST", "/v1/sa", "iflytek", "text=好",
                content_type="application/x-www-form-urlencoded",
                headers={**iflytek_headers(app.app_id, app.secret), "X-CurTime": "9" * 40}),
        Hostile("admin app id NUL", "PATCH", "/api/v1/admin/apps/%00", "native",
                '{"rps": 1}', headers={"X-Admin-Key": ADMIN_KEY}),
        Hostile("admin daily_quota huge", "PATCH", f"/api/v1/admin/apps/{app.app_id}",
                "native", f'{{"daily_quota": {HUGE}}}', headers={"X-Admin-Key": ADMIN_KEY}),
        Hostile("admin rps over 32 bits", "PATCH", f"/api/v1/admin/apps/{app.app_id}",
                "native", f'{{"rps": {2**40}}}', headers={"X-Admin-Key": ADMIN_KEY}),
        Hostile("archive import hostile", "POST", "/api/v1/archive/import", "native",
                json.dumps({"messages": hostile_archive()}).replace("SURROGATE", s),
                headers=key),
        Hostile("trailing slash", "POST", "/api/v1/polarity/", "native", '{"text": "好"}',
                headers={**key, "Host": "evil.example"}),
    ]  # fmt: skip
    return cases


def _form(fields: dict[str, str], **extra: str) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in {**fields, **extra}.items())


def hostile_archive() -> list[dict[str, Any]]:
    """One good archive message, then one bad one per reported trap (``"SURROGATE"`` stands
    for a JSON ``\\ud800`` escape, put in by the caller)."""
    text = {"msgtype": "text", "content": "谢谢，问题解决了"}
    return [
        {"msgid": "good-1", **text},
        {"msgid": "bad-surrogate", "msgtype": "text", "content": "SURROGATE"},
        {"msgid": "bad-nul-msgid\x00", **text},
        {"msgid": "bad-nul-sender", "sender": "a\x00b", **text},
        {"msgid": "bad-msgtime", "msgtime": HUGE, **text},
        {"msgid": "bad-conversation", "conversation_id": "c" * 257, **text},
        {"msgid": "bad-sender-long", "sender": "s" * 257, **text},
        {"msgid": "bad-msgtype", "msgtype": "t" * 33, "content": "好"},
        {"msgid": "good-2", **text},
    ]


ADMIN_KEY = "hostile-admin-key-0123456789"


def send(client: httpx.Client, case: Hostile) -> httpx.Response:
    headers = {"Content-Type": case.content_type, **case.headers}
    body = None if case.raw is None else case.raw.encode("utf-8")
    return client.request(case.method, case.path, content=body, headers=headers)


@contextmanager
def qinggan_serve(settings: Settings, log: Path) -> Iterator[str]:
    """``python -m qinggan serve`` (the real command, with its uvicorn options) on
    127.0.0.1:``settings.port``, logging to ``log``; yields the base URL once /healthz answers."""
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1",
           "QINGGAN_JOBS_IN_PROCESS_WORKER": "0"}  # fmt: skip
    command = [sys.executable, "-m", "qinggan", "serve"]
    with serve_process(command, env, log, settings.port) as base_url:
        yield base_url


def server_errors(log: Path) -> list[str]:
    """Lines of the server log that show a server error (a traceback or an ERROR line)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if re.search(r"Traceback|\bERROR\b", line)]
