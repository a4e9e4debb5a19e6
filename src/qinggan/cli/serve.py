"""`qinggan serve`: the HTTP service under uvicorn."""

from __future__ import annotations

import errno
import logging
import os
import socket
from typing import Annotated

import typer

from qinggan.cli.common import fail, require_extra, stderr
from qinggan.config import Settings
from qinggan.errors import ConfigError


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, no such address, not allowed), or None.

    A trial bind with the options uvicorn uses, closed at once, so that a busy port is reported
    before anything is started rather than after "startup complete"."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve the address ({exc}); give --host an IP address or a host name"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as trial:
        trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            trial.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "the port is in use (another server?); stop it or choose another --port"
            if exc.errno == errno.EACCES:
                return "permission denied (ports below 1024 need privileges); choose another --port"
            return f"{exc.strerror or exc}; check --host and --port"
    return None


def serve_cli(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port, 1-65535 (default 8000).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Server processes sharing the database (default 1)."),
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
    problem = port_problem(settings.host, settings.port)
    if problem is not None:
        fail(f"cannot listen on {settings.host}:{settings.port}: {problem}")
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
