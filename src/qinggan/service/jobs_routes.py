"""Native job routes: sentiment jobs over the calling app's message archive.

Auth as the rest of the native API (``X-API-Key: <app_id>:<secret>``); an app's organisation is
its ``app_id``, so it sees and starts only its own jobs, over the messages it imported with
``POST /api/v1/archive/import``.

* ``POST /api/v1/jobs`` ``{"messages": [{"msgid", "secret_key"}, ...]}`` (1 to 1000, distinct
  msgids; ``secret_key`` empty or absent for plaintext messages) starts a job: ``{"jobid",
  "total", "usage"}``. It costs one call; its messages count toward the app's daily job quota
  (429 ``job_quota_exceeded``, nothing counted).
* ``GET /api/v1/jobs?limit=50`` lists the app's jobs, newest first: ``{"jobs": [SUMMARY, ...],
  "quota": {"used", "limit"}}`` (limit 0 = unlimited).
* ``GET /api/v1/jobs/{jobid}``: SUMMARY with ``items`` in submission order, each ``{"msgid"}``
  plus ``sentiment`` and ``confidence`` once known, or ``problem`` and ``message``. Another
  app's job or an unknown one: 404 ``unknown_job``.

SUMMARY is ``{"jobid", "org", "status" (running, done, failed), "total", "resolved",
"created_at", "finished_at"}`` (seconds since the epoch). Reading costs no call (it counts toward
the rate limit).
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from qinggan.jobs.model import MAX_MESSAGES, MAX_MSGID_CHARS, InvalidTask, JobQuotaExceeded
from qinggan.service.archive_routes import job_store
from qinggan.service.errors import InvalidRequest, JobNotFound, JobQuotaRefused
from qinggan.service.native import PREFIX, ApiKey, NativeRoute, admit_native

#: most jobs one listing returns
MAX_LISTED = 200

router = APIRouter(prefix=PREFIX, route_class=NativeRoute, tags=["jobs"])


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not hold a NUL character")
    return value


class JobMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    msgid: Annotated[str, AfterValidator(_no_nul)] = Field(min_length=1, max_length=MAX_MSGID_CHARS)
    secret_key: Annotated[str, AfterValidator(_no_nul)] = Field(
        "", max_length=256, description="empty for a plaintext message"
    )


class JobIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messages: list[JobMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)


@router.post("/jobs", summary="Start a sentiment job over archived messages")
async def create_job(request: Request, body: JobIn, x_api_key: ApiKey = None) -> JSONResponse:
    from qinggan.jobs.model import TaskItem

    if len({m.msgid for m in body.messages}) != len(body.messages):  # before the charge
        raise InvalidRequest("the msgids of a job must be distinct (drop the repeats first)")
    grant = await admit_native(request, x_api_key, 1)
    items = [TaskItem(m.msgid, m.secret_key) for m in body.messages]
    try:
        created = await anyio.to_thread.run_sync(
            job_store(request).create_job, grant.app.app_id, items
        )
    except InvalidTask as exc:
        raise InvalidRequest(str(exc)) from None
    except JobQuotaExceeded as exc:
        raise JobQuotaRefused(str(exc), app_id=grant.app.app_id) from None
    return JSONResponse(
        {
            "jobid": created.jobid,
            "total": len(items),
            "usage": {"charged": grant.charge.calls, "remain": grant.remain},
        }
    )


@router.get("/jobs", summary="This app's jobs, newest first")
async def list_jobs(
    request: Request,
    x_api_key: ApiKey = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 50,
) -> JSONResponse:
    grant = await admit_native(request, x_api_key, 0)
    store = job_store(request)
    org = grant.app.app_id

    def read() -> dict[str, Any]:
        jobs = store.list_jobs(org=org, limit=limit)
        used = store.quota_used(org)
        return {
            "jobs": [job.to_dict() for job in jobs],
            "quota": {"used": used, "limit": store.settings.daily_quota},
        }

    return JSONResponse(await anyio.to_thread.run_sync(read))


@router.get("/jobs/{jobid}", summary="One job of this app with its results")
async def get_job(request: Request, jobid: str, x_api_key: ApiKey = None) -> JSONResponse:
    grant = await admit_native(request, x_api_key, 0)
    store = job_store(request)
    view = await anyio.to_thread.run_sync(lambda: store.get_job(jobid, org=grant.app.app_id))
    if view is None:
        raise JobNotFound(f"no job {jobid!r} for this app")
    return JSONResponse(view.to_dict())
