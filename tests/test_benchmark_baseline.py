"""The report's "Shipped models: before and after" section (benchmarks/report.py).

Built from small hand-made result dicts and from the committed baseline JSON in benchmarks/results
(perturbed in memory); never reads ../shared and never runs the benchmark.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from benchmarks import cli, report

TITLE = "## Shipped models: before and after"


def _ds(n: int, **per_system: dict[str, float]) -> dict[str, Any]:
    return {"n_eval": n, "results": per_system}


def _speed(rate: float, snow: float) -> dict[str, Any]:
    def one(r: float) -> dict[str, Any]:
        return {"single": {"texts_per_s": {"median": r}}, "latency": {"p50_ms": 1000.0 / r}}

    return {
        "buckets": {"short": {}},
        "results": {"qinggan": {"short": one(rate)}, "snownlp": {"short": one(snow)}},
        "judgements": {"qinggan": {"all of one text": {"us_per_text": 1e6 / rate}}},
    }


def _result(
    datasets: dict[str, Any], rate: float, models: dict[str, int], created: str
) -> dict[str, Any]:
    return {
        "created_at": created,
        "mode": "full",
        "machine": {"git_commit": "abc1234", "cpu_model": "X", "cpu_count": 2},
        "systems": {
            "qinggan": {"available": True, "error": None},
            "snownlp": {"available": True, "error": None},
        },
        "accuracy": {"polarity": {"datasets": datasets, "extra_metrics": []}},
        "summary": {"polarity": {"mean": {"qinggan": {"accuracy_binary": 0.8}}}},
        "speed": _speed(rate, 100.0),
        "load": {"qinggan": {"load_s": 0.1, "peak_rss_mib": 80.0}},
        "size": {
            "qinggan": {
                "models_dir": "m",
                "package_bytes": sum(models.values()),
                "model_bytes": sum(models.values()),
                "model_files": len(models),
                "per_model_bytes": models,
            }
        },
    }


def _section(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    report._before_after(old, new, lines.append)
    return lines


def _row(lines: list[str], *starts: str) -> list[str]:
    """The cells of the one table row whose first cells are ``starts``."""
    hits = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[: len(starts)] == list(starts):
            hits.append(cells)
    assert len(hits) == 1, (starts, hits)
    return hits[0]


MIB = 2**20
OLD = _result(
    {
        "polarity/a": _ds(100, qinggan={"accuracy": 0.80, "macro_f1": 0.75}),
        "polarity/gone": _ds(50, qinggan={"accuracy": 0.60, "macro_f1": 0.55}),
    },
    rate=1000.0,
    models={"polarity": 10 * MIB, "emotion": 6 * MIB},
    created="2026-11-21T16:01:43+00:00",
)
NEW = _result(
    {
        "polarity/a": _ds(100, qinggan={"accuracy": 0.83, "macro_f1": 0.70}),
        "polarity/added": _ds(40, qinggan={"accuracy": 0.90, "macro_f1": 0.88}),
    },
    rate=1500.0,
    models={"shared": 12 * MIB},
    created="2026-12-20T10:00:00+00:00",
)


def test_section_shows_old_new_and_signed_difference() -> None:
    lines = _section(OLD, NEW)
    assert lines[0] == TITLE
    assert "2026-11-21T16:01:43+00:00" in lines[2]
    # dataset, system, items, accuracy old/new/diff, macro-F1 old/new/diff
    assert _row(lines, "polarity/a", "qinggan") == [
        "polarity/a",
        "qinggan",
        "100",
        "0.8000",
        "0.8300",
        "+0.0300",
        "0.7500",
        "0.7000",
        "-0.0500",
    ]


def test_dataset_in_only_one_run_shows_dash_for_the_other() -> None:
    lines = _section(OLD, NEW)
    gone = _row(lines, "polarity/gone", "qinggan")
    assert gone[2] == "50 -> -"
    assert gone[3:] == ["0.6000", "-", "-", "0.5500", "-", "-"]
    added = _row(lines, "polarity/added", "qinggan")
    assert added[2] == "- -> 40"
    assert added[3:] == ["-", "0.9000", "-", "-", "0.8800", "-"]


def test_speed_snownlp_ratio_and_size_old_vs_new() -> None:
    lines = _section(OLD, NEW)
    assert _row(lines, "texts/s, short texts", "qinggan")[2:] == ["1,000", "1,500", "+500.0"]
    assert _row(lines, "x snownlp, short texts", "qinggan")[2:] == ["10x", "15x", "+5.00x"]
    assert _row(lines, "us/text, all of one text (short texts, batch)", "qinggan")[2:] == [
        "1,000.0",
        "666.7",
        "-333.3",
    ]
    assert _row(lines, "model files (2 -> 1 files)", "qinggan")[2:] == [
        "16.0 MiB",
        "12.0 MiB",
        "-4.0 MiB",
    ]
    assert _row(lines, "model shared", "qinggan")[2:] == ["-", "12.0 MiB", "-"]
    assert _row(lines, "model polarity", "qinggan")[2:] == ["10.0 MiB", "-", "-"]


def test_no_baseline_no_section(tmp_path: Path) -> None:
    assert report.load_baseline(None) is None
    assert report.load_baseline(tmp_path / "missing.json") is None
    assert _section({**OLD, "systems": {}}, {**NEW, "systems": {}}) == []  # no qinggan anywhere
    # qinggan in one run only: the section stays, the other run's cells are "-"
    lines = _section(OLD, {**NEW, "systems": {}})
    assert lines[0] == TITLE
    assert _row(lines, "polarity/a", "qinggan")[3:6] == ["0.8000", "0.8300", "+0.0300"]


def _section_text(text: str) -> str:
    """The before/after section of a whole report."""
    return text.split(TITLE, 1)[1].split("\n## ", 1)[0]


def _diff_cells(text: str) -> list[str]:
    """Every cell of a `new - old` column in the before/after section."""
    section = _section_text(text)
    out, header = [], None
    for line in section.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= {"-"}:
            out += [c for h, c in zip(header, cells, strict=True) if h == "new - old"]
    return out


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    assert report.DEFAULT_BASELINE.is_file()
    return json.loads(report.DEFAULT_BASELINE.read_text(encoding="utf-8"))


def test_committed_baseline_against_itself_is_all_zero(baseline: dict[str, Any]) -> None:
    text = report.render(baseline, Path("REPORT.md"), {}, None, baseline=baseline)
    assert text.count(TITLE) == 1
    cells = _diff_cells(text)
    assert len(cells) > 100
    assert all(c == "-" or re.fullmatch(r"\+0(\.0+)?(x| MiB)?", c) for c in cells), cells
    # the behavioural suite per capability and per label, both systems
    for ds in ("suite/negation", "suite/label/satiric", "corpora/dialogue_emotion_dev"):
        for s in ("qinggan", "qinggan-fast"):
            assert f"| {ds} | {s} |" in text
    assert report.render(baseline, Path("REPORT.md"), {}, None).count(TITLE) == 0


def test_perturbed_copy_of_the_baseline(baseline: dict[str, Any]) -> None:
    new = copy.deepcopy(baseline)
    neg = new["accuracy"]["suite_polarity"]["datasets"]["suite/negation"]["results"]["qinggan"]
    old_acc = neg["accuracy"]
    neg["accuracy"] = old_acc + 0.1
    del new["accuracy"]["polarity"]["datasets"]["polarity/waimai_10k"]
    text = report.render(new, Path("REPORT.md"), {}, None, baseline=baseline)
    lines = _section_text(text).splitlines()
    cells = _row(lines, "suite/negation", "qinggan")
    assert cells[3:6] == [f"{old_acc:.4f}", f"{old_acc + 0.1:.4f}", "+0.1000"]
    waimai = _row(lines, "polarity/waimai_10k", "qinggan")
    assert waimai[4] == "-" and waimai[5] == "-" and waimai[3] != "-"


def test_cli_baseline_option(tmp_path: Path) -> None:
    def ns(value: str | None) -> argparse.Namespace:
        return argparse.Namespace(baseline=value)

    assert cli.baseline_path(ns(None)) == report.DEFAULT_BASELINE
    assert cli.baseline_path(ns("none")) is None
    other = tmp_path / "old.json"
    other.write_text(json.dumps(OLD), encoding="utf-8")
    assert cli.baseline_path(ns(str(other))) == other.resolve()
    with pytest.raises(SystemExit) as exc:
        cli.baseline_path(ns(str(tmp_path / "missing.json")))
    assert exc.value.code == 2
    for command in ("run", "report"):
        args = cli._parser().parse_args([command, "--baseline", str(other)])
        assert args.baseline == str(other)
