"""Inference off the event loop: a thread pool, and a micro-batcher for single-text polarity.

The engine is CPU-bound and thread-safe. :meth:`Inference.run` runs any engine call in the pool
and awaits it. :meth:`Inference.polarity` gathers concurrent single-text polarity requests for up
to ``batch_wait_ms`` (or until ``max_size`` are waiting) and answers them with one
``analyze_batch`` call, which amortises the per-call overhead under load; with ``batch_wait_ms``
0 each text is its own batch.
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


class Inference:
    def __init__(
        self,
        analyzer: Analyzer,
        *,
        threads: int = 2,
        batch_wait_ms: float = 0.0,
        max_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="qinggan-infer")
        self._wait_s = batch_wait_ms / 1000.0
        self._max_size = max_size
        self._on_batch = on_batch
        self._pending: list[tuple[str, asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` in the inference pool, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def polarity(self, text: str) -> PolarityResult | ItemError:
        """Polarity of one text, micro-batched with other concurrent calls."""
        if self._wait_s <= 0:
            return (await self.run(self.analyzer.analyze_batch, [text], errors="report"))[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PolarityResult | ItemError] = loop.create_future()
        self._pending.append((text, future))
        if len(self._pending) >= self._max_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._answer(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, batch: list[tuple[str, asyncio.Future[Any]]]) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch))
        try:
            results = await self.run(
                self.analyzer.analyze_batch, [text for text, _ in batch], errors="report"
            )
        except Exception as exc:  # every waiter gets the failure, none hangs
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
