"""A worker process for the fault tests: the shipped engine, slowed down per batch.

python slow_worker.py DB_URL NAME DELAY_S BATCH LEASE_S
"""

from __future__ import annotations

import sys
import time

import qinggan
from qinggan.jobs.model import JobSettings
from qinggan.jobs.store import JobStore
from qinggan.jobs.worker import Worker


def main() -> None:
    url, name, delay, batch, lease = sys.argv[1:6]
    analyzer = qinggan.Analyzer().load()

    def analyze(texts: list[str]):  # type: ignore[no-untyped-def]
        time.sleep(float(delay))
        return analyzer.analyze_batch(texts, errors="report")

    settings = JobSettings(batch_size=int(batch), lease_s=float(lease), poll_s=0.05)
    store = JobStore.open(url, settings=settings)
    print("ready", flush=True)
    Worker(store, analyze, name=name).run()


if __name__ == "__main__":
    main()
