"""``python -m benchmarks run|list``: thin argument parsing around :func:`benchmarks.runner.run`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks.report import DEFAULT_BASELINE
from benchmarks.speed import pin_single_thread_env

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_REPORT = Path(__file__).resolve().parent / "REPORT.md"
BASELINE_HELP = (
    "results JSON of the previously shipped models, compared in the report's 'Shipped models: "
    f"before and after' section (default {DEFAULT_BASELINE} when it exists; 'none': no section)"
)
#: where a run writes unless told otherwise: one folder per run, ignored by git (/runs/)
SCRATCH_DIR = Path(__file__).resolve().parents[1] / "runs" / "benchmarks"
DATA_HELP = (
    "The benchmark reads the dev splits of the public corpora, converted as described in the "
    "data README (../shared/data/README.md in the development checkout: each corpus's GitHub "
    "repository, commit and path), and the project's own sets in corpora/. Point --data-dir at "
    "your copy (a folder holding polarity/<corpus>/dev.jsonl ...)."
)


def _parser() -> argparse.ArgumentParser:
    from benchmarks.data import DEFAULT_CORPORA_DIR, DEFAULT_DATA_DIR
    from benchmarks.profiles import PROFILES
    from benchmarks.systems import REGISTRY as SYSTEMS
    from benchmarks.tasks import REGISTRY as TASKS

    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the benchmark and write JSON, report and plots")
    run.add_argument("--quick", action="store_true", help="subsampled run, under 2 minutes")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"JSON results (default: a new folder under {SCRATCH_DIR})",
    )
    run.add_argument(
        "--report",
        type=Path,
        default=None,
        help="markdown report (default: beside --out)",
    )
    run.add_argument(
        "--update-report",
        action="store_true",
        help=f"write the committed results instead: {DEFAULT_OUT} and {DEFAULT_REPORT}",
    )
    run.add_argument(
        "--plots-dir", type=Path, default=None, help="where the PNGs go (default: beside --out)"
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"the public corpora's dev splits (default {DEFAULT_DATA_DIR}). {DATA_HELP}",
    )
    run.add_argument(
        "--corpora-dir",
        type=Path,
        default=DEFAULT_CORPORA_DIR,
        help=f"the project's own labelled sets (default {DEFAULT_CORPORA_DIR})",
    )
    run.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated systems (default: {','.join(SYSTEMS)}); missing ones are skipped",
    )
    run.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help=f"comma-separated tasks (default {','.join(TASKS)})",
    )
    run.add_argument(
        "--qinggan-model", default=None, help="benchmark this model directory via qinggan.load()"
    )
    run.add_argument("--seed", type=int, default=20261121)
    run.add_argument("--baseline", default=None, help=BASELINE_HELP)
    g = run.add_argument_group("profile overrides (mostly for tests)")
    g.add_argument("--items", type=int, default=None, help="max items per dataset")
    g.add_argument("--rounds", type=int, default=None, help="timed rounds per measurement")
    g.add_argument("--round-seconds", type=float, default=None, help="target seconds per round")
    g.add_argument(
        "--load-runs", type=int, default=None, help="fresh-interpreter probes per system"
    )
    g.add_argument("--single-process", action="store_true", help="skip the all-cores measurements")

    rep = sub.add_parser("report", help="re-render the report and plots from a results JSON")
    rep.add_argument("--from", dest="source", type=Path, default=DEFAULT_OUT, help="results JSON")
    rep.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="markdown report")
    rep.add_argument("--plots-dir", type=Path, default=None, help="default: beside the JSON")
    rep.add_argument("--baseline", default=None, help=BASELINE_HELP)

    sub.add_parser("list", help="show systems, tasks and profiles")
    p.set_defaults(_profiles=PROFILES)
    return p


def main(argv: list[str] | None = None) -> int:
    pin_single_thread_env()  # before numpy & co. are imported by anything below
    args = _parser().parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "report":
        return _report(args)
    return _run(args)


def _list() -> int:
    from benchmarks.profiles import PROFILES
    from benchmarks.systems import REGISTRY as SYSTEMS
    from benchmarks.tasks import REGISTRY as TASKS

    for name, cls in SYSTEMS.items():
        state = cls.version() or ("installed" if cls.available() else "not installed")
        print(f"system  {name:14s} {state:12s} {cls.description}")
    for name, task in TASKS.items():
        groups = ", ".join(task.groups) or "-"
        print(f"task    {name:14s} {task.description} (data groups: {groups})")
    for name, prof in PROFILES.items():
        print(f"profile {name:14s} {prof}")
    return 0


def baseline_path(args: argparse.Namespace) -> Path | None:
    """--baseline: None for 'none' (or the default file missing); exits 2 on a missing file."""
    if args.baseline is None:
        return DEFAULT_BASELINE if DEFAULT_BASELINE.is_file() else None
    if args.baseline.strip().lower() in ("", "none"):
        return None
    path = Path(args.baseline).resolve()
    if not path.is_file():
        print(f"error: --baseline {args.baseline}: no such file", file=sys.stderr)
        raise SystemExit(2)
    return path


def _report(args: argparse.Namespace) -> int:
    from benchmarks import report

    baseline = baseline_path(args)
    source = args.source.resolve()
    result = json.loads(source.read_text(encoding="utf-8"))
    plots_dir = (args.plots_dir or source.parent).resolve()
    report_path, plots = report.write(result, args.report.resolve(), plots_dir, baseline)
    for path in (report_path, *plots.values()):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _finite(obj: Any) -> Any:
    """NaN/inf (an empty measurement) become null, so the JSON stays strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def output_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """Where the JSON and the report go: --out/--report as given, the committed files with
    --update-report, else a fresh scratch folder (the committed report is never overwritten by
    accident)."""
    if args.update_report:
        out, report_path = DEFAULT_OUT, DEFAULT_REPORT
    else:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = args.out or SCRATCH_DIR / stamp / "latest.json"
        report_path = args.report or out.parent / "REPORT.md"
    out, report_path = (args.out or out).resolve(), (args.report or report_path).resolve()
    return out, report_path


