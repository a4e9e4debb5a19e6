"""Fault tests with real worker processes: a worker killed with SIGKILL mid-job, two workers
racing on one job. Nothing may be lost or counted twice."""

from __future__ import annotations

import json
import select
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

from qinggan.jobs.archive import import_lines
from qinggan.jobs.model import JobStatus, TaskItem
from qinggan.jobs.store import JobStore
from qinggan.jobs.worker import Worker

from .conftest import archive_lines, org_name, start_slow_worker, start_worker, wait_until

MakeStore = Callable[..., JobStore]


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def _assert_each_item_once(store: JobStore, jobid: str, total: int) -> list[dict[str, Any]]:
    view = store.get_job(jobid)
    assert view is not None and view.status is JobStatus.DONE
    assert len(view.items) == total
    assert all(item.sentiment is not None for item in view.items)
    audit = store.item_audit(jobid)
    assert all(row["state"] == "done" and row["resolved_by"] for row in audit)
    return audit


def test_faults_worker_killed_mid_job(make_store: MakeStore, analyze: Any, db_url: str) -> None:
    store = make_store(lease_s=1.0, batch_size=5, poll_s=0.05)
    org = org_name()
    import_lines(store, org, archive_lines(40))
    created = store.create_job(org, [TaskItem(f"m{i}") for i in range(40)])
    victim = start_slow_worker(db_url, "victim", delay_s=0.3, batch=5, lease_s=1.0)
    try:
        assert victim.stdout is not None
        assert select.select([victim.stdout], [], [], 60)[0], "the worker did not start"
        assert victim.stdout.readline().strip() == b"ready"

        def progressed() -> bool:  # some results written, and a batch in the victim's hands
            audit = store.item_audit(created.jobid)
            done = sum(row["state"] == "done" for row in audit)
            return done >= 10 and any(row["state"] == "leased" for row in audit)

        wait_until(progressed, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        _reap(victim)
    assert victim.returncode == -signal.SIGKILL
    summary = store.summary(created.jobid)
    assert summary is not None and summary.status is JobStatus.RUNNING
    rescuer = Worker(store, analyze, name="rescuer")

    def finished() -> bool:
        rescuer.run_once()
        found = store.summary(created.jobid)
        return found is not None and found.status.finished

    wait_until(finished, timeout=30)
    audit = _assert_each_item_once(store, created.jobid, 40)
    by = Counter(row["resolved_by"] for row in audit)
    assert set(by) == {"victim", "rescuer"} and by["victim"] >= 10
    assert rescuer.stats.written == by["rescuer"]
    assert any(row["attempts"] == 2 for row in audit)  # the batch the victim held
    assert store.open_items() == 0


def test_faults_two_worker_processes_race(make_store: MakeStore, db_url: str) -> None:
    store = make_store()
    org = org_name()
    import_lines(store, org, archive_lines(300))
    args = ("--poll-s", "0.05", "--batch-size", "10", "--json")
    workers = [start_worker(db_url, name, *args) for name in ("wA", "wB")]
    try:
        for process in workers:
            assert process.stderr is not None
            assert select.select([process.stderr], [], [], 60)[0], "a worker did not start"
            assert b"ready" in process.stderr.readline()
        created = store.create_job(org, [TaskItem(f"m{i}") for i in range(300)])

        def finished() -> bool:
            found = store.summary(created.jobid)
            return found is not None and found.status.finished

        wait_until(finished, timeout=60)
        for process in workers:
            process.send_signal(signal.SIGTERM)
        stats = [json.loads(p.communicate(timeout=30)[0]) for p in workers]
    finally:
        for process in workers:
            _reap(process)
    audit = _assert_each_item_once(store, created.jobid, 300)
    assert all(row["attempts"] == 1 for row in audit)  # each item analysed once
    by = Counter(row["resolved_by"] for row in audit)
    assert by == {s["worker"]: s["written"] for s in stats}
    assert sum(s["written"] for s in stats) == 300
    assert all(s["written"] > 0 for s in stats), stats  # both took part
