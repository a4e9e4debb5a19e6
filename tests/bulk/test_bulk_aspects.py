"""``qinggan bulk --tasks aspects``: one output row per input row, the opinions as a JSON column,
the same in worker processes as in one, and ``qinggan report aspects`` over that output gives the
report of the texts themselves (the Ray runner's test is in test_bulk_ray.py, which starts Ray
once for the module)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

from qinggan.bulk import BulkJob, parse_tasks, run_local
from qinggan.reports import aspect_report, report_from_results

TEXTS = [
    "菜很好吃，但是服务太慢了",
    "房间很干净，就是价格有点贵",
    "请问几点开门",
    "",  # empty: kept, with the reason in `error`
    "服务员态度很好，上菜也快",
    "环境一般，味道还可以",
    "屏幕很清晰，电池不耐用",
    "物流很快，包装也不错",
]


def _write_jsonl(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(TEXTS, start=1):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    return path


def _write_csv(path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "text"])
        writer.writerows([i, text] for i, text in enumerate(TEXTS, start=1))
    return path


def _expected(analyzer: Any, text: str) -> list[dict[str, Any]]:
    return [o.to_dict() for o in analyzer.aspects(text).opinions]


def test_bulk_aspects_jsonl_one_row_per_row_in_processes(tmp_path: Path, analyzer: Any) -> None:
    src, out = _write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    summary = run_local(BulkJob(src, out, parse_tasks("aspects"), chunk_size=3, workers=2))
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(range(1, len(TEXTS) + 1))
    opinions = 0
    for row, text in zip(rows, TEXTS, strict=True):
        if not text:
            assert "empty" in row["error"] and row["aspects"] is None
            continue
        assert row["error"] is None
        assert json.loads(row["aspects"]) == _expected(analyzer, text)
        assert row["aspects_count"] == len(_expected(analyzer, text))
        opinions += row["aspects_count"]
    assert rows[0]["aspects_count"] >= 2
    assert (summary["rows"], summary["rows_failed"]) == (len(TEXTS), 1)
    assert sum(summary["labels"]["aspects"].values()) == opinions  # polarity of every opinion


def test_bulk_aspects_csv_beside_polarity_then_report(tmp_path: Path, analyzer: Any) -> None:
    src, out = _write_csv(tmp_path / "in.csv"), tmp_path / "out.csv"
    run_local(BulkJob(src, out, parse_tasks("polarity,aspects"), chunk_size=3))
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-4:] == ["polarity_neutral", "aspects", "aspects_count", "error"]
    assert len(rows) == len(TEXTS)
    assert json.loads(rows[0]["aspects"]) == _expected(analyzer, TEXTS[0])
    assert rows[3]["aspects"] == "" and "empty" in rows[3]["error"]
    # the corpus view of the bulk output is the view of the texts themselves
    from_bulk = aspect_report(out)
    assert from_bulk["source"] == "bulk"
    texts = [t for t in TEXTS if t]
    expected = report_from_results(analyzer.aspects_batch(texts))
    same = ("opinions", "polarity", "categories", "aspects", "texts_with_opinions", "implicit")
    assert {k: from_bulk[k] for k in same} == {k: expected[k] for k in same}
    assert (from_bulk["rows"], from_bulk["rows_failed"]) == (len(TEXTS), 1)


def test_cli_bulk_task_aspects_alias(tmp_path: Path) -> None:
    src, out = _write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    proc = run_cli("bulk", str(src), "-o", str(out), "--task", "aspects", "--workers", "1")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "aspects:" in proc.stderr.decode()  # the summary counts the opinions by polarity
    assert len(out.read_text("utf-8").splitlines()) == len(TEXTS)
    bad = run_cli("bulk", str(src), "-o", str(out), "--tasks", "aspect")
    assert bad.returncode == 2 and "aspects" in bad.stderr.decode()
