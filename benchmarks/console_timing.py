"""Speed of the web console in a real browser: first paint of the page, and Analyze to result.

    python -m benchmarks.console_timing                       # 20 cold loads, 10 warm, 50 clicks
    python -m benchmarks.console_timing --loads 5 --clicks 10 --out /tmp/console.json

The targets (issue 8): first meaningful paint of the console under 300 ms on loopback, and a
result shown within 100 ms of pressing Analyze for a short text.

It starts ``qinggan serve`` in a child process on a free 127.0.0.1 port (a temporary SQLite
database holding one app with no quota and no rate limit, the shipped models, no job worker),
waits for ``/healthz``, then drives Debian's Chromium (``scripts/install-browser``) headless with
Playwright for Python:

* cold loads: ``--loads`` times a fresh browser context (empty cache and storage) opens ``/``;
  the page's own clock gives ``first-contentful-paint`` (``performance.getEntriesByType('paint')``)
  and the first animation frame in which the login form is visible (a script injected before
  the page's own), both from the start of navigation; ``--warm-loads`` reloads in one context
  give the same with a warm cache;
* Analyze: one signed-in tab, ``--clicks`` presses of Analyze on ``--text`` (after 3 unmeasured
  ones), each timed inside the page from just before ``click()`` to the moment the polarity label
  of the result is in the DOM (a MutationObserver), and to the next animation frame after it.

It reports median, p90 (loads) or p95 (clicks) and max, and writes them with the machine's
details to ``benchmarks/results/console.json`` (``--out``). Everything is bounded: loopback only,
a fixed number of loads and clicks, the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.service_load import ROOT, Server, _commit, create_app_credentials, load_average

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "console.json"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TARGET_FIRST_PAINT_MS = 300.0
TARGET_ANALYZE_MS = 100.0
WARM_UP_CLICKS = 3

#: injected before the page's scripts: the first frame in which the login form is visible
WATCH_LOGIN_FORM = """
(() => {
  const look = () => {
    const form = document.getElementById("login-form");
    if (form && form.checkVisibility()) { window.__loginVisibleAt = performance.now(); return; }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""
PAINT_TIMES = """() => {
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  return { fcp: fcp ? fcp.startTime : null, login: window.__loginVisibleAt ?? null,
           response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd,
           load: nav.loadEventEnd };
}"""
PAINTED = (
    "() => performance.getEntriesByName('first-contentful-paint').length > 0"
    " && window.__loginVisibleAt !== undefined"
)
#: one press of Analyze, timed in the page: [ms to the result in the DOM, ms to the next frame]
ANALYZE_ONCE = """async () => {
  const box = document.getElementById("results");
  box.replaceChildren();
  const started = performance.now();
  const inDom = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (box.querySelector(".result .polarity .label")) {
        observer.disconnect();
        resolve(performance.now() - started);
      }
    });
    observer.observe(box, { childList: true, subtree: true });
  });
  document.getElementById("analyze").click();
  const dom = await inDom;
  const frame = await new Promise((resolve) =>
    requestAnimationFrame(() => resolve(performance.now() - started)));
  return [dom, frame];
}"""


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile ``p`` (0-100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float], tail: float) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 1),
        f"p{tail:g}_ms": round(percentile(values, tail), 1),
        "max_ms": round(max(values), 1),
    }


# -- the server ---------------------------------------------------------------------------------
# -- the browser --------------------------------------------------------------------------------
def open_console(page: Any, base: str) -> dict[str, float]:
    page.goto(base + "/")
    page.wait_for_function(PAINTED)
    times: dict[str, float] = page.evaluate(PAINT_TIMES)
    return times


