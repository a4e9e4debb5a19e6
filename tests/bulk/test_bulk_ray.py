"""The Ray path gives the same labels as the local path on the same Parquet file."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from qinggan.bulk import BulkJob, parse_tasks, run_local, run_ray

if importlib.util.find_spec("ray") is None and os.environ.get("CI") != "true":
    pytest.skip("ray is missing: pip install 'qinggan[distributed]'", allow_module_level=True)


# Ray's own deprecation warnings, raised inside ray (e.g. ray.data.context), not by our code
pytestmark = [
    pytest.mark.filterwarnings(r"ignore::DeprecationWarning:ray\..*"),
    pytest.mark.filterwarnings(r"ignore::FutureWarning:ray\..*"),
]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    yield ray
    ray.shutdown()


def test_bulk_ray_same_labels_as_local(local_ray, make_input, read_rows, layout, tmp_path: Path):
    src = make_input("parquet")
    plan = parse_tasks("polarity,emotion7")
    local_out, ray_out = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    run_local(BulkJob(src, local_out, plan, chunk_size=layout["chunk"]))
    job = BulkJob(src, ray_out, plan, chunk_size=layout["chunk"], workers=2)
    # small blocks, as a large file gets: the rows are spread over both actors and come back
    # in order
    summary = run_ray(job, block_bytes=2048)
    assert summary["chunks"] > 2
    local_rows, ray_rows = read_rows(local_out), read_rows(ray_out)
    assert len(ray_rows) == len(local_rows) == layout["rows"] == summary["rows"]
    assert [r["id"] for r in ray_rows] == [r["id"] for r in local_rows]  # order kept
    for name in ("polarity", "emotion7", "emotion7_intensity"):
        assert [r[name] for r in ray_rows] == [r[name] for r in local_rows], name
    assert [bool(r["error"]) for r in ray_rows] == [bool(r["error"]) for r in local_rows]
    assert summary["runner"] == "ray" and summary["rows_failed"] == 2


def test_bulk_ray_aspects_same_as_local(local_ray, tmp_path: Path) -> None:
    """``--tasks aspects`` on Ray: the same JSON opinions as the local runner, and the corpus
    report reads the Ray output as it reads the local one."""
    from tests.bulk.test_bulk_aspects import TEXTS

    from qinggan.reports import aspect_report

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                for i, t in enumerate(TEXTS, start=1)),
        "utf-8",
    )  # fmt: skip
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    plan = parse_tasks("aspects")
    local_summary = run_local(BulkJob(src, local, plan, chunk_size=3))
    summary = run_ray(BulkJob(src, on_ray, plan, chunk_size=3, workers=2), block_bytes=256)
    local_rows = [json.loads(line) for line in local.read_text("utf-8").splitlines()]
    ray_rows = [json.loads(line) for line in on_ray.read_text("utf-8").splitlines()]
    assert [r["id"] for r in ray_rows] == [r["id"] for r in local_rows]
    for name in ("aspects", "aspects_count", "error"):
        assert [r[name] for r in ray_rows] == [r[name] for r in local_rows], name
    assert summary["runner"] == "ray" and summary["rows_failed"] == 1
    assert summary["labels"]["aspects"] == local_summary["labels"]["aspects"]
    report = aspect_report(on_ray)
    assert report["source"] == "bulk" and report["opinions"] > 0
    assert report == {**aspect_report(local), "input": str(on_ray)}
