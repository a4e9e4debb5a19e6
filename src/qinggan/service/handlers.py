"""Exception handlers: every client mistake becomes a typed :class:`ServiceError`, rendered by the
dialect that owns the path; nothing here ever answers with a traceback."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qinggan.errors import InputError
from qinggan.service.errors import (
    BadEncoding,
    BadJson,
    InvalidRequest,
    InvalidText,
    NotFound,
    PayloadTooLarge,
    RequestError,
    ServiceError,
    UnsupportedMediaType,
)

logger = logging.getLogger("qinggan.service")

_BY_STATUS: dict[int, type[ServiceError]] = {
    400: RequestError,
    404: NotFound,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidRequest,
}


class MethodNotAllowed(RequestError):
    status, code = 405, "method_not_allowed"


class InternalError(ServiceError):
    status, code = 500, "internal"


def route_of(request_scope: MutableMapping[str, Any]) -> str:
    """The matched route's template (``/api/v1/polarity``), never the raw path."""
    route = request_scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def error_response(request: Request, error: ServiceError) -> Response:
    """Count the error and render it in the dialect of the request's path."""
    services = getattr(request.app.state, "services", None)
    if services is None:  # before start-up finished
        from qinggan.service.registry import render_native_error

        return render_native_error(request, error)
    dialects = services.dialects
    services.metrics.errors.labels(
        route_of(request.scope), dialects.name_for(request.url.path), error.code
    ).inc()
    return dialects.render(request, error)


def describe_validation(errors: Sequence[Any]) -> str:
    """One short line per problem (at most three), naming the field, never echoing the input."""
    lines = []
    for error in list(errors)[:3]:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        lines.append(f"{loc}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(lines) + more


def to_service_error(exc: Exception) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return BadJson("the body is not valid JSON")
        return InvalidRequest(describe_validation(errors))
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 405:
            return MethodNotAllowed("method not allowed on this path")
        kind = _BY_STATUS.get(exc.status_code)
        if kind is None:
            error = RequestError(str(exc.detail))
            error.status = exc.status_code
            return error
        detail = exc.detail if isinstance(exc.detail, str) else kind.code.replace("_", " ")
        return kind(detail)
    if isinstance(exc, UnicodeDecodeError):
        return BadEncoding("the body is not valid UTF-8")
    if isinstance(exc, InputError):
        return InvalidText(str(exc))
    return InternalError("internal server error")


async def refund_request(request: Request) -> None:
    """Give back what the request was charged (it ends in an error); never raises."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return
    try:
        await services.access.refund_request()
    except Exception as exc:  # the error answer must still go out
        logger.warning("could not refund a failed request: %s", type(exc).__name__)


async def _handle(request: Request, exc: Exception) -> Response:
    error = to_service_error(exc)
    await refund_request(request)
    return error_response(request, error)


def install(app: FastAPI) -> None:
    for kind in (
        ServiceError,
        RequestValidationError,
        StarletteHTTPException,
        InputError,
        UnicodeDecodeError,
    ):
        app.add_exception_handler(kind, _handle)
