"""`qinggan serve`: the HTTP service under uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from qinggan.cli.common import fail, require_extra, stderr
from qinggan.config import Settings
from qinggan.errors import ConfigError


def serve_cli(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes sharing the database (default 1).")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default sqlite:///qinggan.db).")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error (default info).")
    ] = None,
    worker: Annotated[
        bool | None,
        typer.Option("--worker/--no-worker", help="Run a job worker in each server process."),
    ] = None,
) -> None:
    """Serve the native API (/api/v1), the vendor dialects, /docs, /healthz and /metrics.

    Every option also reads from its QINGGAN_* variable (QINGGAN_PORT, QINGGAN_DB_URL, ...).
    """
    require_extra("serve", "fastapi", "uvicorn", "sqlalchemy", "prometheus_client")
    import uvicorn

    from qinggan.service.server import server_options

    try:
        settings = Settings.from_env().with_overrides(
            host=host, port=port, workers=workers, db_url=db, log_level=log_level
        )
    except ConfigError as exc:
        fail(str(exc))
    logging.getLogger("qinggan").setLevel(settings.log_level.upper())
    # worker processes rebuild the same settings from the environment
    os.environ.update(settings.to_env())
    if worker is not None:
        os.environ["QINGGAN_JOBS_IN_PROCESS_WORKER"] = "1" if worker else "0"
    stderr.print(f"qinggan serving on http://{settings.host}:{settings.port} (docs at /docs)")
    uvicorn.run(
        "qinggan.service.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,  # its lines carry query strings, where vendors put keys and tokens
        server_header=False,
        **server_options(),  # a request head over 64 KiB gets 431 before it is buffered
    )
