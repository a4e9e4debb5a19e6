"""Small files for the bulk tests: a few hundred rows, some of them bad on purpose."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

REVIEWS = [
    "房间很干净，服务也周到",
    "非常满意，下次还会再来",
    "质量很好，物流也快，好评",
    "太差了，再也不来了",
    "服务态度恶劣，房间又脏又吵",
    "质量太差，用了两天就坏了",
    "请问怎么修改收货地址",
    "明天几点开门营业",
    "客服一直不回复，气死我了！！！",
    "等了三天还没发货，到底什么时候能到？",
    "菜的味道一般，价格偏贵，不过环境还可以",
    "书的印刷很清楚，内容也很有意思，推荐",
]
ROWS = 240  # a few hundred rows, several chunks of CHUNK
CHUNK = 40
EMPTY_ROW = 7  # 1-based data rows that are bad in every format
MISSING_ROW = 19


def review(i: int) -> str:
    return f"{REVIEWS[i % len(REVIEWS)]}（第{i}条）"


def records() -> list[dict[str, object]]:
    """Rows with an id, the text and a score; row EMPTY_ROW has an empty text."""
    out: list[dict[str, object]] = []
    for i in range(1, ROWS + 1):
        text = "" if i == EMPTY_ROW else review(i)
        out.append({"id": i, "text": text, "score": round(i * 0.5, 1)})
    return out


def write_csv(path: Path, delimiter: str = ",") -> Path:
    """CSV/TSV; row MISSING_ROW has only its id (no text field)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["id", "text", "score"])
        for r in records():
            writer.writerow([r["id"]] if r["id"] == MISSING_ROW else list(r.values()))
    return path


def write_jsonl(path: Path) -> Path:
    """JSONL; row MISSING_ROW has no "text" field."""
    with open(path, "w", encoding="utf-8") as f:
        for r in records():
            if r["id"] == MISSING_ROW:
                r = {"id": r["id"], "score": r["score"]}
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def write_parquet(path: Path) -> Path:
    """Parquet; row MISSING_ROW has a null text."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = records()
    for r in rows:
        if r["id"] == MISSING_ROW:
            r["text"] = None
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, path, row_group_size=100)
    return path


WRITERS = {
    "csv": lambda p: write_csv(p),
    "tsv": lambda p: write_csv(p, "\t"),
    "jsonl": write_jsonl,
    "parquet": write_parquet,
}


@pytest.fixture
def make_input(tmp_path: Path):
    def make(fmt: str, name: str = "in") -> Path:
        return WRITERS[fmt](tmp_path / f"{name}.{fmt}")

    return make


def _read_rows(path: Path) -> list[dict[str, object]]:
    """Any bulk file as a list of dicts (CSV/TSV values are strings, "" for empty)."""
    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ","))
    if suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    pq = pytest.importorskip("pyarrow.parquet")
    return pq.read_table(path).to_pylist()


@pytest.fixture
def read_rows():
    return _read_rows


@pytest.fixture
def layout() -> dict[str, int]:
    """Where the test files are bad, how many rows they have, the chunk size to use."""
    return {"rows": ROWS, "chunk": CHUNK, "empty": EMPTY_ROW, "missing": MISSING_ROW}
