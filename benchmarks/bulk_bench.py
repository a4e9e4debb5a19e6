"""Bulk throughput and memory: `qinggan bulk` with 1 process, 2 processes and Ray on 2 CPUs.

    python -m benchmarks.bulk_bench                      # the issue's sizes: 200k rows; 100k vs 1M
    python -m benchmarks.bulk_bench --rows 20000 --memory-rows 10000,100000   # a quick run

Rows are real reviews (restaurants, books, products, take-away) from ``../shared/data``, cycled
to the size asked. Throughput runs read and write Parquet (the format Ray reads too) with the
polarity task and include worker start-up (process pool, Ray actors) but not ``ray.init``; each
runner runs ``--repeats`` times, in rounds that take the runners in turn, and the median counts.
Memory runs `python -m qinggan bulk` on CSV files of two sizes with 2 workers and samples the
resident memory of the whole process tree (command + workers) every 50 ms; flat memory means the
peak does not grow with the file. Writes ``benchmarks/results/bulk.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SOURCES = [
    "distant/asap_dianping_sample/all.jsonl",
    "distant/douban_book_review_uer/all.jsonl",
    "polarity/online_shopping_10_cats/all.jsonl",
    "polarity/waimai_10k/all.jsonl",
]


def reviews(limit: int = 50_000) -> list[str]:
    texts: list[str] = []
    for source in SOURCES:
        path = DATA / source
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line).get("text", "")
                if 8 <= len(text) <= 400:
                    texts.append(text)
                if len(texts) >= limit * (SOURCES.index(source) + 1) // len(SOURCES):
                    break
    if not texts:
        raise SystemExit(f"no review data under {DATA}")
    return texts


def write_csv(path: Path, rows: int, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)]])


def write_parquet(path: Path, rows: int, texts: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = list(range(rows))
    column = [texts[i % len(texts)] for i in ids]
    pq.write_table(pa.table({"id": ids, "text": column}), path, row_group_size=50_000)


def throughput(src: Path, out_dir: Path, chunk: int, repeats: int) -> dict[str, Any]:
    """Rows per second of each runner: ``repeats`` rounds, each running every runner once in turn
    (so a busy spell of the shared machine hits them alike); the median round counts."""
    from qinggan.bulk import BulkJob, parse_tasks, run_local, run_ray

    plan = parse_tasks("polarity")
    runners: dict[str, Any] = {f"local_{workers}": (run_local, workers) for workers in (1, 2)}
    ray: Any = None
    try:
        import ray
    except ImportError:
        pass
    else:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        runners["ray_2cpu"] = (run_ray, 2)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for round_number in range(1, repeats + 1):
            for name, (run, workers) in runners.items():
                job = BulkJob(
                    src, out_dir / f"{name}.parquet", plan, workers=workers, chunk_size=chunk
                )
                started = time.perf_counter()
                summary = run(job)
                seconds[name].append(time.perf_counter() - started)
                print(f"round {round_number}, {name}: {seconds[name][-1]:.2f} s", flush=True)
    finally:
        if ray is not None:
            ray.shutdown()
    results: dict[str, Any] = {"local_1": None, "local_2": None, "ray_2cpu": None}
    for name, times in seconds.items():
        results[name] = {
            **_speed(summary["rows"], statistics.median(times)),
            "rounds_seconds": [round(t, 2) for t in times],
        }
    return results


def _speed(rows: int, seconds: float) -> dict[str, float]:
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds, 1)}


def peak_memory(src: Path, out: Path, workers: int, chunk: int) -> dict[str, Any]:
    import psutil

    command = [
        sys.executable,
        "-m",
        "qinggan",
        "bulk",
        str(src),
        "-o",
        str(out),
        "--workers",
        str(workers),
        "--chunk-size",
        str(chunk),
        "--json",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    main = psutil.Process(proc.pid)
    peak_tree = peak_main = 0
    while proc.poll() is None:
        try:
            tree = [main, *main.children(recursive=True)]
            rss = [p.memory_info().rss for p in tree]
        except psutil.Error:
            continue
        peak_main = max(peak_main, rss[0])
        peak_tree = max(peak_tree, sum(rss))
        time.sleep(0.05)
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with {proc.returncode}")
    rows = json.loads(stdout)["rows"]
    return {
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_main_mib": round(peak_main / 2**20, 1),
        "peak_rss_tree_mib": round(peak_tree / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the throughput file")
    parser.add_argument(
        "--memory-rows",
        default="100000,1000000",
        help="the two file sizes of the memory runs, comma-separated",
    )
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds of the throughput runs (median reported)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bulk.json")
    args = parser.parse_args(argv)
    small, large = (int(n) for n in args.memory_rows.split(","))
    texts = reviews()
    report: dict[str, Any] = {
        "machine": {
            "cpus": _cpus(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "rows": args.rows,
        "chunk_size": args.chunk_size,
        "mean_text_chars": round(sum(map(len, texts)) / len(texts), 1),
        "task": "polarity",
        "repeats": args.repeats,
    }
    with tempfile.TemporaryDirectory(prefix="qinggan-bulk-bench-") as tmp:
        work = Path(tmp)
        src = work / "reviews.parquet"
        write_parquet(src, args.rows, texts)
        speed = throughput(src, work, args.chunk_size, args.repeats)
        report["throughput"] = speed
        one, two = speed["local_1"]["rows_per_second"], speed["local_2"]["rows_per_second"]
        report["scaling_efficiency_1_to_2"] = round(two / (2 * one), 3)
        if speed.get("ray_2cpu"):
            report["ray_vs_local_2"] = round(speed["ray_2cpu"]["rows_per_second"] / two, 3)
        memory = {}
        for rows in (small, large):
            path = work / f"mem{rows}.csv"
            write_csv(path, rows, texts)
            memory[str(rows)] = peak_memory(path, work / f"mem{rows}.out.csv", 2, args.chunk_size)
            print(f"memory, {rows} rows: {memory[str(rows)]}", flush=True)
            path.unlink()
        report["memory"] = memory
        report["memory_growth_small_to_large"] = round(
            memory[str(large)]["peak_rss_tree_mib"] / memory[str(small)]["peak_rss_tree_mib"] - 1,
            3,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


def _cpus() -> int:
    from qinggan.bulk import usable_cpus

    return usable_cpus()


if __name__ == "__main__":
    main()