def page_loads(browser: Any, base: str, cold: int, warm: int) -> dict[str, Any]:
    """``cold`` loads each in a fresh context, then ``warm`` reloads in one context."""
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for _ in range(cold):
        context = browser.new_context()
        context.add_init_script(WATCH_LOGIN_FORM)
        try:
            runs["cold"].append(open_console(context.new_page(), base))
        finally:
            context.close()
    context = browser.new_context()
    context.add_init_script(WATCH_LOGIN_FORM)
    try:
        page = context.new_page()
        open_console(page, base)
        for _ in range(warm):
            runs["warm"].append(open_console(page, base))
    finally:
        context.close()
    out: dict[str, Any] = {}
    for kind, times in runs.items():
        if not times:
            continue
        out[kind] = {
            metric: summary([t[metric] for t in times], 90)
            for metric in ("fcp", "login", "response_end", "dom_content_loaded", "load")
        }
    return out


def analyze_clicks(browser: Any, base: str, key: str, text: str, clicks: int) -> dict[str, Any]:
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        app_id, secret = key.split(":", 1)
        page.goto(base + "/")
        page.fill("#app-id", app_id)
        page.fill("#secret", secret)
        page.click("#login-form button[type=submit]")
        page.locator("#app").wait_for(state="visible")
        page.fill("#texts", text)
        timings = [page.evaluate(ANALYZE_ONCE) for _ in range(WARM_UP_CLICKS + clicks)]
    finally:
        context.close()
    measured = timings[WARM_UP_CLICKS:]
    return {
        "text": text,
        "result_in_dom": summary([dom for dom, _ in measured], 95),
        "next_frame": summary([frame for _, frame in measured], 95),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="qinggan-console-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'console.db'}"
        key = create_app_credentials(db_url)
        server = Server(1, db_url, Path(tmp) / "server.log", None)
        try:
            server.wait_ready()
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=str(args.chromium), args=CHROMIUM_ARGS
                )
                try:
                    loads = page_loads(browser, server.base, args.loads, args.warm_loads)
                    analyze = analyze_clicks(browser, server.base, key, args.text, args.clicks)
                    version = browser.version
                finally:
                    browser.close()
        finally:
            server.stop()
    cold = loads["cold"]
    return {
        "benchmark": "console_timing",
        "label": args.label,
        "targets": {"first_paint_ms": TARGET_FIRST_PAINT_MS, "analyze_ms": TARGET_ANALYZE_MS},
        "meets_targets": {
            "first_paint": max(cold["fcp"]["p90_ms"], cold["login"]["p90_ms"])
            < TARGET_FIRST_PAINT_MS,
            "analyze": analyze["result_in_dom"]["p95_ms"] < TARGET_ANALYZE_MS,
        },
        "loads": loads,
        "analyze": analyze,
        "browser": f"Chromium {version} (headless)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "note": "server and browser share the same cores (loopback)",
        },
        "commit": _commit(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def report(result: dict[str, Any]) -> None:
    for kind, metrics in result["loads"].items():
        fcp, login = metrics["fcp"], metrics["login"]
        print(
            f"{kind:>4} loads (n={fcp['n']}): first contentful paint median {fcp['median_ms']} ms, "
            f"p90 {fcp['p90_ms']} ms, max {fcp['max_ms']} ms; login form visible median "
            f"{login['median_ms']} ms, p90 {login['p90_ms']} ms, max {login['max_ms']} ms"
        )
    for name in ("result_in_dom", "next_frame"):
        got = result["analyze"][name]
        print(
            f"Analyze -> {name.replace('_', ' ')} (n={got['n']}): median {got['median_ms']} ms, "
            f"p95 {got['p95_ms']} ms, max {got['max_ms']} ms"
        )
    print(f"meets the targets: {result['meets_targets']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=20, help="cold loads, one context each")
    parser.add_argument("--warm-loads", type=int, default=10, help="reloads in one context")
    parser.add_argument("--clicks", type=int, default=50, help="measured presses of Analyze")
    parser.add_argument("--text", default="房间很干净，服务也周到", help="the text analysed")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument("--label", default="", help="a note kept in the results (e.g. before)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not 1 <= args.loads <= 200 or not 0 <= args.warm_loads <= 200:
        parser.error("--loads must be 1-200 and --warm-loads 0-200")
    if not 1 <= args.clicks <= 1000:
        parser.error("--clicks must be 1-1000")
    if not args.chromium.exists():
        parser.error(f"{args.chromium} is missing: run scripts/install-browser")
    result = measure(args)
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
