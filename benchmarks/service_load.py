"""Load benchmark of the HTTP service: single-text polarity on loopback, from a second process.

    python -m benchmarks.service_load                      # workers 1 and 2, concurrency 8 and 32
    python -m benchmarks.service_load --duration 5 --workers 1 --concurrency 32

For each ``--workers`` count it starts ``qinggan serve`` as a separate process on 127.0.0.1 (a
free port) with a temporary SQLite database holding one app with a high daily quota and rate
(so every request goes through the real authentication and the real atomic charge), waits for
``/healthz``, checks one answer, then for each ``--concurrency`` runs a warm-up and a measured
run of ``--duration`` seconds of ``POST /api/v1/polarity`` with ``X-API-Key``. The load comes
from ``wrk`` (one thread, keep-alive connections, a Lua script for the POST body and header;
``apt-get install -y wrk``) when it is on the PATH, else from a bounded asyncio client over raw
keep-alive HTTP/1.1 sockets in a child process. Both count requests, latency percentiles and
answers that are not 2xx.

Everything is bounded: loopback only, a fixed duration per run, the server is stopped at the
end. The results go to ``benchmarks/results/service_load.json`` (``--out``), with the machine's
load average before and after (the load generator shares the cores with the server, so the
numbers are a floor for a machine where the client runs elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "service_load.json"
PATH = "/api/v1/polarity"
TEXTS = [
    "房间很干净，服务也周到，下次还来",
    "太差了，等了一个小时还没上菜",
    "请问明天几点开门营业",
    "质量不错，物流也快，好评",
]
TARGET_RPS = 1000.0
TARGET_P99_MS = 50.0

WRK_SCRIPT = r"""
local key = os.getenv("QG_BENCH_KEY")
local texts = {%(texts)s}
local bodies = {}
for i, t in ipairs(texts) do bodies[i] = '{"text":"' .. t .. '"}' end
local n = 0
request = function()
  n = n + 1
  local body = bodies[(n %% #bodies) + 1]
  return wrk.format("POST", "%(path)s",
    {["Content-Type"] = "application/json", ["X-API-Key"] = key}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'QG_RESULT {"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%.1f,' ..
    '"non_2xx":%%d,"connect_errors":%%d,"read_errors":%%d,"write_errors":%%d,"timeouts":%%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass
class Run:
    workers: int
    concurrency: int
    tool: str
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_ms_per_request: float
    meets_target: bool = field(default=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants so far (Linux ``/proc``; 0.0
    elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = entry.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        pid = int(entry.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    family, changed = {root}, True
    while changed:
        grown = family | {pid for pid, parent in parents.items() if parent in family}
        changed, family = grown != family, grown
    return sum(times.get(pid, 0.0) for pid in family)


def uptime_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# -- the server ---------------------------------------------------------------------------------
def create_app_credentials(db_url: str) -> str:
    """A fresh app with a high quota and rate in the database; ``app_id:secret``."""
    from qinggan.service.store import AppStore

    store = AppStore.open(db_url)
    try:
        app = store.add_app("load-benchmark", dialects=["native"], daily_quota=10**12, rps=10**6)
    finally:
        store.close()
    return f"{app.app_id}:{app.secret}"


class Server:
    """``qinggan serve`` in a child process (its own process group), stopped on exit."""

    def __init__(self, workers: int, db_url: str, log_path: Path, threads: int | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.pop("QINGGAN_ADMIN_KEY", None)
        if threads is not None:
            env["QINGGAN_THREADS"] = str(threads)
        command = [
            sys.executable, "-m", "qinggan", "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--db", db_url, "--log-level", "warning", "--no-worker",
        ]  # fmt: skip
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError("the server did not become ready in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def check_answer(base: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(
        base + PATH,
        data=json.dumps({"text": TEXTS[0]}).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    if body.get("result", {}).get("label") not in ("positive", "negative", "neutral"):
        raise RuntimeError(f"unexpected answer: {body}")
    return body


# -- load generators ----------------------------------------------------------------------------
def run_wrk(base: str, key: str, concurrency: int, seconds: float, script: Path) -> dict[str, Any]:
    command = [
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(script), base + PATH,
    ]  # fmt: skip
    env = dict(os.environ, QG_BENCH_KEY=key)
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    for line in done.stdout.splitlines():
        if line.startswith("QG_RESULT "):
            raw = json.loads(line[len("QG_RESULT ") :])
            return {
                "requests": raw["requests"],
                "duration_s": raw["duration_us"] / 1e6,
                "p50_ms": raw["p50_us"] / 1000,
                "p90_ms": raw["p90_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000,
                "max_ms": raw["max_us"] / 1000,
                "non_2xx": raw["non_2xx"],
                "socket_errors": sum(
                    raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
                ),
            }
    raise RuntimeError(f"wrk printed no result: {done.stdout[-2000:]} {done.stderr[-2000:]}")


async def _client(
    port: int, key: str, concurrency: int, seconds: float
) -> tuple[list[float], int, int, float]:
    bodies = [json.dumps({"text": t}).encode() for t in TEXTS]
    requests = [
        (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {key}\r\nContent-Length: {len(b)}\r\n\r\n"
        ).encode()
        + b
        for b in bodies
    ]
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    start = time.perf_counter()
    stop_at = start + seconds

    async def connection(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = index
        try:
            while time.perf_counter() < stop_at:
                n += 1
                sent = time.perf_counter()
                writer.write(requests[n % len(requests)])
                status_line = await asyncio.wait_for(reader.readline(), 10)
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                parts = status_line.split()
                if len(parts) < 2 or not parts[1].startswith(b"2"):
                    counts["non_2xx"] += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            counts["errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    return latencies, counts["non_2xx"], counts["errors"], time.perf_counter() - start


def client_main(port: int, key: str, concurrency: int, seconds: float) -> None:
    """The asyncio load generator (run as ``--client`` in a child process); prints JSON."""
    latencies, non_2xx, errors, elapsed = asyncio.run(_client(port, key, concurrency, seconds))
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    print(
        "QG_RESULT "
        + json.dumps(
            {
                "requests": len(latencies),
                "duration_s": elapsed,
                "p50_ms": pct(50),
                "p90_ms": pct(90),
                "p99_ms": pct(99),
                "max_ms": ordered[-1] * 1000,
                "mean_ms": statistics.fmean(ordered) * 1000,
                "non_2xx": non_2xx,
                "socket_errors": errors,
            }
        )
    )


def run_asyncio(port: int, key: str, concurrency: int, seconds: float) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "benchmarks.service_load", "--client",
        "--port", str(port), "--concurrency", str(concurrency), "--duration", str(seconds),
    ]  # fmt: skip
    env = dict(os.environ, QG_BENCH_KEY=key)
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    for line in done.stdout.splitlines():
        if line.startswith("QG_RESULT "):
            result: dict[str, Any] = json.loads(line[len("QG_RESULT ") :])
            return result
    raise RuntimeError(f"the client printed no result: {done.stderr[-2000:]}")


def drive(
    tool: str, server: Server, key: str, concurrency: int, seconds: float, script: Path
) -> dict[str, Any]:
    if tool == "wrk":
        return run_wrk(server.base, key, concurrency, seconds, script)
    return run_asyncio(server.port, key, concurrency, seconds)


# -- the benchmark ------------------------------------------------------------------------------
def measure(args: argparse.Namespace) -> dict[str, Any]:
    tool = "wrk" if shutil.which("wrk") and not args.no_wrk else "asyncio"
    runs: list[Run] = []
    load_before = load_average()
    uptime_before = uptime_line()
    with tempfile.TemporaryDirectory(prefix="qinggan-load-") as tmp:
        script = Path(tmp) / "polarity.lua"
        texts = ", ".join(json.dumps(t, ensure_ascii=False) for t in TEXTS)
        script.write_text(WRK_SCRIPT % {"texts": texts, "path": PATH}, encoding="utf-8")
        for workers in args.workers:
            db_url = f"sqlite:///{Path(tmp) / f'load-{workers}.db'}"
            key = create_app_credentials(db_url)
            server = Server(workers, db_url, Path(tmp) / f"server-{workers}.log", args.threads)
            try:
                server.wait_ready()
                check_answer(server.base, key)
                for concurrency in args.concurrency:
                    drive(tool, server, key, concurrency, args.warmup, script)
                    cpu_before = tree_cpu_seconds(server.proc.pid)
                    got = drive(tool, server, key, concurrency, args.duration, script)
                    cpu = tree_cpu_seconds(server.proc.pid) - cpu_before
                    rps = got["requests"] / got["duration_s"] if got["duration_s"] else 0.0
                    run = Run(
                        workers=workers,
                        concurrency=concurrency,
                        tool=tool,
                        duration_s=round(got["duration_s"], 2),
                        requests=got["requests"],
                        requests_per_s=round(rps, 1),
                        p50_ms=round(got["p50_ms"], 2),
                        p90_ms=round(got["p90_ms"], 2),
                        p99_ms=round(got["p99_ms"], 2),
                        max_ms=round(got["max_ms"], 2),
                        non_2xx=got["non_2xx"],
                        socket_errors=got["socket_errors"],
                        server_cpu_ms_per_request=round(1000 * cpu / max(1, got["requests"]), 3),
                    )
                    run.meets_target = (
                        run.requests_per_s >= TARGET_RPS
                        and run.p99_ms < TARGET_P99_MS
                        and run.non_2xx == 0
                    )
                    runs.append(run)
                    print(
                        f"workers={workers} concurrency={concurrency:>3} {tool}: "
                        f"{run.requests_per_s:8.1f} req/s  p50 {run.p50_ms:6.2f} ms  "
                        f"p99 {run.p99_ms:7.2f} ms  non-2xx {run.non_2xx}  "
                        f"socket errors {run.socket_errors}  "
                        f"server CPU {run.server_cpu_ms_per_request:.3f} ms/request",
                        flush=True,
                    )
            finally:
                server.stop()
    return {
        "benchmark": "service_load",
        "endpoint": f"POST {PATH} (one text, X-API-Key, SQLite database)",
        "target": {"requests_per_s": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "tool": tool,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "uptime_before": uptime_before,
            "uptime_after": uptime_line(),
            "note": "server and load generator share the same cores (loopback)",
        },
        "commit": _commit(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": [asdict(run) for run in runs],
    }


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="e.g. 1,2")
    parser.add_argument("--concurrency", type=_ints, default=[8, 32], help="e.g. 8,32")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per run")
    parser.add_argument("--threads", type=int, default=None, help="QINGGAN_THREADS override")
    parser.add_argument("--no-wrk", action="store_true", help="use the asyncio client")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be 1-120 s and --warmup 0-60 s")
    if any(not 1 <= c <= 512 for c in args.concurrency) or any(
        not 1 <= w <= 8 for w in args.workers
    ):
        parser.error("--concurrency must be 1-512 and --workers 1-8")
    if args.client:
        client_main(args.port, os.environ["QG_BENCH_KEY"], args.concurrency[0], args.duration)
        return 0
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
