"""The admin routes under ``/api/v1/admin/``: every app's limits and usage, and changing them.

Auth: the header ``X-Admin-Key`` must equal ``Settings.admin_key`` (``QINGGAN_ADMIN_KEY``);
without a configured key the routes answer 403 ``admin_disabled``, a missing or wrong key 401
``bad_admin_key``. An admin sees limits and counts, never an app's secret, texts or results.

``GET /api/v1/admin/apps`` answers ``{"day", "apps": [APP, ...]}`` with, per app, its settings
(:meth:`App.to_dict` without the secret) and ``calls_today``, ``calls_7d`` (seven ``{"day",
"calls"}``, oldest first, today last) and ``jobs`` (``messages_today``, ``quota`` (0 =
unlimited), ``total``, ``running``). ``PATCH /api/v1/admin/apps/{app_id}`` takes any of
``daily_quota`` and ``rps`` (an integer; ``null`` or ``0`` = unlimited) and ``enabled``, and
answers the app as ``GET`` shows it; a limit or a disabling applies to the app's next request.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from qinggan.errors import ConfigError
from qinggan.service.apps import App
from qinggan.service.archive_routes import job_store
from qinggan.service.context import get_services
from qinggan.service.errors import (
    AdminDisabled,
    AppNotFound,
    BadAdminKey,
    InvalidRequest,
    UnknownApp,
)
from qinggan.service.native import PREFIX, NativeRoute
from qinggan.service.store import MAX_DAILY_QUOTA, MAX_RPS

#: days of usage an app's row shows
HISTORY_DAYS = 7
#: the limits PATCH can change
LIMITS = ("daily_quota", "rps")

router = APIRouter(prefix=f"{PREFIX}/admin", route_class=NativeRoute, tags=["admin"])
AdminKey = Annotated[
    str | None, Header(alias="X-Admin-Key", description="the server's QINGGAN_ADMIN_KEY")
]


class LimitsIn(BaseModel):
    """The fields to change; an absent field stays as it is."""

    model_config = ConfigDict(extra="forbid")
    daily_quota: int | None = Field(
        None, ge=0, le=MAX_DAILY_QUOTA, description="calls per UTC day; null/0 unlimited"
    )
    rps: int | None = Field(
        None, ge=0, le=MAX_RPS, description="requests per second; null/0 unlimited"
    )
    enabled: bool | None = None


def check_admin(request: Request, given: str | None) -> None:
    """Raise unless ``given`` is the configured admin key (compared in constant time)."""
    expected = get_services(request).settings.admin_key
    if not expected:
        raise AdminDisabled("the admin routes are off: set QINGGAN_ADMIN_KEY on the server")
    if not given or not hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8", "surrogatepass")
    ):
        raise BadAdminKey("send the server's admin key in the X-Admin-Key header")


def _overview(request: Request, apps: list[App]) -> dict[str, Any]:
    """The admin's view of ``apps`` (runs in a thread: it reads both stores)."""
    store = get_services(request).store
    jobs = job_store(request)
    now = datetime.now(UTC)
    days = [
        (now - timedelta(days=back)).date().isoformat() for back in reversed(range(HISTORY_DAYS))
    ]
    usage = store.usage_by_day(days=HISTORY_DAYS, now=now)
    activity = jobs.activity(now=now.timestamp())
    rows = []
    for app in apps:
        calls = usage.get(app.app_id, {})
        job = activity.get(app.app_id)
        rows.append(
            {
                **app.to_dict(),
                "calls_today": calls.get(days[-1], 0),
                "calls_7d": [{"day": day, "calls": calls.get(day, 0)} for day in days],
                "jobs": {
                    "messages_today": job.messages_today if job else 0,
                    "quota": jobs.settings.daily_quota,
                    "total": job.jobs if job else 0,
                    "running": job.running if job else 0,
                },
            }
        )
    return {"day": days[-1], "apps": rows}


@router.get("/apps", summary="Every app with its limits and usage (admin key)")
async def list_apps(request: Request, x_admin_key: AdminKey = None) -> JSONResponse:
    check_admin(request, x_admin_key)
    store = get_services(request).store

    def read() -> dict[str, Any]:
        return _overview(request, store.list_apps())

    return JSONResponse(await anyio.to_thread.run_sync(read))


@router.patch("/apps/{app_id}", summary="Change an app's quota, rate or enabled flag (admin key)")
async def change_app(
    request: Request, app_id: str, body: LimitsIn, x_admin_key: AdminKey = None
) -> JSONResponse:
    check_admin(request, x_admin_key)
    store = get_services(request).store
    given = body.model_fields_set

    if "enabled" in given and body.enabled is None:  # refused before anything is written
        raise InvalidRequest("enabled: give true or false")
    # null and 0 both mean unlimited; set_limits reads None as "keep"
    limits = {name: getattr(body, name) or 0 for name in LIMITS if name in given}

    def change() -> dict[str, Any]:
        try:
            app = store.set_limits(app_id, **limits)  # no limits: reads the app
            if body.enabled is not None:
                app = store.set_enabled(app_id, body.enabled)
        except UnknownApp:
            raise AppNotFound(f"no app {app_id!r}") from None
        except ConfigError as exc:
            raise InvalidRequest(str(exc)) from None
        rows: list[dict[str, Any]] = _overview(request, [app])["apps"]
        return rows[0]

    return JSONResponse(await anyio.to_thread.run_sync(change))
