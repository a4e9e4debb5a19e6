"""`qinggan analyze`, `qinggan emotions`, `qinggan dialogue`: per-text judgements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from qinggan.cli.common import fail, open_analyzer
from qinggan.cli.texts import answer_texts, colour
from qinggan.engine import Analyzer
from qinggan.labels import Scene, parse_choice
from qinggan.results import DialogueEmotionResult, EmotionResult, PolarityResult

TextsArg = Annotated[
    list[str] | None, typer.Argument(help="Texts to analyse; stdin lines when none.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
ModelOpt = Annotated[
    Path | None, typer.Option(help="A model directory of yours (from `qinggan train`).")
]
MaxBytesOpt = Annotated[
    int | None,
    typer.Option(
        min=0, help="Refuse texts longer than this many bytes in UTF-8; 0 = no limit (default)."
    ),
]


def _analyzer(model: Path | None, max_bytes: int | None) -> Analyzer:
    """The shipped models, or ``model`` of any task."""
    return open_analyzer(model, None, max_bytes)


def analyze_cli(
    texts: TextsArg = None,
    json_output: JsonOpt = False,
    model: ModelOpt = None,
    max_bytes: MaxBytesOpt = None,
) -> None:
    """Polarity (positive / negative / neutral) of each text, with probabilities."""
    analyzer = open_analyzer(model, "analyze", max_bytes)

    def row(r: PolarityResult) -> list[str]:
        return [
            r.text,
            colour(r.label.value),
            f"{r.positive:.3f}",
            f"{r.negative:.3f}",
            f"{r.neutral:.3f}",
            f"{r.confidence:.3f}",
        ]

    answer_texts(
        texts,
        lambda good: analyzer.analyze_batch(good, errors="report"),
        json_output=json_output,
        columns=["text", "label", "positive", "negative", "neutral", "confidence"],
        row=row,
    )


def emotions_cli(
    texts: TextsArg = None,
    classes: Annotated[
        int, typer.Option(help="7 classes (JD type 3) or 8 with satiric (type 5).")
    ] = 7,
    json_output: JsonOpt = False,
    model: ModelOpt = None,
    max_bytes: MaxBytesOpt = None,
) -> None:
    """Customer-service emotion of each text, with intensity for anger and anxiety."""
    if classes not in (7, 8):
        fail(f"--classes must be 7 or 8, got {classes}")
    analyzer = open_analyzer(model, "emotions", max_bytes)
    n = cast(Literal[7, 8], classes)

    def row(r: EmotionResult) -> list[str]:
        top3 = "  ".join(f"{k.value} {v:.2f}" for k, v in list(r.probabilities.items())[:3])
        level = (
            f"{int(r.intensity[0].degree)} ({r.intensity[0].probability:.2f})"
            if r.intensity
            else "-"
        )
        return [r.text, colour(r.label.value), f"{r.confidence:.3f}", level, top3]

    answer_texts(
        texts,
        lambda good: analyzer.emotions_batch(good, n, errors="report"),
        json_output=json_output,
        columns=["text", "emotion", "confidence", "intensity", "top classes"],
        row=row,
    )


def dialogue_cli(
    texts: TextsArg = None,
    scene: Annotated[
        str, typer.Option(help="default, talk, task or customer_service.")
    ] = "default",
    json_output: JsonOpt = False,
    max_bytes: MaxBytesOpt = None,
) -> None:
    """Two-level dialogue emotion of each utterance, with suggested replies."""
    try:
        chosen = parse_choice(Scene, scene, "scene")
    except ValueError as exc:
        fail(str(exc))
    analyzer = open_analyzer(None, "dialogue", max_bytes)

    def row(r: DialogueEmotionResult) -> list[str]:
        p1 = r.level1_probabilities[r.level1]
        level2 = f"{r.level2} ({r.level2_probabilities[r.level2]:.2f})" if r.level2 else "-"
        return [r.text, f"{colour(r.level1.value)} ({p1:.2f})", level2, " / ".join(r.replies[:2])]

    answer_texts(
        texts,
        lambda good: analyzer.dialogue_emotion_batch(good, chosen, errors="report"),
        json_output=json_output,
        columns=["text", "level 1", "level 2", "replies"],
        row=row,
    )
