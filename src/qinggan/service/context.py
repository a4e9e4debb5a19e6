"""What a request handler reaches through ``request.app.state``: the :class:`Services`, and the
helpers every dialect calls (:func:`get_services`, :func:`authorize`, :func:`run_inference`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request

from qinggan.config import Settings
from qinggan.engine import Analyzer
from qinggan.service.access import Access, Grant, Proof
from qinggan.service.errors import BadEncoding
from qinggan.service.inference import Inference
from qinggan.service.metrics import Metrics
from qinggan.service.registry import DialectRegistry
from qinggan.service.store import AppStore

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    analyzer: Analyzer
    store: AppStore
    access: Access
    inference: Inference
    metrics: Metrics
    dialects: DialectRegistry


def get_services(request: Request) -> Services:
    """The running app's services (a FastAPI dependency; tests may override it)."""
    services: Services = request.app.state.services
    return services


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def authorize(
    request: Request, *, dialect: str, app_id: str, proof: Proof, calls: int = 1
) -> Grant:
    """Verify the app (proof, enabled, ``dialect`` allowed, client IP allowed) and charge
    ``calls``; returns the :class:`Grant` (``grant.remain``) or raises an ``AccessError``."""
    return await get_services(request).access.admit(
        app_id, proof, dialect=dialect, client_ip=client_ip(request), calls=calls
    )


async def run_inference(request: Request, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` (an engine call) in the inference thread pool, awaited."""
    return await get_services(request).inference.run(fn, *args, **kwargs)


async def read_form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` fields of the body (the first of a repeated
    name wins; blank values kept), whatever the declared content type; raises
    :class:`BadEncoding` when the body or a percent-escape is not UTF-8."""
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadEncoding("the form is not valid UTF-8") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
