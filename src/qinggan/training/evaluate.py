"""Scoring the judgements on labelled examples (polarity, emotion, dialogue emotion, trend).

Polarity protocols:

* A set whose gold labels are only positive/negative is scored as a binary task: the prediction is
  positive when P(positive) >= P(negative). The share of items whose top label is neutral is
  reported beside it (``neutral_rate``).
* A set with neutral labels is scored on all three classes, by the top label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.conversation import Turn, analyze_conversation
from qinggan.errors import DataError
from qinggan.labels import (
    EMOTION7_LABELS,
    EMOTION8_LABELS,
    POLARITY_LABELS,
    SCENE_LEVEL2,
    DialogueLevel1,
    Polarity,
    Scene,
    Trend,
    parse_choice,
)
from qinggan.training.corpora import Example, read_records
from qinggan.training.metrics import classification_metrics

_POS = POLARITY_LABELS.index(Polarity.POSITIVE)
_NEG = POLARITY_LABELS.index(Polarity.NEGATIVE)
_NEU = POLARITY_LABELS.index(Polarity.NEUTRAL)


def score_polarity(gold: Sequence[str], probabilities: np.ndarray) -> dict[str, Any]:
    """Metrics of polarity probabilities (columns in ``POLARITY_LABELS`` order) against gold."""
    top = [POLARITY_LABELS[i].value for i in probabilities.argmax(axis=1)]
    neutral_rate = float(np.mean(probabilities.argmax(axis=1) == _NEU)) if len(gold) else 0.0
    if set(gold) <= {Polarity.POSITIVE.value, Polarity.NEGATIVE.value}:
        pred = ["positive" if p[_POS] >= p[_NEG] else "negative" for p in probabilities]
        metrics = classification_metrics(gold, pred, labels=["positive", "negative"])
        metrics["protocol"] = "binary"
    else:
        metrics = classification_metrics(
            gold, top, labels=[label.value for label in POLARITY_LABELS]
        )
        metrics["protocol"] = "three-class"
    metrics["neutral_rate"] = neutral_rate
    return metrics


def evaluate_polarity(
    analyzer: Any, examples: Sequence[Example], batch_size: int = 2048
) -> dict[str, Any]:
    """Score ``analyzer`` (an :class:`~qinggan.engine.Analyzer`) on labelled examples."""
    chunks = [
        analyzer.probabilities([ex.text for ex in examples[i : i + batch_size]])
        for i in range(0, len(examples), batch_size)
    ]
    probabilities = np.vstack(chunks) if chunks else np.zeros((0, len(POLARITY_LABELS)))
    return score_polarity([ex.label for ex in examples], probabilities)


def evaluate_emotion(
    analyzer: Any, examples: Sequence[Example], classes: int = 7
) -> dict[str, Any]:
    """Top emotion against gold; macro-F1 over the labels in the file, a prediction outside them
    counts as wrong."""
    texts = [ex.text for ex in examples]
    labels = EMOTION7_LABELS if classes == 7 else EMOTION8_LABELS
    probabilities = (
        analyzer.emotion_probabilities(texts, classes) if texts else np.zeros((0, len(labels)))
    )
    pred = [labels[i].value for i in probabilities.argmax(axis=1)]
    gold = [ex.label for ex in examples]
    metrics = classification_metrics(gold, pred, labels=sorted(set(gold)))
    metrics["classes"] = classes
    return metrics


@dataclass(frozen=True, slots=True)
class DialogueExample:
    text: str
    scene: Scene
    level1: str
    level2: str | None


def read_dialogue_examples(path: Path) -> list[DialogueExample]:
    """``{"text", "scene", "level1", "level2"}`` per line; errors name the line."""
    examples = []
    for number, record in read_records(path):
        text, level2 = record.get("text"), record.get("level2")
        if not isinstance(text, str) or not text.strip():
            raise DataError("'text' must be a non-empty string", path=str(path), line=number)
        try:
            scene = parse_choice(Scene, str(record.get("scene", "default")), "scene")
            level1 = parse_choice(DialogueLevel1, str(record.get("level1")), "level1").value
            if level2 is not None:
                level2 = parse_choice(
                    SCENE_LEVEL2[scene], str(level2), f"level2 of scene {scene.value}"
                ).value
        except ValueError as exc:
            raise DataError(str(exc), path=str(path), line=number) from None
        examples.append(DialogueExample(text, scene, level1, level2))
    return examples


def evaluate_dialogue(analyzer: Any, examples: Sequence[DialogueExample]) -> dict[str, Any]:
    """Level-1 accuracy and macro-F1 on every item; level 2 on items that carry a level-2 label."""
    predicted: dict[int, Any] = {}
    for scene in Scene:
        indices = [i for i, ex in enumerate(examples) if ex.scene is scene]
        if indices:
            results = analyzer.dialogue_emotion_batch([examples[i].text for i in indices], scene)
            predicted.update(zip(indices, results, strict=True))
    gold1 = [ex.level1 for ex in examples]
    pred1 = [predicted[i].level1.value for i in range(len(examples))]
    metrics = classification_metrics(gold1, pred1, labels=sorted(set(gold1)))
    with_level2 = [i for i, ex in enumerate(examples) if ex.level2 is not None]
    gold2 = [str(examples[i].level2) for i in with_level2]
    pred2 = [str(predicted[i].level2) for i in with_level2]
    level2 = classification_metrics(gold2, pred2, labels=sorted(set(gold2)))
    metrics.update({f"level2_{k}": v for k, v in level2.items()})
    return metrics


@dataclass(frozen=True, slots=True)
class TrendExample:
    turns: tuple[Turn, ...]
    label: str


def read_trend_examples(path: Path) -> list[TrendExample]:
    """``{"turns": [{"speaker", "text"}...], "label"}`` or ``{"texts": [...], "label"}``."""
    examples = []
    for number, record in read_records(path):
        try:
            label = parse_choice(Trend, str(record.get("label")), "trend label").value
        except ValueError as exc:
            raise DataError(str(exc), path=str(path), line=number) from None
        raw_turns = record.get("turns")
        if isinstance(raw_turns, list) and all(isinstance(t, dict) for t in raw_turns):
            turns = tuple(Turn.from_dict(t) for t in raw_turns)
        elif isinstance(record.get("texts"), list):
            turns = tuple(Turn(text) for text in record["texts"])
        else:
            raise DataError(
                "expected 'turns' (a list of objects) or 'texts' (a list)",
                path=str(path),
                line=number,
            )
        if not turns or not all(isinstance(t.text, str) and t.text.strip() for t in turns):
            raise DataError("every turn needs a non-empty text", path=str(path), line=number)
        examples.append(TrendExample(turns, label))
    return examples


def evaluate_trend(analyzer: Any, examples: Sequence[TrendExample]) -> dict[str, Any]:
    gold = [ex.label for ex in examples]
    pred = [analyze_conversation(list(ex.turns), analyzer).label.value for ex in examples]
    return classification_metrics(gold, pred, labels=sorted(set(gold)))
