"""Timing: single-thread and all-cores throughput, single-call latency, load time, memory, size.

Every timing is repeated (one untimed warm-up, then ``profile.rounds`` timed rounds) and
reported as median with min/max, because the machine is shared and noisy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import systems as systems_mod
from benchmarks.data import REPO_ROOT
from benchmarks.profiles import Profile

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


def pin_single_thread_env() -> None:
    """Ask native libraries for one thread each (set before they are imported)."""
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)


def all_cpus() -> set[int] | None:
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return None


def pin_to_one_cpu() -> int | None:
    """Pin this process to one CPU so single-thread numbers are single-core numbers."""
    cpus = all_cpus()
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(cpus)
    os.sched_setaffinity(0, {cpu})
    return cpu


def summarize(values: Sequence[float]) -> dict[str, float]:
    vals = sorted(values)
    med = statistics.median(vals)
    return {
        "median": med,
        "min": vals[0],
        "max": vals[-1],
        "spread": (vals[-1] - vals[0]) / med if med else 0.0,
        "rounds": len(vals),
    }


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    vals = sorted(samples)

    def pct(p: float) -> float:
        if not vals:
            return math.nan
        k = max(0, min(len(vals) - 1, math.ceil(p / 100 * len(vals)) - 1))
        return vals[k]

    return {
        "n": len(vals),
        "p50_ms": pct(50) * 1e3,
        "p90_ms": pct(90) * 1e3,
        "p99_ms": pct(99) * 1e3,
        "mean_ms": (sum(vals) / len(vals) * 1e3) if vals else math.nan,
    }


# --- single process ----------------------------------------------------------------------------


def _plan(system: systems_mod.System, texts: Sequence[str], profile: Profile) -> dict[str, Any]:
    """Warm up, estimate the cost per text, choose how many texts and repetitions a round has."""
    system.run_batch(texts[: min(3, len(texts))])  # first-call effects out of the way
    probe_n = min(len(texts), max(profile.min_texts, 10))
    t0 = time.perf_counter()
    system.run_batch(texts[:probe_n])
    per_text = max((time.perf_counter() - t0) / probe_n, 1e-9)
    n = len(texts)
    if per_text * n > profile.peer_round_cap_s:
        n = max(min(profile.min_texts, len(texts)), int(profile.peer_round_cap_s / per_text))
    reps = max(1, math.ceil(profile.round_target_s / (per_text * n)))
    return {"n_texts": n, "reps": reps, "est_per_text_ms": per_text * 1e3}


def single_thread(
    system: systems_mod.System, texts: Sequence[str], profile: Profile
) -> tuple[dict[str, Any], list[float]]:
    """Throughput in one process (batch API where there is one, else a loop of single calls).

    Returns the result and, for systems without a batch API, the per-call latencies observed
    during the rounds (those loops are sequences of single calls).
    """
    plan = _plan(system, texts, profile)
    work = list(texts[: plan["n_texts"]])
    rates, cpu_rates, cpu_ratio, latencies = [], [], [], []
    for _ in range(profile.rounds):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(plan["reps"]):
            if system.batch_api:
                system.run_batch(work)
            else:
                for text in work:
                    s = time.perf_counter()
                    system.run_one(text)
                    latencies.append(time.perf_counter() - s)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rates.append(plan["reps"] * len(work) / dt)
        cpu_rates.append(plan["reps"] * len(work) / max(dc, 1e-9))
        cpu_ratio.append(dc / dt)
    result = {
        "texts_per_s": summarize(rates),
        # Texts per CPU-second of this process: robust to other load on a shared machine.
        "texts_per_cpu_s": summarize(cpu_rates),
        "cpu_per_wall": statistics.median(cpu_ratio),
        "api": "batch" if system.batch_api else "per-text",
        **plan,
    }
    return result, latencies


def judgement(
    fn: Callable[[list[str]], Any], texts: Sequence[str], profile: Profile, unit: int = 1
) -> dict[str, Any]:
    """One judgement's batch throughput on ``texts`` (one thread) and its single-call latency.

    Like :func:`single_thread` for a batch API: two warm-up calls on all texts (lazy models
    load in the first), then ``profile.rounds`` timed rounds, each repeating the texts until it
    lasts about ``profile.round_target_s``. ``us_per_text`` is the median round's time per text.
    Latency: calls on ``unit`` texts (one text, or one conversation) one after another.
    """
    work = list(texts)
    fn(work)  # warm-up: lazily loaded models load here
    fn(work)  # ... and first-call effects after loading (allocations, caches)
    t0 = time.perf_counter()
    fn(work)
    per_text = max((time.perf_counter() - t0) / len(work), 1e-9)
    reps = max(1, math.ceil(profile.round_target_s / (per_text * len(work))))
    rates, cpu_rates, cpu_ratio = [], [], []
    for _ in range(profile.rounds):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(reps):
            fn(work)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rates.append(reps * len(work) / dt)
        cpu_rates.append(reps * len(work) / max(dc, 1e-9))
        cpu_ratio.append(dc / dt)
    samples: list[float] = []
    deadline = time.perf_counter() + profile.latency_budget_s
    i = 0
    while len(samples) < profile.latency_max_calls and (
        len(samples) < profile.min_texts or time.perf_counter() < deadline
    ):
        call = [work[(i + k) % len(work)] for k in range(unit)]
        s = time.perf_counter()
        fn(call)
        samples.append(time.perf_counter() - s)
        i += unit
    rate = summarize(rates)
    return {
        "texts_per_s": rate,
        "texts_per_cpu_s": summarize(cpu_rates),
        "us_per_text": 1e6 / rate["median"],
        "cpu_us_per_text": 1e6 / statistics.median(cpu_rates),  # other load cannot inflate it
        "cpu_per_wall": statistics.median(cpu_ratio),
        "n_texts": len(work),
        "reps": reps,
        "mean_chars": statistics.mean(len(t) for t in work),
        "call_texts": unit,
        "latency": percentiles(samples),
    }


def latency(system: systems_mod.System, texts: Sequence[str], profile: Profile) -> list[float]:
    """Single calls one after another, until the call cap or the time budget is reached."""
    samples: list[float] = []
    system.run_one(texts[0])
    deadline = time.perf_counter() + profile.latency_budget_s
    i = 0
    while len(samples) < profile.latency_max_calls and (
        len(samples) < profile.min_texts or time.perf_counter() < deadline
    ):
        text = texts[i % len(texts)]
        s = time.perf_counter()
        system.run_one(text)
        samples.append(time.perf_counter() - s)
        i += 1
    return samples


# --- process pool (all cores) ------------------------------------------------------------------

_WORKER: systems_mod.System | None = None
_WORKER_ERROR: str | None = None
_PRELOADED: systems_mod.System | None = None  # inherited by forked workers
POOL_START_TIMEOUT_S = 300.0


def _worker_init(name: str, options: dict, barrier: Any, cpus: list[int] | None) -> None:
    global _WORKER, _WORKER_ERROR
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))  # undo the parent's single-CPU pin
    try:
        if _PRELOADED is not None and _PRELOADED.name == name:
            system = _PRELOADED  # forked: the parent's loaded copy
        else:
            system = systems_mod.make(name, options)
            system.load()
        system.run_one("预热一下")
        _WORKER = system
    except BaseException as exc:  # reported back through the tasks
        _WORKER_ERROR = f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(Exception):  # a replacement worker meets a used barrier
        barrier.wait(timeout=POOL_START_TIMEOUT_S)


def _worker_system() -> systems_mod.System:
    if _WORKER is None:
        raise RuntimeError(f"worker could not load the system: {_WORKER_ERROR}")
    return _WORKER


def _worker_ready() -> bool:
    _worker_system()
    return True


def _worker_batch(texts: list[str]) -> int:
    _worker_system().run_batch(texts)
    return len(texts)


def _worker_predict(task: str, texts: list[str]) -> list[Any]:
    return _worker_system().predict(task, texts)


class SystemPool:
    """A pool of ``os.cpu_count()`` processes, each holding the system loaded once.

    Pure-Python systems (``fork_safe``) are forked from the parent after it loaded them, as a
    user would on Linux; others (native thread pools do not survive ``fork``) are spawned and
    load the system themselves. Either way the pool is ready before anything is timed.
    """

    def __init__(self, system: systems_mod.System, processes: int | None = None) -> None:
        global _PRELOADED
        self.processes = processes or os.cpu_count() or 1
        fork = system.fork_safe and "fork" in mp.get_all_start_methods()
        self.start_method = "fork" if fork else "spawn"
        ctx = mp.get_context(self.start_method)
        barrier = ctx.Barrier(self.processes + 1)
        cpus = sorted(all_cpus() or []) or None
        t0 = time.perf_counter()
        _PRELOADED = system if fork else None
        try:
            self._pool = ctx.Pool(
                self.processes, _worker_init, (system.name, system.options, barrier, cpus)
            )
        finally:
            _PRELOADED = None
        barrier.wait(timeout=POOL_START_TIMEOUT_S)
        self.start_s = time.perf_counter() - t0
        self._pool.apply(_worker_ready)  # raises if the workers could not load

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> SystemPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def predict(self, task: str, texts: Sequence[str], chunk: int = 64) -> list[Any]:
        chunks = [(task, list(texts[i : i + chunk])) for i in range(0, len(texts), chunk)]
        out: list[Any] = []
        for part in self._pool.starmap(_worker_predict, chunks, chunksize=1):
            out.extend(part)
        return out

    def throughput(
        self, texts: Sequence[str], single: dict[str, Any], profile: Profile
    ) -> dict[str, Any]:
        """Each round processes the single-thread round's work, split across the processes.

        Perfect scaling makes a round ``processes`` times shorter than a single-thread round.
        """
        work = list(texts[: single["n_texts"]]) * single["reps"]
        while len(work) < self.processes * 2:
            work += work
        n_chunks = min(len(work), self.processes * 4)
        size = math.ceil(len(work) / n_chunks)
        chunks = [work[i : i + size] for i in range(0, len(work), size)]
        self._pool.map(_worker_batch, chunks[: self.processes], chunksize=1)  # warm-up
        rates = []
        for _ in range(profile.rounds):
            t0 = time.perf_counter()
            done = sum(self._pool.map(_worker_batch, chunks, chunksize=1))
            rates.append(done / (time.perf_counter() - t0))
        return {
            "texts_per_s": summarize(rates),
            "processes": self.processes,
            "start_method": self.start_method,
            "texts_per_round": len(work),
            "pool_start_s": self.start_s,
        }


# --- fresh-subprocess probes -------------------------------------------------------------------


def probe(name: str, options: dict, texts: Sequence[str], runs: int) -> dict[str, Any]:
    """Run :mod:`benchmarks.probe` ``runs`` times in fresh interpreters; medians."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(list(texts), fh, ensure_ascii=False)
        path = fh.name
    results = []
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.probe", name, json.dumps(options), path],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, **THREAD_ENV},
            )
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                tail = proc.stderr.strip().splitlines()[-3:]
                raise RuntimeError(f"probe for {name} failed: {' | '.join(tail)}")
            res = json.loads(proc.stdout)
            res["cold_start_s"] = wall  # interpreter start-up + load + the probe's work
            results.append(res)
    finally:
        Path(path).unlink(missing_ok=True)
    keys = [k for k, v in results[0].items() if isinstance(v, int | float)]
    out: dict[str, Any] = {k: statistics.median(r[k] for r in results) for k in keys}
    out["runs"] = runs
    return out


def dir_size(path: Path) -> tuple[int, int]:
    """(total bytes, file count) of the regular files under ``path`` (excluding __pycache__)."""
    if path.is_file():
        return path.stat().st_size, 1
    total = count = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            p = Path(root) / f
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
                count += 1
    return total, count


def package_dir(module: str) -> Path | None:
    """Directory (or file) of an installed top-level module, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin else None
