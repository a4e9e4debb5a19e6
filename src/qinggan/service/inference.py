"""Inference off the event loop: a thread pool, and a micro-batcher for single-text polarity.

The engine is CPU-bound and thread-safe. :meth:`Inference.run` runs any engine call in the pool
and awaits it. :meth:`Inference.polarity` answers concurrent single-text polarity requests
together, with one ``analyze_batch`` call per batch (one thread hop per batch, and the engine's
per-call overhead paid once), in one of two modes:

* ``batch_wait_ms`` 0 (the default), *adaptive*: a text starts a batch at once (no waiting)
  while fewer than ``max_in_flight`` batches are running; texts that arrive while they are all
  busy wait for the first to finish and then go together as the next batch. Idle, a request is
  answered as soon as one engine call allows; under load the batches grow by themselves.
* ``batch_wait_ms`` > 0, *windowed*: texts are gathered for up to that many milliseconds (or
  until ``max_size`` are waiting), then answered as one batch.

A batch holds at most ``max_size`` texts. Results are the same as one call per text (an
:class:`ItemError` keeps its index in the micro-batch).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from qinggan.engine import Analyzer
from qinggan.results import ItemError, PolarityResult

R = TypeVar("R")

Waiting = tuple[str, "asyncio.Future[PolarityResult | ItemError]"]


class Inference:
    def __init__(
        self,
        analyzer: Analyzer,
        *,
        threads: int = 2,
        batch_wait_ms: float = 0.0,
        max_size: int = 64,
        max_in_flight: int = 1,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="qinggan-infer"
        )
        self._wait_s = batch_wait_ms / 1000.0
        self._max_size = max(1, max_size)
        self._max_in_flight = max(1, max_in_flight)
        self._on_batch = on_batch
        self._pending: list[Waiting] = []
        self._in_flight = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` in the inference pool, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def polarity(self, text: str) -> PolarityResult | ItemError:
        """Polarity of one text, micro-batched with other concurrent calls."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PolarityResult | ItemError] = loop.create_future()
        self._pending.append((text, future))
        if self._wait_s > 0:
            if len(self._pending) >= self._max_size:
                self._flush()
            elif self._timer is None:
                self._timer = loop.call_later(self._wait_s, self._flush)
        elif self._in_flight < self._max_in_flight:
            self._flush()
        # else: the batch that finishes first takes this text along in the next one
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending and (self._wait_s > 0 or self._in_flight < self._max_in_flight):
            batch = self._pending[: self._max_size]
            del self._pending[: self._max_size]
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._answer(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, batch: list[Waiting]) -> None:
        try:
            if self._on_batch is not None:
                self._on_batch(len(batch))
            try:
                results = await self.run(
                    self.analyzer.analyze_batch, [text for text, _ in batch], errors="report"
                )
            except BaseException as exc:  # every waiter gets the failure, none hangs
                error = exc if isinstance(exc, Exception) else RuntimeError("inference cancelled")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
                return
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
        finally:
            self._in_flight -= 1
            if self._pending and self._wait_s <= 0:
                self._flush()  # whatever arrived meanwhile goes now, as one batch

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
