"""Pure ASGI middleware: the request head and body limits, and observation (metrics, a log line
without the query string or body, a generic 500 for anything unexpected, and the refund of a
request that was charged and still failed)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qinggan.service.access import open_ledger
from qinggan.service.errors import HeadersTooLarge, PayloadTooLarge
from qinggan.service.handlers import InternalError, error_response, refund_request, route_of
from qinggan.service.metrics import CLIENT_CLOSED

logger = logging.getLogger("qinggan.service")

#: most bytes of a request head (request target plus every header name and value); ``qinggan
#: serve`` also caps what the HTTP parser buffers (see :mod:`qinggan.service.server`)
MAX_HEADER_BYTES = 64 * 1024


def head_size(scope: Scope) -> int:
    """Bytes of the request target and headers, as the server parsed them."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    return size + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))


class BodyLimitMiddleware:
    """Refuse a head over ``max_header_bytes`` with 431 before any work, and bodies over
    ``max_bytes`` with 413: at once by Content-Length, else while reading."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, max_header_bytes: int = MAX_HEADER_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if head_size(scope) > self.max_header_bytes:
            limit = self.max_header_bytes
            too_long = HeadersTooLarge(f"the request headers are over the limit of {limit} bytes")
            await error_response(Request(scope), too_long)(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = PayloadTooLarge(f"the body is over the limit of {self.max_bytes} bytes")
            await error_response(Request(scope), error)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    limit = self.max_bytes
                    raise HTTPException(413, f"the body is over the limit of {limit} bytes")
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ObserveMiddleware:
    """Count and time every request by route template and dialect; log one line per request at
    DEBUG (method, route template, status, milliseconds: no path parameters, query or body);
    turn an unexpected exception into a generic 500 (refunding what the request was charged)
    and log only its type. A client that goes away before its answer is counted as status
    ``499`` and logged at DEBUG: that is not a server error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: int | str = 500
        started = finished = gone = False
        open_ledger()

        async def watched() -> Message:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
            return message

        async def observed(message: Message) -> None:
            nonlocal status, started, finished
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, watched, observed)
        except Exception as exc:
            if gone or isinstance(exc, ClientDisconnect):
                logger.debug("client closed the connection while %s was served", route_of(scope))
                status = CLIENT_CLOSED
            else:
                logger.error("unexpected %s while serving %s", type(exc).__name__, route_of(scope))
                status = 500
                request = Request(scope)
                await refund_request(request)
                if not started:
                    response = error_response(request, InternalError("internal server error"))
                    await response(scope, receive, send)
        finally:
            if gone and not finished:
                status = CLIENT_CLOSED
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int | str, seconds: float) -> None:
        app: Any = scope.get("app")
        services = getattr(getattr(app, "state", None), "services", None)
        route = route_of(scope)
        if services is not None:
            dialect = services.dialects.name_for(scope.get("path", ""))
            services.metrics.requests.labels(route, dialect, str(status)).inc()
            services.metrics.latency.labels(route, dialect).observe(seconds)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s %.1fms", scope.get("method"), route, status, seconds * 1000)
