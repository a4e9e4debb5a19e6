"""The local bulk runner: formats, order, bad rows, processes, resume, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinggan.bulk import BulkJob, parse_tasks, run_local
from qinggan.bulk.sidecar import sidecar_dir
from qinggan.cli.main import app

FORMATS = ["csv", "tsv", "jsonl", "parquet"]
ORIGINAL = ["id", "text", "score"]


def _job(src: Path, dst: Path, layout: dict[str, int], **kw: object) -> BulkJob:
    plan = parse_tasks(kw.pop("tasks", "polarity,emotion7"))  # type: ignore[arg-type]
    return BulkJob(src, dst, plan, chunk_size=layout["chunk"], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bulk_formats_round_trip_keep_every_row_in_order(
    fmt: str, make_input, read_rows, layout, tmp_path: Path
) -> None:
    src = make_input(fmt)
    dst = tmp_path / f"out.{fmt}"
    summary = run_local(_job(src, dst, layout))
    before, after = read_rows(src), read_rows(dst)
    assert len(after) == len(before) == layout["rows"] == summary["rows"]
    for i, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        kept = {k: v for k, v in old.items() if v is not None}  # a short CSV row gets padded
        assert {k: new[k] for k in kept} == kept  # original fields unchanged, same order
        bad = i in (layout["empty"], layout["missing"])
        assert bool(new["error"]) is bad, (i, new["error"])
        assert bool(new["polarity"]) is not bad
        if not bad:
            assert new["polarity"] in ("positive", "negative", "neutral")
            assert new["emotion7"]
            assert (
                abs(
                    sum(float(new[f"polarity_{k}"]) for k in ("positive", "negative", "neutral"))
                    - 1
                )
                < 1e-4
            )
    assert summary["rows_failed"] == 2
    assert sum(summary["labels"]["polarity"].values()) == layout["rows"] - 2
    assert not sidecar_dir(dst).exists()


def test_bulk_bad_rows_are_reported_never_dropped(tmp_path: Path, read_rows) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(
        b"id,text\n"
        b"1,\xe5\xa5\xbd\xe8\xaf\x84\n"  # 好评
        b"2,\n"  # empty text
        b"3\n"  # no text field
        b"4,\xff\xfe bad bytes\n"  # not UTF-8
        b'5,"quoted, with comma",extra\n'  # more fields than the header
        b"6,\xe5\xa4\xaa\xe5\xb7\xae\xe4\xba\x86\n"  # 太差了
    )
    dst = tmp_path / "bad_out.csv"
    run_local(BulkJob(src, dst, parse_tasks("polarity"), chunk_size=2))
    raw = dst.read_bytes()
    assert b"\xff\xfe bad bytes" in raw  # the bad bytes are carried through untouched
    rows = read_rows_bytes(dst)
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    errors = [r[-1] for r in rows]
    assert errors[0] == "" and errors[5] == ""
    assert "empty" in errors[1]
    assert "no 'text'" in errors[2]
    assert "UTF-8" in errors[3] or "surrogate" in errors[3]
    assert "fields" in errors[4]

    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(
        b'{"text": "\xe5\xa5\xbd\xe8\xaf\x84"}\n'
        b"not json\n"
        b'{"body": "no text field"}\n'
        b'{"text": "\xff bad"}\n'
        b"[1, 2]\n"
        b'{"text": 42}\n'
    )
    out = tmp_path / "bad_out.jsonl"
    run_local(BulkJob(jsonl, out, parse_tasks("polarity"), chunk_size=4))
    got = read_rows(out)
    assert len(got) == 6
    assert got[0]["error"] is None and got[0]["polarity"]
    assert "JSON" in got[1]["error"]
    assert "no 'text'" in got[2]["error"] and got[2]["body"] == "no text field"
    assert "UTF-8" in got[3]["error"]
    assert "object" in got[4]["error"]
    assert "string" in got[5]["error"] and got[5]["text"] == 42


def read_rows_bytes(path: Path) -> list[list[str]]:
    import csv

    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return list(csv.reader(f))[1:]


def test_bulk_processes_give_the_same_output_as_one(make_input, layout, tmp_path: Path) -> None:
    src = make_input("csv")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    run_local(_job(src, one, layout, tasks="polarity,emotion8,dialogue"))
    summary = run_local(_job(src, two, layout, tasks="polarity,emotion8,dialogue", workers=2))
    assert summary["workers"] == 2
    assert one.read_bytes() == two.read_bytes()


def test_bulk_refuses_a_missing_column_and_clashing_names(make_input, layout, tmp_path: Path):
    from qinggan.errors import ConfigError

    src = make_input("csv")
    with pytest.raises(ConfigError, match="'body' is not in the header"):
        run_local(BulkJob(src, tmp_path / "o.csv", parse_tasks("polarity"), column="body"))
    done = tmp_path / "done.csv"
    run_local(_job(src, done, layout))
    with pytest.raises(ConfigError, match="already has column"):
        run_local(_job(done, tmp_path / "again.csv", layout))
    with pytest.raises(ConfigError, match=r"input's format"):
        run_local(_job(src, tmp_path / "o.jsonl", layout))


_SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    import qinggan.bulk.local as local
    from qinggan.cli.main import app

    original = local._process

    def slow(chunk):
        time.sleep(0.25)
        return original(chunk)

    local._process = slow
    sys.argv = ["qinggan", *sys.argv[1:]]
    app()
    """
)


