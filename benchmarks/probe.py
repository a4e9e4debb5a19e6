"""Fresh-interpreter probe: load time and peak resident memory of one system.

Usage (internal, started by the runner)::

    python -m benchmarks.probe <system|none> <options-json> <texts-json-file>

Prints one JSON object on stdout:

* ``load_s``: import + construction + the first call on one text, measured inside the process
  (what a user waits for before the first answer, interpreter start-up excluded);
* ``import_s`` / ``first_call_s``: the two parts of ``load_s`` (lazy loaders pay in the first
  call);
* ``peak_rss_mib``: peak resident memory (``VmHWM``, else ``ru_maxrss``) after the first call
  and processing the given texts.

With system ``none`` it measures the bare interpreter plus this module, the baseline that the
report subtracts.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def _peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB.

    On Linux this reads ``VmHWM`` from /proc/self/status: ``ru_maxrss`` survives ``execve`` and
    so reports the parent's peak when the parent is larger (it is: it holds several systems).
    Elsewhere ``ru_maxrss`` is used.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main(argv: list[str]) -> int:
    name, options_json, texts_path = argv
    with open(texts_path, encoding="utf-8") as fh:
        texts = json.load(fh)
    from benchmarks import systems

    out: dict[str, object] = {"system": name}
    if name != "none":
        t0 = time.perf_counter()
        system = systems.make(name, json.loads(options_json))
        system.load()
        t1 = time.perf_counter()
        system.run_one(texts[0])
        t2 = time.perf_counter()
        out.update(import_s=t1 - t0, first_call_s=t2 - t1, load_s=t2 - t0)
        out["rss_after_first_call_mib"] = _peak_rss_mib()
        system.run_batch(texts)
        out["texts_processed"] = len(texts) + 1
    out["peak_rss_mib"] = _peak_rss_mib()
    out["process_s"] = time.perf_counter() - _T0
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
