"""The dialect registry: which router serves which paths, and who renders their errors."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qinggan.service.errors import ServiceError

#: turns a service error met while serving a dialect's path into that dialect's answer
ErrorRenderer = Callable[[Request, ServiceError], Response]

#: modules of ``qinggan.service.dialects`` tried by :func:`discover_dialects`, in order
DIALECT_MODULES: tuple[str, ...] = ("jd", "jumdata", "iflytek", "wecom")


def render_native_error(request: Request, error: ServiceError) -> Response:
    """``{"error": {"code", "message"}}`` with the error's HTTP status."""
    headers = {"Retry-After": "1"} if error.code == "rate_limited" else None
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.status,
        headers=headers,
    )


@dataclass(frozen=True, slots=True)
class Dialect:
    """One door of the service.

    ``name`` is what apps are allowed by (one of :data:`qinggan.service.apps.DIALECTS`);
    ``router`` holds its routes at their full paths; ``prefixes`` are the path prefixes it owns
    (errors on those paths, even unmatched ones, are rendered by ``render_error``).
    """

    name: str
    router: APIRouter
    prefixes: tuple[str, ...]
    render_error: ErrorRenderer = render_native_error


class DialectRegistry:
    def __init__(self, dialects: Iterable[Dialect]) -> None:
        self.dialects: tuple[Dialect, ...] = tuple(dialects)
        names = [d.name for d in self.dialects]
        if len(set(names)) != len(names):
            raise ValueError(f"dialects registered twice: {names}")
        # longest prefix first, so /v1/sa is not shadowed by a shorter one
        self._by_prefix = sorted(
            ((p, d) for d in self.dialects for p in d.prefixes), key=lambda pd: -len(pd[0])
        )

    def for_path(self, path: str) -> Dialect | None:
        for prefix, dialect in self._by_prefix:
            if path.startswith(prefix):
                return dialect
        return None

    def name_for(self, path: str) -> str:
        dialect = self.for_path(path)
        return dialect.name if dialect is not None else "none"

    def render(self, request: Request, error: ServiceError) -> Response:
        dialect = self.for_path(request.url.path)
        render = dialect.render_error if dialect is not None else render_native_error
        try:
            return render(request, error)
        except Exception:  # a broken renderer must not turn a client mistake into a traceback
            return render_native_error(request, error)


def discover_dialects(names: Sequence[str] = DIALECT_MODULES) -> list[Dialect]:
    """The vendor dialects that are installed: each module ``qinggan.service.dialects.<name>``
    that exists and defines ``dialect() -> Dialect``."""
    found = []
    for name in names:
        module_name = f"qinggan.service.dialects.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.append(module.dialect())
    return found
