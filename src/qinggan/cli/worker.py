"""`qinggan worker`: a job worker process (several may share one database)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer

from qinggan.cli.archive import DbOpt, open_job_store
from qinggan.cli.common import fail, print_json, stderr
from qinggan.config import Settings
from qinggan.errors import QingganError


def worker_cli(
    db: DbOpt = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Items claimed per batch (default 256).")
    ] = None,
    lease_s: Annotated[
        float | None, typer.Option(min=0.01, help="Seconds a claim lasts (default 30).")
    ] = None,
    poll_s: Annotated[
        float | None, typer.Option(min=0.01, help="Idle wait between looks (default 0.5).")
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once nothing is left to claim.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Worker name (default host:pid).")] = None,
    model: Annotated[
        str | None, typer.Option(help="Polarity model directory (default: the shipped one).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print stats as JSON at exit.")
    ] = False,
) -> None:
    """Analyse the messages of submitted jobs until stopped (Ctrl-C or SIGTERM).

    Also purges the jobs past their retention (QINGGAN_JOBS_RETENTION_DAYS, default 7) hourly.
    """
    from qinggan.engine import Analyzer
    from qinggan.jobs.worker import Worker

    store = open_job_store(db)
    try:
        store.settings = store.settings.with_overrides(
            batch_size=batch_size, lease_s=lease_s, poll_s=poll_s
        )
        settings = Settings.from_env()
        analyzer = Analyzer(model or settings.polarity_model).load()
    except QingganError as exc:
        store.close()
        fail(str(exc))

    def analyze(texts: list[str]):  # type: ignore[no-untyped-def]
        return analyzer.analyze_batch(texts, errors="report")

    worker = Worker(store, analyze, name=name)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("qinggan.jobs").info("worker %s on %s", worker.name, store.backend)
    stderr.print(f"worker {worker.name} ({store.backend}, pid {os.getpid()}) ready")
    try:
        stats = worker.run(stop, until_idle=until_idle)
    finally:
        store.close()
    if json_output:
        print_json({"worker": worker.name, **{k: getattr(stats, k) for k in stats.__slots__}})
    else:
        stderr.print(f"worker {worker.name}: {stats.written} results in {stats.batches} batches")
