"""The local runner: one file, split into chunks, spread over worker processes.

Each worker process loads the models once (the pool's initializer) and then, per chunk, pulls the
texts out of the rows, annotates them, writes the chunk's part file and reports its label counts.
The main process only reads chunks and hands them out, never more than ``2 * workers`` at a time,
so memory stays flat whatever the file size. With one worker everything runs in this process.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qinggan.bulk.formats import Chunk, Layout, detect_format, open_layout
from qinggan.bulk.sidecar import Sidecar, fingerprint
from qinggan.bulk.summary import build_summary
from qinggan.bulk.tasks import TaskPlan, annotate, column_stats, load_models, merge_stats
from qinggan.engine import Analyzer
from qinggan.errors import ConfigError

log = logging.getLogger("qinggan.bulk")

DEFAULT_CHUNK_SIZE = 1000


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class BulkJob:
    """One bulk run: ``input`` to ``output`` (same format), ``plan`` naming the added columns."""

    input: Path
    output: Path
    plan: TaskPlan
    column: str = "text"
    workers: int = 1
    chunk_size: int = DEFAULT_CHUNK_SIZE
    resume: bool = False

    def check(self) -> None:
        if self.chunk_size < 1:
            raise ConfigError(f"chunk size must be at least 1, got {self.chunk_size}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        fmt_in, fmt_out = detect_format(self.input), detect_format(self.output)
        if fmt_in is not fmt_out:
            raise ConfigError(
                f"the output must have the input's format ({fmt_in.value}), got {fmt_out.value} "
                f"from {self.output}"
            )
        if self.input.resolve() == self.output.resolve():
            raise ConfigError(f"the output {self.output} would overwrite the input")


# -- the worker side --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Work:
    layout: Layout
    plan: TaskPlan
    output: Path


_worker: tuple[Analyzer, _Work, Sidecar] | None = None


def _init_worker(work: _Work) -> None:
    """Pool initializer: load the models once for the life of the worker process."""
    global _worker
    analyzer = Analyzer()
    load_models(analyzer, work.plan)
    _worker = (analyzer, work, Sidecar(work.output))


def _process(chunk: Chunk) -> tuple[int, dict[str, Any]]:
    """Annotate one chunk, write its part, commit it; return its stats."""
    assert _worker is not None, "worker used before _init_worker"
    analyzer, work, sidecar = _worker
    texts, problems = work.layout.extract(chunk.payload)
    columns = annotate(analyzer, texts, problems, work.plan)
    tmp = sidecar.part_tmp(chunk.index)
    work.layout.write_part(chunk.payload, columns, work.plan, tmp)
    os.replace(tmp, sidecar.part(chunk.index))
    stats = column_stats(columns, work.plan, chunk.first_row)
    stats["chunk_rows"] = chunk.rows
    sidecar.commit(chunk.index, stats)
    return chunk.index, stats


# -- the main side ----------------------------------------------------------------------------
def _pool_context() -> mp.context.BaseContext:
    # forkserver: workers start from a clean process (no threads, no progress bar, no locks)
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_local(job: BulkJob, *, on_rows: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run ``job`` on this machine; return its summary. ``on_rows(n)`` reports progress."""
    job.check()
    layout = open_layout(job.input, job.column, job.plan)
    options = {
        "format": layout.format.value,
        "column": job.column,
        "tasks": list(job.plan.tasks),
        "scene": job.plan.scene.value,
        "chunk_size": job.chunk_size,
    }
    sidecar = Sidecar(job.output)
    finished = sidecar.start(fingerprint(job.input, options), resume=job.resume)
    if finished:
        log.info("resuming: %d chunk(s) already done", len(finished))
    stats: dict[int, dict[str, Any]] = dict(finished)
    report = on_rows or (lambda n: None)
    work = _Work(layout, job.plan, job.output)
    started = time.perf_counter()
    rows_this_run = 0
    chunks = 0

    def todo() -> Any:
        nonlocal chunks
        for chunk in layout.chunks(job.chunk_size):
            chunks = chunk.index + 1
            if chunk.index in finished:
                report(chunk.rows)
            else:
                yield chunk

    def done(index: int, chunk_stats: dict[str, Any]) -> None:
        nonlocal rows_this_run
        stats[index] = chunk_stats
        rows_this_run += chunk_stats["rows"]
        report(chunk_stats["rows"])

    if job.workers == 1:
        _init_worker(work)
        for chunk in todo():
            done(*_process(chunk))
    else:
        _run_pool(job.workers, work, todo(), done)

    parts = [sidecar.part(i) for i in range(chunks)]
    tmp = job.output.with_name(f".{job.output.name}.{os.getpid()}.tmp")
    layout.assemble(parts, job.plan, tmp)
    os.replace(tmp, job.output)
    sidecar.remove()
    seconds = time.perf_counter() - started
    totals = merge_stats([stats[i] for i in range(chunks)], job.plan)
    return build_summary(
        totals,
        job.plan,
        seconds=seconds,
        rows_this_run=rows_this_run,
        input=str(job.input),
        output=str(job.output),
        format=layout.format.value,
        runner="local",
        workers=job.workers,
        chunk_size=job.chunk_size,
        chunks=chunks,
        chunks_resumed=len(finished),
    )


def _run_pool(
    workers: int,
    work: _Work,
    chunks: Any,
    done: Callable[[int, dict[str, Any]], None],
) -> None:
    window = 2 * workers
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_pool_context(),
        initializer=_init_worker,
        initargs=(work,),
    ) as pool:
        pending: set[Future[tuple[int, dict[str, Any]]]] = set()

        def drain(until: int) -> None:
            nonlocal pending
            while len(pending) > until:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(*future.result())

        try:
            for chunk in chunks:
                pending.add(pool.submit(_process, chunk))
                drain(window - 1)
            drain(0)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
