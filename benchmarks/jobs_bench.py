"""Throughput of the job path (archive -> submit -> workers -> done) on a SQLite file.

    python benchmarks/jobs_bench.py [--messages 100000] [--small 20000] [--output PATH]

Three runs, each on a fresh database in a temporary directory, with the shipped polarity model:
one worker process and two worker processes (``qinggan worker --until-idle``) over ``--small``
messages, then ``--messages`` (100,000) end to end with two workers: import the archive, submit
jobs of 1000, work until every job is done. Worker start-up (model load) is inside the timings.
Prints JSON and writes it to ``benchmarks/results/jobs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qinggan.jobs.archive import import_lines
from qinggan.jobs.model import MAX_MESSAGES, JobSettings, TaskItem
from qinggan.jobs.store import JobStore

ROOT = Path(__file__).resolve().parent
TEXTS = [
    "房间很干净，服务也周到",
    "太差了，再也不来了",
    "请问怎么修改收货地址",
    "质量很好，物流也快，好评",
    "气死我了，我要投诉你们",
    "明天几点开门营业",
]


def archive(n: int) -> list[str]:
    return [
        json.dumps(
            {"msgid": f"m{i}", "msgtype": "text", "content": f"{TEXTS[i % len(TEXTS)]}{i % 97}"},
            ensure_ascii=False,
        )
        for i in range(n)
    ]


def run(n: int, workers: int, directory: Path) -> dict[str, float | int]:
    url = f"sqlite:///{directory / f'bench_{n}_{workers}.db'}"
    store = JobStore.open(url, settings=JobSettings(daily_quota=0))
    org = "bench"
    start = time.perf_counter()
    import_lines(store, org, archive(n))
    imported = time.perf_counter()
    jobids = []
    for first in range(0, n, MAX_MESSAGES):
        chunk = [TaskItem(f"m{i}") for i in range(first, min(n, first + MAX_MESSAGES))]
        jobids.append(store.create_job(org, chunk).jobid)
    submitted = time.perf_counter()
    command = [sys.executable, "-m", "qinggan", "worker", "--db", url, "--until-idle", "--json"]
    procs = [
        subprocess.Popen(
            [*command, "--name", f"bench{k}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        for k in range(workers)
    ]
    stats = [json.loads(p.communicate()[0]) for p in procs]
    done = time.perf_counter()
    statuses = {store.summary(j).status.value for j in jobids}  # type: ignore[union-attr]
    assert statuses == {"done"}, statuses
    assert store.open_items() == 0
    written = sum(s["written"] for s in stats)
    assert written == n, (written, n)
    store.close()
    return {
        "messages": n,
        "workers": workers,
        "import_s": round(imported - start, 2),
        "submit_s": round(submitted - imported, 2),
        "work_s": round(done - submitted, 2),
        "submit_to_done_s": round(done - imported, 2),
        "end_to_end_s": round(done - start, 2),
        "messages_per_s_submit_to_done": round(n / (done - imported)),
        "per_worker_written": [s["written"] for s in stats],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "jobs.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        runs = [run(args.small, 1, directory), run(args.small, 2, directory)]
        runs.append(run(args.messages, 2, directory))
    report = {
        "benchmark": "jobs (SQLite, shipped polarity model, worker processes)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": runs,
        "target_100k_under_s": 120,
        "target_met": runs[-1]["end_to_end_s"] < 120,
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
