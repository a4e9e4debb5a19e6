"""Workers: claim leased batches of items, decrypt, analyse, write results; repeat.

A worker is a loop over :meth:`Worker.run_once`: claim up to ``batch_size`` items (a lease of
``lease_s``), turn each into text (decrypting with the item's key where the message is stored
encrypted), analyse every text in one engine call, and write the results, the first of each item
winning. A worker killed mid-batch loses nothing: its items are claimed again when the lease runs
out (an item claimed ``max_attempts`` times is given up as an internal failure). An exception in
the engine gives the batch back at once. Every ``purge_every_s`` a worker also purges the jobs
past their retention.

:class:`WorkerThread` runs one in a server process (``qinggan serve`` does by default);
``qinggan worker`` runs one in a process of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qinggan.jobs.crypto import NotText, WrongKey, decrypt
from qinggan.jobs.model import SPOKEN, ItemProblem
from qinggan.jobs.store import Claimed, JobStore, Outcome
from qinggan.results import ItemError, PolarityResult

logger = logging.getLogger("qinggan.jobs")

#: polarity of a list of texts, a bad text answered by an ItemError in its place
Analyze = Callable[[list[str]], Sequence[PolarityResult | ItemError]]


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


@dataclass(slots=True)
class WorkerStats:
    batches: int = 0
    claimed: int = 0
    written: int = 0
    failures: int = 0


def _text_of(item: Claimed) -> str | ItemProblem:
    """The text to analyse, or the problem that prevents it."""
    if item.msgtype is None:
        return ItemProblem.UNKNOWN_MESSAGE
    if item.msgtype != "text" and item.msgtype not in SPOKEN:
        return ItemProblem.UNSUPPORTED_TYPE
    if item.encrypted is not None:
        if not item.secret_key:
            return ItemProblem.WRONG_KEY
        try:
            return decrypt(item.secret_key, item.encrypted)
        except WrongKey:
            return ItemProblem.WRONG_KEY
        except NotText:
            return ItemProblem.UNUSABLE_CONTENT
    if item.text is None:
        return ItemProblem.NO_TRANSCRIPT if item.msgtype in SPOKEN else ItemProblem.UNKNOWN_MESSAGE
    return item.text


def analyse(items: Sequence[Claimed], analyze: Analyze) -> list[Outcome]:
    """Outcomes of claimed items: texts analysed in one call, problems in place."""
    texts: list[tuple[Claimed, str]] = []
    outcomes: list[Outcome] = []
    for item in items:
        got = _text_of(item)
        if isinstance(got, ItemProblem):
            outcomes.append(Outcome(item.id, problem=got))
        else:
            texts.append((item, got))
    if texts:
        answers = analyze([t for _, t in texts])
        for (item, _), answer in zip(texts, answers, strict=True):
            if isinstance(answer, ItemError):
                outcomes.append(Outcome(item.id, problem=ItemProblem.UNUSABLE_CONTENT))
            else:
                outcomes.append(Outcome(item.id, answer.label, answer.confidence))
    return outcomes


class Worker:
    def __init__(self, store: JobStore, analyze: Analyze, *, name: str | None = None) -> None:
        self.store = store
        self.analyze = analyze
        self.name = name or worker_name()
        self.stats = WorkerStats()
        self._last_purge = 0.0

    def run_once(self) -> int:
        """Claim one batch and finish it; how many items were claimed (0: nothing to do)."""
        claimed = self.store.claim(self.name)
        if not claimed:
            return 0
        self.stats.batches += 1
        self.stats.claimed += len(claimed)
        try:
            outcomes = analyse(claimed, self.analyze)
        except Exception:
            self.stats.failures += 1
            logger.exception("worker %s: analysis of %d items failed", self.name, len(claimed))
            self.store.release([c.id for c in claimed])
            return len(claimed)
        self.stats.written += self.store.complete(self.name, outcomes, {c.jobid for c in claimed})
        return len(claimed)

    def maybe_purge(self) -> None:
        now = time.monotonic()
        if self._last_purge and now - self._last_purge < self.store.settings.purge_every_s:
            return
        self._last_purge = now
        report = self.store.purge()
        if report.jobs:
            logger.info("purged %d jobs (%d items) past retention", report.jobs, report.items)

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        until_idle: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> WorkerStats:
        """Work until ``stop`` is set (or, with ``until_idle``, until nothing is claimable)."""
        stop = stop or threading.Event()
        poll = self.store.settings.poll_s
        while not stop.is_set():
            try:
                self.maybe_purge()
                done = self.run_once()
            except Exception:  # the database went away for a moment: try again later
                logger.exception("worker %s: store error", self.name)
                done = 0
                if stop.wait(poll):
                    break
                continue
            if on_batch is not None and done:
                on_batch(done)
            if not done:
                if until_idle:
                    break
                stop.wait(poll)
        return self.stats


class WorkerThread:
    """A worker on a daemon thread, stopped by :meth:`stop` (a server's lifespan)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qinggan-jobs-worker", daemon=True)

    def _run(self) -> None:
        self.worker.run(self._stop)

    def start(self) -> WorkerThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
