"""The report section of the benchmarks that run on their own (service load and fuzz, jobs, bulk
files, web console): each writes ``results/<name>.json``; this renders the ones present, with
their targets, so ``REPORT.md`` carries every measured number in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Add = Callable[[str], None]


def _load(results_dir: Path, name: str) -> dict[str, Any] | None:
    path = results_dir / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _met(ok: bool | None) -> str:
    return "met" if ok else "**missed**"


def _service(load: dict[str, Any], add: Add) -> None:
    target = load["target"]
    add(f"### Service load (`python -m benchmarks.service_load`, {load.get('measured_at', '?')})")
    add("")
    add(
        f"{load['endpoint']}; {load['tool']} on loopback, {load['duration_s']:.0f} s per run; "
        f"target >= {target['requests_per_s']:.0f} req/s with p99 <= {target['p99_ms']:.0f} ms."
    )
    add("")
    add("| workers | connections | req/s | p50 ms | p99 ms | non-2xx | CPU ms/req | target |")
    add("|---:|---:|---:|---:|---:|---:|---:|---|")
    for run in load["runs"]:
        add(
            f"| {run['workers']} | {run['concurrency']} | {run['requests_per_s']:,.0f} | "
            f"{run['p50_ms']:.1f} | {run['p99_ms']:.1f} | {run['non_2xx']} | "
            f"{run['server_cpu_ms_per_request']:.2f} | {_met(run['meets_target'])} |"
        )
    add("")


def _fuzz(fuzz: dict[str, Any], add: Add) -> None:
    add(f"### Service fuzz (`python -m benchmarks.service_fuzz`, {fuzz.get('measured_at', '?')})")
    add("")
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(fuzz["by_status"].items()))
    add(
        f"{fuzz['sent']:,} malformed or odd requests to every dialect in {fuzz['seconds']:.0f} s: "
        f"**{fuzz['http_5xx']} answered 5xx** (statuses {statuses}); "
        f"{'passed' if fuzz['passed'] else '**failed**'}."
    )
    add("")


def _jobs(jobs: dict[str, Any], add: Add) -> None:
    add("### Jobs (`python -m benchmarks.jobs_bench`)")
    add("")
    add("| messages | workers | import s | submit s | work s | end to end s | msgs/s |")
    add("|---:|---:|---:|---:|---:|---:|---:|")
    for run in jobs["runs"]:
        add(
            f"| {run['messages']:,} | {run['workers']} | {run['import_s']:.2f} | "
            f"{run['submit_s']:.2f} | {run['work_s']:.2f} | {run['end_to_end_s']:.2f} | "
            f"{run['messages_per_s_submit_to_done']:,} |"
        )
    add("")
    add(
        f"Target: 100,000 messages end to end in under {jobs['target_100k_under_s']:.0f} s: "
        f"{_met(jobs['target_met'])}."
    )
    add("")


def _bulk(bulk: dict[str, Any], add: Add) -> None:
    add("### Bulk files (`python -m benchmarks.bulk_bench`)")
    add("")
    add(
        f"{bulk['rows']:,} review-length rows (mean {bulk['mean_text_chars']} characters), "
        f"task {bulk['task']}, Parquet in and out, chunks of {bulk['chunk_size']:,} rows, "
        f"{bulk['machine']['cpus']} CPUs."
    )
    add("")
    add("| runner | rows/s | seconds |")
    add("|---|---:|---:|")
    names = {"local_1": "1 process", "local_2": "2 processes", "ray_2cpu": "Ray, 2 CPUs"}
    for key, name in names.items():
        run = bulk["throughput"].get(key)
        if run:
            add(f"| {name} | {run['rows_per_second']:,.0f} | {run['seconds']:.1f} |")
    add("")
    scaling = bulk["scaling_efficiency_1_to_2"]
    lines = [f"scaling 1 -> 2 processes {scaling:.1%} (target >= 90%: {_met(scaling >= 0.9)})"]
    if "ray_vs_local_2" in bulk:
        ray = bulk["ray_vs_local_2"]
        lines.append(f"Ray at {ray:.1%} of 2 local processes (target >= 75%: {_met(ray >= 0.75)})")
    memory = bulk["memory"]
    sizes = sorted(memory, key=int)
    growth = bulk["memory_growth_small_to_large"]
    peaks = " vs ".join(
        f"{memory[s]['peak_rss_tree_mib']:.0f} MiB at {int(s):,} rows" for s in sizes
    )
    lines.append(
        f"peak memory of the process tree {peaks}, {growth:+.1%} (target within 20%: "
        f"{_met(abs(growth) <= 0.2)})"
    )
    add("; ".join(lines) + ".")
    add("")


def _console(console: dict[str, Any], add: Add) -> None:
    add(
        "### Web console (`python -m benchmarks.console_timing`, "
        f"{console.get('measured_at', '?')})"
    )
    add("")
    cold, warm = console["loads"]["cold"]["fcp"], console["loads"]["warm"]["fcp"]
    clicks = console["analyze"]["result_in_dom"]
    targets, met = console["targets"], console["meets_targets"]
    add(
        f"First contentful paint, {cold['n']} cold loads: median {cold['median_ms']:.0f} ms, "
        f"p90 {cold['p90_ms']:.0f} ms (warm: {warm['median_ms']:.0f} ms); target "
        f"{targets['first_paint_ms']:.0f} ms: {_met(met['first_paint'])}. Analyze of a short "
        f"text to the labels in the page, {clicks['n']} clicks: median {clicks['median_ms']:.1f} "
        f"ms, p95 {clicks['p95_ms']:.1f} ms; target {targets['analyze_ms']:.0f} ms: "
        f"{_met(met['analyze'])}."
    )
    add("")


SECTIONS: tuple[tuple[str, Callable[[dict[str, Any], Add], None]], ...] = (
    ("service_load", _service),
    ("service_fuzz", _fuzz),
    ("jobs", _jobs),
    ("bulk", _bulk),
    ("console", _console),
)


def render_other_results(results_dir: Path, add: Add) -> None:
    """The section for the separate benchmarks whose JSON is in ``results_dir`` (none: nothing)."""
    found = [(render, data) for name, render in SECTIONS if (data := _load(results_dir, name))]
    if not found:
        return
    add("## Service, jobs, bulk files and console")
    add("")
    add(
        "Measured by their own scripts (each writes `results/<name>.json`; rerun one to refresh "
        "its numbers), on the same shared machine; absolute numbers move with its load."
    )
    add("")
    for render, data in found:
        render(data, add)
