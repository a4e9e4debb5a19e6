"""The FastAPI app factory: ``create_app(settings, analyzer=None, store=None)``."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from qinggan._version import __version__
from qinggan.config import Settings
from qinggan.engine import Analyzer
from qinggan.jobs.model import JobSettings
from qinggan.service import admin_routes, archive_routes, handlers, jobs_routes
from qinggan.service.access import Access
from qinggan.service.console import router as console_router
from qinggan.service.context import Services, get_services
from qinggan.service.docs import docs_router
from qinggan.service.errors import BadAdminKey
from qinggan.service.inference import Inference
from qinggan.service.metrics import Metrics
from qinggan.service.middleware import BodyLimitMiddleware, ObserveMiddleware
from qinggan.service.native import native_dialect
from qinggan.service.registry import Dialect, DialectRegistry, discover_dialects
from qinggan.service.store import AppStore

logger = logging.getLogger("qinggan.service")

DESCRIPTION = """Offline Chinese sentiment and emotion analysis.

* **Native API** under `/api/v1/`: send `X-API-Key: <app_id>:<secret>` (create an app with
  `qinggan apps add NAME --json`); one `text` or a list of `texts` per request.
* **Vendor dialects** (JD, Jumdata, iFlytek, WeCom) at the vendors' own paths, with their auth
  schemes and envelopes, when installed.
"""


def build_analyzer(settings: Settings) -> Analyzer:
    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    return Analyzer(
        path(settings.polarity_model),
        emotion_model=path(settings.emotion_model),
        talk_model=path(settings.talk_model),
    )


def create_app(
    settings: Settings | None = None,
    analyzer: Analyzer | None = None,
    store: AppStore | None = None,
    *,
    dialects: Sequence[Dialect] | None = None,
    jobs: JobSettings | None = None,
) -> FastAPI:
    """The HTTP service. Start-up opens ``store`` (or one on ``settings.db_url``) and migrates
    it, and loads every model of ``analyzer`` (or of one built from ``settings``). ``dialects``
    defaults to every installed vendor dialect; the native API is always there. ``jobs``: the
    job system's settings (default: no worker thread in this process)."""
    job_settings = jobs if jobs is not None else JobSettings(in_process_worker=False)
    settings = settings if settings is not None else Settings()
    chosen = [native_dialect(), *(discover_dialects() if dialects is None else dialects)]
    registry = DialectRegistry(chosen)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        opened = store if store is not None else AppStore(settings.db_url)
        await anyio.to_thread.run_sync(opened.migrate)
        engine = analyzer if analyzer is not None else build_analyzer(settings)
        await anyio.to_thread.run_sync(engine.load_all)
        inference = Inference(
            engine,
            threads=settings.threads,
            batch_wait_ms=settings.batch_wait_ms,
            on_batch=metrics.batch_size.observe,
        )
        app.state.services = Services(
            settings=settings,
            analyzer=engine,
            store=opened,
            access=Access(opened, metrics),
            inference=inference,
            metrics=metrics,
            dialects=registry,
        )
        running = await anyio.to_thread.run_sync(
            archive_routes.start_jobs, app, opened.url, engine, job_settings
        )
        logger.info("qinggan %s ready (%s)", __version__, opened.backend)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(running.close)
            inference.close()
            if own_store:
                opened.close()

    app = FastAPI(
        title="qinggan",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /openapi.json are our own routes (docs.py): assets from the package
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # a redirect to the slashed path would build its Location from the Host header
        redirect_slashes=False,
    )
    handlers.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ObserveMiddleware)  # outermost: sees every answer, even a 413

    @app.get("/healthz", tags=["operations"], summary="Liveness: 200 once the models are loaded")
    async def healthz(request: Request) -> JSONResponse:
        services = get_services(request)
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "dialects": [d.name for d in registry.dialects],
                "database": services.store.backend,
            }
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics_route(request: Request) -> Response:
        """Public counts; with the admin key (``X-Admin-Key`` or ``Authorization: Bearer``)
        also the refusals by app id."""
        given = request.headers.get("x-admin-key")
        bearer = request.headers.get("authorization", "")
        if given is None and bearer[:7].lower() == "bearer ":
            given = bearer[7:].strip()
        per_app = False
        if given is not None:
            expected = settings.admin_key
            if not expected or not hmac.compare_digest(
                expected.encode("utf-8"), given.encode("utf-8", "surrogatepass")
            ):
                raise BadAdminKey("a wrong admin key; leave it out for the public metrics")
            per_app = True
        return Response(metrics.render(per_app=per_app), media_type=metrics.content_type)

    for dialect in chosen:
        app.include_router(dialect.router)
    app.include_router(archive_routes.router)
    app.include_router(jobs_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(console_router)
    app.include_router(docs_router(app))
    return app


def create_app_from_env() -> FastAPI:
    """The app configured by ``QINGGAN_*`` variables (``uvicorn --factory`` entry point); this
    server entry point also sends the ``qinggan`` logs to stderr at ``log_level``."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings, jobs=JobSettings.from_env(os.environ))


def configure_logging(level: str) -> None:
    """Log ``qinggan.*`` to stderr (once), at ``level``."""
    root = logging.getLogger("qinggan")
    root.setLevel(level.upper())
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.propagate = False