def _cli(*args: str, stdin_script: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = (
        [sys.executable, "-c", stdin_script, *args]
        if stdin_script
        else [sys.executable, "-m", "qinggan", *args]
    )
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bulk_resume_after_a_killed_run_writes_the_same_bytes(
    fmt: str, make_input, layout, tmp_path: Path
) -> None:
    src = make_input(fmt)
    chunk = str(layout["chunk"] // 2)  # 12 chunks
    whole, resumed = tmp_path / f"whole.{fmt}", tmp_path / f"resumed.{fmt}"
    common = ["bulk", str(src), "--tasks", "polarity,emotion7", "--chunk-size", chunk]
    run_local(BulkJob(src, whole, parse_tasks("polarity,emotion7"), chunk_size=int(chunk)))

    victim = _cli(*common, "-o", str(resumed), "--workers", "1", stdin_script=_SLOW_RUN)
    side = sidecar_dir(resumed)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        if len([p for p in side.glob("*.json") if p.name != "manifest.json"]) >= 3:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "the run ended before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert not resumed.exists() and side.is_dir()
    finished = len([p for p in side.glob("*.json") if p.name != "manifest.json"])

    done = _cli(*common, "-o", str(resumed), "--workers", "2", "--resume", "--json")
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["chunks_resumed"] >= finished >= 3
    assert summary["rows_this_run"] < summary["rows"] == layout["rows"]
    assert resumed.read_bytes() == whole.read_bytes()
    assert not side.exists()


def test_bulk_resume_refuses_other_options(make_input, layout, tmp_path: Path) -> None:
    from qinggan.bulk.sidecar import Sidecar, fingerprint
    from qinggan.errors import ConfigError

    src = make_input("csv")
    dst = tmp_path / "out.csv"
    Sidecar(dst).start(fingerprint(src, {"chunk_size": 1}), resume=False)
    with pytest.raises(ConfigError, match=r"cannot resume.*chunk_size"):
        run_local(_job(src, dst, layout, resume=True))


def test_bulk_cli_summary_plot_and_quiet_when_piped(make_input, tmp_path: Path) -> None:
    src = make_input("jsonl")
    dst, summary, plot = tmp_path / "o.jsonl", tmp_path / "s.json", tmp_path / "p.png"
    args = ["bulk", str(src), "-o", str(dst), "--tasks", "polarity,dialogue", "--workers", "1"]
    args += ["--summary", str(summary)]
    if _has("matplotlib"):
        args += ["--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["rows"] == 240 and data["rows_failed"] == 2
    assert set(data["labels"]) == {"polarity", "dialogue_level1", "dialogue_level2"}
    assert abs(sum(data["mean_probabilities"]["polarity"].values()) - 1) < 1e-3
    assert data["rows_per_second"] > 0
    assert "rows/s" in result.output and "\r" not in result.output  # a summary, no bar
    if _has("matplotlib"):
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_bulk_cli_missing_extra_prints_the_pip_line(monkeypatch, make_input, tmp_path: Path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    src = make_input("csv")
    result = CliRunner().invoke(app, ["bulk", str(src), "-o", str(tmp_path / "o.csv"), "--ray"])
    assert result.exit_code == 2
    assert "needs the 'distributed' extra" in result.output
    assert "pip install 'qinggan[distributed]'" in result.output


def test_bulk_cli_bad_options_exit_2(make_input, tmp_path: Path) -> None:
    src = make_input("csv")
    result = CliRunner().invoke(
        app, ["bulk", str(src), "-o", str(tmp_path / "o.csv"), "--tasks", "mood"]
    )
    assert result.exit_code == 2
    assert "unknown task 'mood'" in result.output


def test_bulk_import_pulls_in_neither_pyarrow_nor_ray() -> None:
    code = (
        "import sys, qinggan, qinggan.bulk, qinggan.cli.main\n"
        "heavy = [m for m in ('pyarrow', 'ray') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
