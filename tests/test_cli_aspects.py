"""`qinggan aspects` and `qinggan evaluate aspects|aspect-polarity`, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli

TWO_SIDED = "菜很好吃，但是服务太慢了"
NO_OPINION = "请问几点开门"


def test_cli_aspects_json_lines_equal_the_library(analyzer: Any) -> None:
    proc = run_cli("aspects", "--json", stdin=f"{TWO_SIDED}\n\n{NO_OPINION}\n".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert rows == [analyzer.aspects(TWO_SIDED).to_dict(), analyzer.aspects(NO_OPINION).to_dict()]
    first = rows[0]
    assert len(first["opinions"]) >= 2
    for o in first["opinions"]:
        s, e = o["opinion_span"]
        assert TWO_SIDED[s:e] == o["opinion"] and o["polarity"] in {
            "positive",
            "negative",
            "neutral",
        }
        if o["aspect_span"] is not None:
            s, e = o["aspect_span"]
            assert TWO_SIDED[s:e] == o["aspect"]
    assert {"positive", "negative"} <= {o["polarity"] for o in first["opinions"]}


def test_cli_aspects_table_lists_every_opinion(analyzer: Any) -> None:
    proc = run_cli("aspects", TWO_SIDED, NO_OPINION)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    for column in ("aspect", "opinion", "polarity", "category"):
        assert column in out
    assert TWO_SIDED in out and NO_OPINION in out
    for o in analyzer.aspects(TWO_SIDED).opinions:
        assert o.opinion in out and o.polarity.value in out


def test_cli_aspects_bad_input_exits_2_and_answers_the_rest() -> None:
    stdin = f"{TWO_SIDED}\n".encode() + b"\xff\xfe broken\n"
    proc = run_cli("aspects", "--json", stdin=stdin)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "line 2" in err and "UTF-8" in err and "Traceback" not in err
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert rows[0]["text"] == TWO_SIDED and rows[1] == {
        "line": 2,
        "error": "line is not valid UTF-8",
    }
    proc = run_cli("aspects", "--max-bytes", "10", "这句话显然超过了十个字节")
    assert proc.returncode == 2 and "limit is 10 bytes" in proc.stderr.decode()


def test_cli_evaluate_aspects_prints_span_f1(analyzer: Any) -> None:
    from qinggan.training.aspects_eval import evaluate_aspects

    path = FIXTURES / "aste_tiny.jsonl"
    proc = run_cli("evaluate", "aspects", str(path), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    metrics = json.loads(proc.stdout)
    assert metrics == pytest.approx(evaluate_aspects(path, analyzer))
    assert metrics["n"] == 6
    for key in ("triplet_f1", "aspect_f1", "opinion_f1", "pair_f1"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["aspect_f1"] > 0  # 菜 / 服务 / 房间 ... are not hard
    table = run_cli("evaluate", "aspects", str(path))
    assert table.returncode == 0, table.stderr.decode()
    out = table.stdout.decode()
    assert "n=6" in out and "triplets" in out and f"{metrics['triplet_f1']:.4f}" in out


def test_cli_evaluate_aspect_polarity_prints_accuracy(analyzer: Any) -> None:
    path = FIXTURES / "apc_tiny.jsonl"
    proc = run_cli("evaluate", "aspect-polarity", str(path), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    metrics = json.loads(proc.stdout)
    assert metrics["n"] == 7  # aspects, not sentences
    assert 0.0 <= metrics["macro_f1"] <= 1.0 and metrics["accuracy"] >= 4 / 7
    table = run_cli("evaluate", "aspect-polarity", str(path))
    assert table.returncode == 0 and "accuracy=" in table.stdout.decode()


@pytest.mark.parametrize(
    ("task", "line", "message"),
    [
        ("aspects", '{"text": "好吃", "triplets": [{"opinion_span": [0, 9]}]}', "opinion_span"),
        ("aspects", '{"text": "好吃"}', "'triplets' must be a list"),
        ("aspect-polarity", '{"text": "好吃", "aspects": []}', "'aspects' must be"),
        ("aspect-polarity", "not json", "bad.jsonl:1: not valid JSON"),
    ],
)
def test_cli_evaluate_aspects_names_the_bad_line(
    tmp_path: Path, task: str, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", "utf-8")
    proc = run_cli("evaluate", task, str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert message in err and "Traceback" not in err
