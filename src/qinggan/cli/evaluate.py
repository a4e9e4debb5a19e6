"""`qinggan evaluate TASK FILE`: accuracy, macro-F1, per-class P/R/F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qinggan.cli.common import fail, open_analyzer, print_json, stderr, stdout
from qinggan.engine import Analyzer
from qinggan.errors import QingganError
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS, Emotion
from qinggan.training import evaluate as scoring
from qinggan.training.corpora import Example, read_labelled

app = typer.Typer(help="Score a model on a labelled JSONL/CSV file.", no_args_is_help=True)

FileArg = Annotated[
    Path, typer.Argument(help="The labelled file (JSONL; CSV/TSV for text+label tasks).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ModelOpt = Annotated[
    Path | None, typer.Option(help="A model directory of yours (from `qinggan train`).")
]


def _run(
    score: Callable[[], dict[str, Any]],
    json_output: bool,
    show: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Score, refuse an error or an empty file, then print JSON or ``show`` the metrics (by
    default the per-class report, and the level-2 one where there is one)."""
    try:
        metrics = score()
    except QingganError as exc:
        fail(str(exc))
    if metrics["n"] == 0:
        fail("the file holds no labelled rows")
    if json_output:
        print_json(metrics)
        return
    if show is not None:
        show(metrics)
        return
    print_report(metrics)
    if "level2_n" in metrics:
        stdout.print("\n[bold]level 2[/] (items with a level-2 label)")
        print_report(
            {k.removeprefix("level2_"): v for k, v in metrics.items() if k.startswith("level2_")}
        )


TextColumnOpt = Annotated[
    str, typer.Option("--text-column", help="The JSON field or CSV/TSV column of the text.")
]
LabelColumnOpt = Annotated[
    str, typer.Option("--label-column", help="The JSON field or CSV/TSV column of the label.")
]
#: numeric polarity labels, read as the binary corpora (ChnSentiCorp, waimai_10k ...) write them
NUMERIC_POLARITY = {"0": "negative", "1": "positive"}


def _read(
    file: Path,
    allowed: set[str],
    text_column: str,
    label_column: str,
    numeric: dict[str, str] | None = None,
) -> list[Example]:
    """The labelled rows of ``file`` (labels checked, numeric ones mapped); exits 2 naming the
    line of a bad row."""
    try:
        examples = read_labelled(
            file,
            allowed=allowed | set(numeric or {}),
            text_field=text_column,
            label_field=label_column,
        )
    except QingganError as exc:
        hint = ""
        if f"'{text_column}' must be" in str(exc):
            hint = "; name the text field with --text-column"
        elif f"'{label_column}' must be" in str(exc):
            hint = "; name the label field with --label-column"
        fail(f"{exc}{hint}")
    if numeric:
        examples = [replace(ex, label=numeric.get(ex.label, ex.label)) for ex in examples]
    return examples


@app.command("polarity")
def evaluate_polarity_cli(
    file: FileArg,
    json_output: JsonOpt = False,
    model: ModelOpt = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
) -> None:
    """Polarity: binary protocol for positive/negative files, three classes when neutral occurs.

    Labels: positive, negative, neutral, or 1 (positive) and 0 (negative)."""
    allowed = {label.value for label in POLARITY_LABELS}
    examples = _read(file, allowed, text_column, label_column, NUMERIC_POLARITY)
    analyzer = open_analyzer(model, "evaluate polarity")
    _run(lambda: scoring.evaluate_polarity(analyzer, examples), json_output)


@app.command("emotion")
def evaluate_emotion_cli(
    file: FileArg,
    classes: Annotated[
        int, typer.Option(help="Score the 7-class or the 8-class (satiric) answer.")
    ] = 7,
    json_output: JsonOpt = False,
    model: ModelOpt = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
) -> None:
    """Customer-service emotions ({"text", "label"} with our labels).

    With --classes 7 the rows labelled satiric are left out (the 7-class answer has no satiric),
    and the report says how many."""
    if classes not in (7, 8):
        fail(f"--classes must be 7 or 8, got {classes}")
    allowed = {e.value for e in EMOTION8_LABELS}
    examples = _read(file, allowed, text_column, label_column)
    satiric = sum(1 for ex in examples if ex.label == Emotion.SATIRIC.value)
    if classes == 7 and satiric:
        examples = [ex for ex in examples if ex.label != Emotion.SATIRIC.value]
        stderr.print(
            f"note: {satiric} row(s) labelled satiric left out: the 7-class answer has no "
            "satiric; score them with --classes 8",
            markup=False,
        )
    analyzer = open_analyzer(model, "evaluate emotion")

    def score() -> dict[str, Any]:
        metrics = scoring.evaluate_emotion(analyzer, examples, classes)
        if classes == 7:
            metrics["skipped_satiric"] = satiric
        return metrics

    _run(score, json_output)


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


AspectModelOpt = Annotated[
    Path | None, typer.Option("--model", help="An aspect model directory (default: the shipped).")
]


@app.command("aspects")
def evaluate_aspects_cli(
    file: FileArg, json_output: JsonOpt = False, model: AspectModelOpt = None
) -> None:
    """Aspect opinions (the aste_zh shape: {"text", "triplets": [...]}): aspect-term, opinion-term,
    pair and triplet F1 over exact spans."""
    from qinggan.training.aspects_eval import evaluate_aspects

    _run(lambda: evaluate_aspects(file, Analyzer(aspect_model=model)), json_output, _show_spans)


@app.command("aspect-polarity")
def evaluate_aspect_polarity_cli(
    file: FileArg, json_output: JsonOpt = False, model: AspectModelOpt = None
) -> None:
    """Polarity of given aspects (the apc_zh shape: {"text", "aspects": [{"aspect", "span",
    "polarity"}]}): accuracy and macro-F1 over aspects."""
    from qinggan.training.aspects_eval import evaluate_aspect_polarity

    _run(lambda: evaluate_aspect_polarity(file, Analyzer(aspect_model=model)), json_output)


#: what `evaluate aspects` prints: (metric key prefix, what it matches)
ASPECT_LEVELS = (
    ("aspect", "aspect terms (exact span)"),
    ("opinion", "opinion terms (exact span)"),
    ("pair", "aspect-opinion pairs"),
    ("triplet", "triplets (aspect, opinion, polarity)"),
)


def _show_spans(metrics: dict[str, Any]) -> None:
    """Exact-match precision, recall and F1 of each level of aspect extraction."""
    counts = f", {metrics['n_triplets']} gold triplets" if "n_triplets" in metrics else ""
    stdout.print(f"n={metrics['n']} sentences{counts}")
    table = Table(title="exact-match scores")
    for column in ("level", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "level" else "right")

    def cell(key: str) -> str:
        value = metrics.get(key)
        return f"{value:.4f}" if isinstance(value, int | float) else "-"

    for prefix, what in ASPECT_LEVELS:
        scores = (cell(f"{prefix}_{m}") for m in ("precision", "recall", "f1"))
        table.add_row(what, *scores)
    stdout.print(table)


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