def _run(args: argparse.Namespace) -> int:
    from benchmarks import report
    from benchmarks.profiles import PROFILES, with_overrides
    from benchmarks.runner import RunConfig, run
    from benchmarks.systems import REGISTRY as SYSTEMS
    from benchmarks.tasks import REGISTRY as TASKS

    profile = PROFILES["quick" if args.quick else "full"]
    profile = with_overrides(
        profile,
        items_per_dataset=args.items,
        peer_cap=args.items,
        rounds=args.rounds,
        round_target_s=args.round_seconds,
        peer_round_cap_s=args.round_seconds,
        latency_budget_s=args.round_seconds,
        load_runs=args.load_runs,
        multiprocess=False if args.single_process else None,
    )
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in names if s not in SYSTEMS]
    if unknown:
        print(
            f"unknown system(s) {', '.join(unknown)}; expected: {', '.join(SYSTEMS)}",
            file=sys.stderr,
        )
        return 2
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        print(
            f"unknown task(s) {', '.join(unknown)}; expected: {', '.join(TASKS)}", file=sys.stderr
        )
        return 2
    data_dir = args.data_dir.resolve()
    if not data_dir.is_dir():
        print(f"error: no benchmark data at {data_dir}. {DATA_HELP}", file=sys.stderr)
        return 2
    corpora_dir = args.corpora_dir.resolve()
    if not corpora_dir.is_dir():
        print(f"error: no corpora folder at {corpora_dir} (use --corpora-dir)", file=sys.stderr)
        return 2
    out, report_path = output_paths(args)
    baseline = baseline_path(args)  # before the run, so a wrong path fails fast
    cfg = RunConfig(
        profile=profile,
        data_dir=data_dir,
        systems=names,
        tasks=tasks,
        corpora_dir=corpora_dir,
        seed=args.seed,
        qinggan_model=args.qinggan_model,
    )
    result = run(cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(result), ensure_ascii=False, indent=1, allow_nan=False)
    out.write_text(text + "\n", encoding="utf-8")
    plots_dir = (args.plots_dir or out.parent).resolve()
    report_path, plots = report.write(result, report_path, plots_dir, baseline)
    print(f"wrote {out}", file=sys.stderr)
    print(f"wrote {report_path}", file=sys.stderr)
    for path in plots.values():
        print(f"wrote {path}", file=sys.stderr)
    return 0
