"""The message archive and job machinery of the service: ``POST /api/v1/archive/import`` and the
start-up helper that opens the job store, installs durable WeCom jobs and runs a worker thread.

``POST /api/v1/archive/import`` (native auth, ``X-API-Key: <app_id>:<secret>``) takes
``{"messages": [<archive line object>, ...]}`` (the fields of :mod:`qinggan.jobs.archive`) and
stores them in the archive of the calling app (its ``app_id`` is the organisation its WeCom jobs
read). Answer: ``{"read", "inserted", "updated", "unchanged", "bad", "problems": [{"index",
"kind", "error"}], "usage"}``; a bad message is reported by its index and the others are stored.
Importing costs no call of the daily quota (it counts toward the rate limit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from qinggan.engine import Analyzer
from qinggan.jobs.model import JobSettings
from qinggan.service.errors import InvalidRequest
from qinggan.service.native import PREFIX, ApiKey, NativeRoute, admit_native

logger = logging.getLogger("qinggan.service")
#: most messages in one import request (the body limit applies too)
MAX_IMPORT = 10_000
#: app-state attribute holding the :class:`~qinggan.jobs.store.JobStore`
STORE_STATE = "job_store"

router = APIRouter(prefix=PREFIX, route_class=NativeRoute, tags=["archive"])


def job_store(request: Request) -> Any:
    """The running app's :class:`~qinggan.jobs.store.JobStore` (opened by :func:`start_jobs`)."""
    return getattr(request.app.state, STORE_STATE)


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messages: list[Any] = Field(description="archive messages, one object each")


@router.post("/archive/import", summary="Import archived chat messages for the WeCom jobs")
async def archive_import(
    request: Request,
    body: ImportIn,
    x_api_key: ApiKey = None,
) -> Response:
    from qinggan.jobs.archive import BadLine, import_records, parse_message

    if not body.messages:
        raise InvalidRequest("messages: give at least one message")
    if len(body.messages) > MAX_IMPORT:
        raise InvalidRequest(f"messages: at most {MAX_IMPORT} per request")
    grant = await admit_native(request, x_api_key, 0)
    store = job_store(request)
    records: list[tuple[int, Any]] = []
    for index, obj in enumerate(body.messages):
        try:
            records.append((index, parse_message(obj)))
        except BadLine as exc:
            records.append((index, exc))
    report = await anyio.to_thread.run_sync(import_records, store, grant.app.app_id, records)
    out = report.to_dict()
    out["problems"] = [
        {"index": p.line, "kind": p.kind, "error": p.message} for p in report.problems
    ]
    out["usage"] = {"charged": 0, "remain": grant.remain}
    return JSONResponse(out)


@dataclass(slots=True)
class RunningJobs:
    store: Any
    thread: Any

    def close(self, own_store: bool = True) -> None:
        if self.thread is not None:
            self.thread.stop()
        if own_store:
            self.store.close()


def start_jobs(app: FastAPI, url: str, analyzer: Analyzer, settings: JobSettings) -> RunningJobs:
    """Open (and migrate) the job store on ``url``, serve the WeCom jobs from it, and start a
    worker thread when ``settings.in_process_worker``."""
    from qinggan.jobs.store import JobStore
    from qinggan.jobs.worker import Worker, WorkerThread
    from qinggan.service.dialects import wecom

    store = JobStore.open(url, settings=settings)
    setattr(app.state, STORE_STATE, store)
    wecom.install_jobs(app, wecom.StoreSentimentJobs(store))
    thread = None
    if settings.in_process_worker:

        def analyze(texts: list[str]) -> Any:
            return analyzer.analyze_batch(texts, errors="report")

        thread = WorkerThread(Worker(store, analyze)).start()
        logger.info("job worker running in this process")
    return RunningJobs(store, thread)
