"""Pure ASGI middleware: the request body limit, and observation (metrics, a log line without
the query string or body, and a generic 500 for anything unexpected)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qinggan.service.errors import PayloadTooLarge
from qinggan.service.handlers import InternalError, error_response, route_of

logger = logging.getLogger("qinggan.service")


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413: at once by Content-Length, else while reading."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
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
    turn an unexpected exception into a generic 500 and log only its type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def observed(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except Exception as exc:
            logger.error("unexpected %s while serving %s", type(exc).__name__, route_of(scope))
            status = 500
            if not started:
                response = error_response(Request(scope), InternalError("internal server error"))
                await response(scope, receive, send)
        finally:
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        app: Any = scope.get("app")
        services = getattr(getattr(app, "state", None), "services", None)
        route = route_of(scope)
        if services is not None:
            dialect = services.dialects.name_for(scope.get("path", ""))
            services.metrics.requests.labels(route, dialect, str(status)).inc()
            services.metrics.latency.labels(route, dialect).observe(seconds)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %d %.1fms", scope.get("method"), route, status, seconds * 1000)
