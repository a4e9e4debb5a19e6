"""Each CLI defect a new user hit on a fresh clone (issue 14, part 4), pinned by a test that failed
before its fix: wrong-task models, training mistakes, module-level batch parameters, missing
extras, limits that mean one thing, a busy port, speaker names, broken CSV quotes, evaluation
files of other shapes, giant table rows, empty stdin, and the benchmark run of a clone."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import qinggan
from qinggan.cli.main import app
from qinggan.engine import default_model_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
POLARITY_MODEL = default_model_dir("polarity")
EMOTION_MODEL = default_model_dir("emotion")


def invoke(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin)


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make modules look uninstalled to ``require_extra`` (as on a clone without the extra)."""

    def hide(*modules: str) -> None:
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name in modules else real(name, *a),
        )

    return hide


# -- --model DIR of another task ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "task", "wanted"),
    [
        (["analyze", "--model", str(EMOTION_MODEL), "好"], "emotion", "polarity"),
        (["emotions", "--model", str(POLARITY_MODEL), "好"], "polarity", "emotion"),
        (["evaluate", "polarity", "{pol}", "--model", str(EMOTION_MODEL)], "emotion", "polarity"),
        (["evaluate", "emotion", "{emo}", "--model", str(POLARITY_MODEL)], "polarity", "emotion"),
    ],
)
def test_cli_defect_model_of_another_task_exits_2_naming_its_task(
    tmp_path: Path, args: list[str], task: str, wanted: str
) -> None:
    files = {"{pol}": tmp_path / "pol.jsonl", "{emo}": tmp_path / "emo.jsonl"}
    files["{pol}"].write_text('{"text": "好", "label": "positive"}\n', encoding="utf-8")
    files["{emo}"].write_text('{"text": "好", "label": "happy"}\n', encoding="utf-8")
    result = invoke(*(str(files.get(a, a)) for a in args))
    assert result.exit_code == 2, result.output
    assert f"holds a model for task {task!r}" in result.stderr
    assert f"needs a {wanted!r} model" in result.stderr
    assert result.stdout == ""  # the shipped model did not answer instead


