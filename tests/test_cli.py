from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def test_cli_analyze_prints_a_table_for_arguments() -> None:
    proc = run_cli("analyze", "房间很干净，服务也周到", "太差了，再也不来了")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "positive" in out and "negative" in out and "房间很干净" in out


def test_cli_analyze_json_lines_from_stdin() -> None:
    proc = run_cli("analyze", "--json", stdin="很好吃\n\n难吃死了\n".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in rows)


def test_cli_analyze_reports_bad_lines_by_number_and_answers_the_rest() -> None:
    stdin = "很好吃\n".encode() + b"\xff\xfe broken\n" + "难吃死了\n".encode()
    proc = run_cli("analyze", "--json", stdin=stdin)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "line 2" in err and "UTF-8" in err and "Traceback" not in err
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r.get("label") for r in rows] == ["positive", None, "negative"]
    assert rows[1] == {"line": 2, "error": "line is not valid UTF-8"}


def test_cli_analyze_refuses_over_long_text_with_exit_2() -> None:
    proc = run_cli("analyze", "--max-bytes", "10", "这句话显然超过了十个字节")
    assert proc.returncode == 2
    assert "limit is 10 bytes" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()


def test_cli_evaluate_polarity_json_on_a_binary_file(fixtures: Path) -> None:
    proc = run_cli("evaluate", "polarity", str(fixtures / "polarity_tiny.jsonl"), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    metrics = json.loads(proc.stdout)
    assert metrics["n"] == 8 and metrics["protocol"] == "binary"
    assert metrics["accuracy"] >= 0.75 and 0 <= metrics["neutral_rate"] <= 1
    assert {"macro_f1", "f1_positive", "precision_negative", "confusion"} <= set(metrics)


def test_cli_evaluate_polarity_table_on_a_three_class_file(fixtures: Path) -> None:
    proc = run_cli("evaluate", "polarity", str(fixtures / "polarity3_tiny.jsonl"))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "protocol=three-class" in out and "confusion" in out and "neutral" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"text": "ok", "label": "positive"}\n{"text": "x", "label": "great"}\n',
            "2: unknown label 'great'",
        ),
        (b'{"text": "ok", "label": "positive"}\nnot json\n', "2: not valid JSON"),
        (b'{"text": "", "label": "positive"}\n', "1: 'text' must be a non-empty string"),
        (b'{"text": "ok", "label": "positive"}\n\xff\n', "2: line is not valid UTF-8"),
    ],
)
def test_cli_evaluate_names_the_bad_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    proc = run_cli("evaluate", "polarity", str(path))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert message in err and "Traceback" not in err


def test_cli_train_on_own_data_then_analyze_with_it(tmp_path: Path, fixtures: Path) -> None:
    pytest.importorskip("sklearn")
    data = tmp_path / "mine.csv"
    rows = ["text,label"]
    for i in range(30):
        rows.append(f"这个产品太棒了{i},positive")
        rows.append(f"这个产品太烂了{i},negative")
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    proc = run_cli("train", "polarity", "--data", str(data), "--output", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["task"] == "polarity" and "mine" in meta["metrics"]
    assert (out / "MODEL_CARD.md").is_file()
    proc = run_cli("analyze", "--json", "--model", str(out), "太棒了", "太烂了")
    assert proc.returncode == 0, proc.stderr.decode()
    labels = [json.loads(line)["label"] for line in proc.stdout.decode().splitlines()]
    assert labels == ["positive", "negative"]


def test_cli_train_needs_config_or_data(tmp_path: Path) -> None:
    proc = run_cli("train", "polarity", "--output", str(tmp_path / "m"))
    assert proc.returncode == 2 and "--config" in proc.stderr.decode()


def test_cli_version_and_module_entry_point() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.decode().startswith("qinggan ")


def test_cli_emotions_json_with_intensity() -> None:
    proc = run_cli("emotions", "--json", "--classes", "8", "气死我了！！！我要投诉！", "谢谢你们")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert rows[0]["label"] == "anger" and len(rows[0]["intensity"]) == 4
    assert rows[1]["label"] == "happy" and rows[1]["intensity"] == []
    assert len(rows[0]["probabilities"]) == 8


def test_cli_dialogue_table_and_unknown_scene() -> None:
    proc = run_cli("dialogue", "--scene", "customer_service", "太感谢了，辛苦了")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "thankful" in proc.stdout.decode()
    proc = run_cli("dialogue", "--scene", "chat", "好")
    assert proc.returncode == 2 and "expected one of" in proc.stderr.decode()


def test_cli_trend_reads_speakers_from_stdin() -> None:
    turns = [
        "客户：货还没送到",
        "客服：马上帮您查",
        "客户：都说了好几天了",
        "客户：到底什么时候能送到",
        "客户：都仲裁N次了，没结果",
    ]
    stdin = "\n".join(turns).encode()
    proc = run_cli("trend", "--speakers", "--json", stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["label"] == "turn_bad"
    assert [t["counted"] for t in result["turns"]] == [True, False, True, True, True]


@pytest.mark.parametrize(
    ("task", "fixture", "extra"),
    [
        ("emotion", "emotion_tiny.jsonl", ["--classes", "8"]),
        ("dialogue-emotion", "dialogue_tiny.jsonl", []),
        ("trend", "trend_tiny.jsonl", []),
    ],
)
def test_cli_evaluate_each_task_prints_json_metrics(
    fixtures: Path, task: str, fixture: str, extra: list[str]
) -> None:
    proc = run_cli("evaluate", task, str(fixtures / fixture), "--json", *extra)
    assert proc.returncode == 0, proc.stderr.decode()
    metrics = json.loads(proc.stdout)
    assert (
        metrics["n"] > 0 and 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["macro_f1"] <= 1.0
    )
    assert metrics["accuracy"] >= 0.5
    if task == "dialogue-emotion":
        assert (
            metrics["level2_n"] == 3
            and "level2_accuracy" in metrics
            and "level2_macro_f1" in metrics
        )


def test_cli_evaluate_emotion_rejects_unknown_labels(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"text": "好", "label": "joy"}\n', encoding="utf-8")
    proc = run_cli("evaluate", "emotion", str(path))
    assert proc.returncode == 2 and "1: unknown label 'joy'" in proc.stderr.decode()


def test_cli_an_internal_bug_exits_70_with_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import qinggan.engine
    from qinggan.cli.main import run

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the engine")

    monkeypatch.setattr(qinggan.engine.Analyzer, "analyze_batch", broken)
    monkeypatch.setattr("sys.argv", ["qinggan", "analyze", "很好"])
    monkeypatch.delenv("QINGGAN_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug in the engine" in err
    assert "Traceback" not in err and "QINGGAN_DEBUG=1" in err
    monkeypatch.setenv("QINGGAN_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug in the engine"):
        run()
