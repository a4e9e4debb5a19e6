"""`qinggan evaluate TASK FILE`: accuracy, macro-F1, per-class P/R/F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qinggan.cli.common import fail, print_json, stdout
from qinggan.engine import Analyzer, load
from qinggan.errors import QingganError
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS
from qinggan.training import evaluate as scoring
from qinggan.training.corpora import read_labelled

app = typer.Typer(help="Score a model on a labelled JSONL/CSV file.", no_args_is_help=True)

FileArg = Annotated[
    Path, typer.Argument(help="The labelled file (JSONL; CSV/TSV for text+label tasks).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ModelOpt = Annotated[
    Path | None, typer.Option(help="A model directory of yours (from `qinggan train`).")
]


def _run(score: Callable[[], dict[str, Any]], json_output: bool) -> None:
    try:
        metrics = score()
    except QingganError as exc:
        fail(str(exc))
    if metrics["n"] == 0:
        fail("the file holds no labelled rows")
    if json_output:
        print_json(metrics)
        return
    print_report(metrics)
    if "level2_n" in metrics:
        stdout.print("\n[bold]level 2[/] (items with a level-2 label)")
        print_report(
            {k.removeprefix("level2_"): v for k, v in metrics.items() if k.startswith("level2_")}
        )


def _analyzer(model: Path | None) -> Analyzer:
    return load(model) if model is not None else Analyzer()


@app.command("polarity")
def evaluate_polarity_cli(
    file: FileArg, json_output: JsonOpt = False, model: ModelOpt = None
) -> None:
    """Polarity: binary protocol for positive/negative files, three classes when neutral occurs."""
    allowed = {label.value for label in POLARITY_LABELS}
    _run(
        lambda: scoring.evaluate_polarity(_analyzer(model), read_labelled(file, allowed=allowed)),
        json_output,
    )


@app.command("emotion")
def evaluate_emotion_cli(
    file: FileArg,
    classes: Annotated[
        int, typer.Option(help="Score the 7-class or the 8-class (satiric) answer.")
    ] = 7,
    json_output: JsonOpt = False,
    model: ModelOpt = None,
) -> None:
    """Customer-service emotions ({"text", "label"} with our labels)."""
    if classes not in (7, 8):
        fail(f"--classes must be 7 or 8, got {classes}")
    allowed = {e.value for e in EMOTION8_LABELS}
    _run(
        lambda: scoring.evaluate_emotion(
            _analyzer(model), read_labelled(file, allowed=allowed), classes
        ),
        json_output,
    )


@app.command("dialogue-emotion")
def evaluate_dialogue_cli(file: FileArg, json_output: JsonOpt = False) -> None:
    """Dialogue emotion ({"text", "scene", "level1", "level2"}): level 1 and level 2."""
    _run(
        lambda: scoring.evaluate_dialogue(Analyzer(), scoring.read_dialogue_examples(file)),
        json_output,
    )


@app.command("trend")
def evaluate_trend_cli(file: FileArg, json_output: JsonOpt = False) -> None:
    """Conversation trend ({"turns": [{"speaker", "text"}...], "label"} or {"texts", "label"})."""
    _run(lambda: scoring.evaluate_trend(Analyzer(), scoring.read_trend_examples(file)), json_output)


def print_report(metrics: dict[str, Any]) -> None:
    labels: list[str] = metrics["labels"]
    stdout.print(
        f"n={metrics['n']}  accuracy={metrics['accuracy']:.4f}  macro-F1={metrics['macro_f1']:.4f}"
        + (f"  protocol={metrics['protocol']}" if "protocol" in metrics else "")
        + (f"  neutral rate={metrics['neutral_rate']:.3f}" if "neutral_rate" in metrics else "")
    )
    per_class = Table(title="per class")
    for column in ("label", "precision", "recall", "F1", "support"):
        per_class.add_column(column, justify="left" if column == "label" else "right")
    for label in labels:
        per_class.add_row(
            label,
            f"{metrics[f'precision_{label}']:.4f}",
            f"{metrics[f'recall_{label}']:.4f}",
            f"{metrics[f'f1_{label}']:.4f}",
            str(metrics[f"support_{label}"]),
        )
    stdout.print(per_class)
    confusion = Table(title="confusion (rows gold, columns predicted)")
    confusion.add_column("gold \\ pred")
    for label in labels:
        confusion.add_column(label, justify="right")
    for label, row in zip(labels, metrics["confusion"], strict=True):
        confusion.add_row(label, *(str(v) for v in row))
    stdout.print(confusion)