# -- train polarity --data with other labels, or an --output that cannot be written -------------
def test_cli_defect_train_refuses_other_labels_and_unwritable_output(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    emotions = tmp_path / "emotions.csv"
    emotions.write_text("text,label\n真开心,happy\n好生气,anger\n", encoding="utf-8")
    result = invoke("train", "polarity", "--data", str(emotions), "--output", str(tmp_path / "m"))
    assert result.exit_code == 2, result.output
    assert f"{emotions}:2: label 'happy' is not a polarity label" in result.stderr
    assert "qinggan train emotion" in result.stderr
    polarity = tmp_path / "polarity.csv"
    polarity.write_text("text,label\n很好,positive\n很差,negative\n", encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = invoke("train", "polarity", "--data", str(polarity), "--output", str(blocker / "m"))
    assert result.exit_code == 2, result.output
    assert f"cannot write the model to {blocker / 'm'}" in result.stderr
    assert "internal error" not in result.output


# -- module-level functions take what the Analyzer methods take ---------------------------------
def test_cli_defect_module_functions_take_the_method_parameters() -> None:
    answered = qinggan.analyze_batch(["很好", "", "太差了"], errors="report")
    assert isinstance(answered[1], qinggan.ItemError) and answered[1].index == 1
    assert isinstance(answered[0], qinggan.PolarityResult)
    emotions = qinggan.emotions_batch(["", "谢谢"], 8, errors="report")
    assert isinstance(emotions[0], qinggan.ItemError)
    dialogue = qinggan.dialogue_emotion_batch([""], "talk", errors="report")
    assert isinstance(dialogue[0], qinggan.ItemError)


# -- a missing extra exits 2 with the whole install line ----------------------------------------
def test_cli_defect_missing_extras_exit_2_with_the_install_line(
    tmp_path: Path, without: Callable[..., None]
) -> None:
    without("sklearn", "torch", "ray")
    data = tmp_path / "d.csv"
    data.write_text("text,label\n很好,positive\n", encoding="utf-8")
    result = invoke("train", "polarity", "--data", str(data), "--output", str(tmp_path / "m"))
    assert result.exit_code == 2, result.output
    assert "needs the 'train' extra" in result.stderr
    assert "torch==2.13.0" in result.stderr and "download.pytorch.org/whl/cpu" in result.stderr
    assert "pip install 'qinggan[train]'" in result.stderr
    source = tmp_path / "in.csv"
    source.write_text("text\n好\n", encoding="utf-8")
    result = invoke("bulk", str(source), "-o", str(tmp_path / "out.csv"), "--ray")
    assert result.exit_code == 2, result.output
    assert "pip install 'qinggan[distributed]'" in result.stderr


# -- --max-bytes: negatives refused, 0 = no limit (as for quotas and rates) ---------------------
def test_cli_defect_limits_refuse_negatives_and_0_means_unlimited() -> None:
    for command in ("analyze", "emotions", "dialogue"):
        result = invoke(command, "--max-bytes", "-1", "好")
        assert result.exit_code == 2 and "--max-bytes" in result.output, (command, result.output)
    long_text = "这家店的服务非常好" * 200
    result = invoke("analyze", "--json", "--max-bytes", "0", long_text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["label"] == "positive"
    assert invoke("analyze", "--max-bytes", "10", long_text).exit_code == 2
    assert qinggan.Analyzer(max_bytes=0).max_bytes is None
    with pytest.raises(qinggan.ConfigError, match="max_bytes"):
        qinggan.Analyzer(max_bytes=-1)
    result = invoke("apps", "add", "shop", "--daily-quota", "-1")
    assert result.exit_code == 2 and "--daily-quota" in result.output
    help_text = re.sub(r"[│\s]+", " ", invoke("apps", "add", "--help").stdout)
    assert "a new app gets 50,000" in help_text and "a new app gets 50)" in help_text
    assert help_text.count("0 = unlimited") >= 2


# -- serve on a busy port, and ports out of range -----------------------------------------------
@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_cli_defect_serve_checks_the_port_first(busy_port: int, tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = invoke("serve", "--host", "127.0.0.1", "--port", str(busy_port), "--db", db)
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{busy_port}" in result.stderr
    assert "in use" in result.stderr and "serving on" not in result.output
    for port in ("0", "99999"):
        result = invoke("serve", "--port", port)
        assert result.exit_code == 2 and "'--port'" in result.output, result.output
        assert "QINGGAN_PORT" not in result.output


# -- trend: the customer's name as a flag -------------------------------------------------------
def test_cli_defect_trend_names_the_customer_with_a_flag() -> None:
    turns = "买方：货还没送到\n客服：马上查\n买方：都说了好几天了\n买方：都仲裁N次了，没结果\n"
    refused = invoke("trend", "--speakers", stdin=turns)
    assert refused.exit_code == 2
    assert "--customer" in refused.stderr and "customer_speakers" not in refused.stderr
    result = invoke("trend", "--speakers", "--customer", "买方", "--json", stdin=turns)
    assert result.exit_code == 0, result.output
    counted = [t["counted"] for t in json.loads(result.stdout)["turns"]]
    assert counted == [True, False, True, True]


# -- bulk on a CSV with a quote that never closes -----------------------------------------------
BROKEN_CSV = (
    "id,text\n"
    "1,很好吃\n"
    '2,"这里的引号没有闭合\n'
    "3,太难吃了\n"
    '4,"正常的, 带逗号"\n'
    '5,"合法的\n跨行文本"\n'
    "6,还不错\n"
)


def test_cli_defect_csv_quote_that_never_closes_is_one_bad_line(tmp_path: Path) -> None:
    from qinggan.bulk.formats import CsvLayout
    from qinggan.bulk.tasks import parse_tasks

    source = tmp_path / "broken.csv"
    source.write_text(BROKEN_CSV, encoding="utf-8")
    layout = CsvLayout.open(source, "text", parse_tasks("polarity"), ",")
    rows = [row for chunk in layout.chunks(2) for row in chunk.payload]
    texts, problems = layout.extract(rows)
    assert [row[0] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert texts == ["很好吃", None, "太难吃了", "正常的, 带逗号", "合法的\n跨行文本", "还不错"]
    assert problems[1] is not None and "line 3" in problems[1] and "quote" in problems[1]
    assert [p for i, p in enumerate(problems) if i != 1] == [None] * 5


def test_cli_defect_bulk_keeps_the_rows_after_a_broken_quote(tmp_path: Path) -> None:
    source = tmp_path / "broken.csv"
    source.write_text(BROKEN_CSV, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = invoke("bulk", str(source), "-o", str(out), "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 6 and summary["rows_failed"] == 1
    assert any("line 3" in error for error in summary["first_errors"])
    with out.open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [row["id"] for row in written] == ["1", "2", "3", "4", "5", "6"]
    assert written[2]["polarity"] == "negative" and written[5]["polarity"] == "positive"


# -- evaluate: satiric rows for 7 classes, 0/1 labels, other column names -----------------------
def test_cli_defect_evaluate_emotion_7_says_it_left_satiric_out(tmp_path: Path) -> None:
    rows = [
        ("气死我了，一直没人管", "anger"),
        ("谢谢，收到了很开心", "happy"),
        ("真是太棒了，等了一个月才发货", "satiric"),
        ("你们效率可真高啊，一周都没人回", "satiric"),
    ]
    lines = [json.dumps({"text": t, "label": lab}, ensure_ascii=False) for t, lab in rows]
    file = tmp_path / "cs.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("evaluate", "emotion", str(file), "--classes", "7", "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 2 and metrics["skipped_satiric"] == 2
    assert "satiric" not in metrics["labels"]
    assert "2 row(s) labelled satiric left out" in result.stderr and "--classes 8" in result.stderr
    eight = json.loads(invoke("evaluate", "emotion", str(file), "--classes", "8", "--json").stdout)
    assert eight["n"] == 4 and "skipped_satiric" not in eight


def test_cli_defect_evaluate_reads_0_1_labels_and_named_columns(tmp_path: Path) -> None:
    file = tmp_path / "reviews.csv"
    file.write_text(
        "review,y\n房间很干净，服务也周到,1\n太差了，再也不来了,0\n非常满意，下次还会再来,1\n",
        encoding="utf-8",
    )
    args = ["evaluate", "polarity", str(file), "--json"]
    result = invoke(*args, "--text-column", "review", "--label-column", "y")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 3 and metrics["accuracy"] == 1.0
    assert set(metrics["labels"]) == {"negative", "positive"}
    missing = invoke(*args)
    assert missing.exit_code == 2 and "--text-column" in missing.stderr


# -- tables cut long texts; empty stdin says there was nothing ----------------------------------
def test_cli_defect_tables_cut_long_texts_and_empty_stdin_is_named() -> None:
    huge = "服务很好，" * 20_000  # 100 KB
    result = invoke("analyze", huge)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) < 200
    assert "…" in result.stdout
    whole = invoke("analyze", "--json", huge)
    assert json.loads(whole.stdout)["text"] == huge
    for stdin in ("", "\n  \n\n"):
        empty = invoke("analyze", stdin=stdin)
        assert empty.exit_code == 2 and "nothing to analyse" in empty.stderr


# -- python -m benchmarks run: a clear message, and the committed report left alone ------------
def test_cli_defect_benchmarks_run_names_the_data_and_writes_a_scratch_folder(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--data-dir", str(tmp_path / "no-data")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no benchmark data at" in proc.stderr and "--data-dir" in proc.stderr
    assert "Traceback" not in proc.stderr
    from benchmarks import cli

    parser = cli._parser()
    out, report = cli.output_paths(parser.parse_args(["run"]))
    assert cli.SCRATCH_DIR in out.parents and report.parent == out.parent
    assert report != cli.DEFAULT_REPORT.resolve() and out != cli.DEFAULT_OUT.resolve()
    out, report = cli.output_paths(parser.parse_args(["run", "--update-report"]))
    assert (out, report) == (cli.DEFAULT_OUT, cli.DEFAULT_REPORT)


# -- train --config over your own copy of the public corpora ------------------------------------
def test_cli_train_config_reads_the_public_corpora_under_data_root(tmp_path: Path) -> None:
    from qinggan.cli.train import TASK_LABELS, rebase
    from qinggan.training.recipe import load_recipe

    recipe = load_recipe(REPO_ROOT / "configs" / "polarity.toml", TASK_LABELS["polarity"])
    moved = rebase(recipe, tmp_path)
    public = [s.path for s in moved.sources if recipe.data_root in [*s.path.parents]]
    assert not public  # nothing is read from the recipe's own data_root any more
    corpus = next(s.path for s in moved.sources if "chnsenticorp" in str(s.path))
    assert corpus == tmp_path / "polarity" / "chnsenticorp" / corpus.name
    own = [s.path for s in moved.sources if "corpora" in s.path.parts]
    assert own and all(REPO_ROOT in p.parents for p in own)  # our corpora/ stay in the checkout
    assert set(moved.dev) == set(recipe.dev)
    result = invoke(
        "train", "polarity", "--config", str(REPO_ROOT / "configs" / "polarity.toml"),
        "--data-root", str(tmp_path / "missing"), "--output", str(tmp_path / "m"),
    )  # fmt: skip
    assert result.exit_code == 2 and "is not a folder" in result.stderr, result.output
    result = invoke("train", "polarity", "--data-root", str(tmp_path), "--output", "m")
    assert result.exit_code == 2 and "--config" in result.stderr
