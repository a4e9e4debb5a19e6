"""Tasks: which datasets a judgement is scored on, and how.

A task names the data groups it reads (directories under the data dir), decides the scoring
protocol of each dataset from its gold labels, and turns system outputs into metrics. Later
judgements (emotions, intensity, dialogue emotion, trend, ...) add a :class:`Task` subclass
here, register it in :data:`REGISTRY`, and implement ``_to_<task>`` on the systems that support
it; the runner, the JSON and the report pick the new rows up without further changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from benchmarks.data import Dataset

BINARY = "binary"
NEUTRAL = "neutral"
THREE_CLASS = "three_class"

PROTOCOL_TEXT = {
    BINARY: "gold positive/negative only: predicted positive iff P(positive) >= P(negative); "
    "accuracy and macro-F1 over the two classes; neutral_rate = share whose 3-way label "
    "is neutral",
    NEUTRAL: "gold all neutral (weak label): accuracy = share predicted neutral (3-way label)",
    THREE_CLASS: "gold positive/neutral/negative: 3-way label, accuracy and macro-F1",
}


def _metrics():  # type: ignore[no-untyped-def]
    from qinggan.training.metrics import classification_metrics

    return classification_metrics


class Task:
    name: ClassVar[str]
    description: ClassVar[str]
    groups: ClassVar[tuple[str, ...]]  # data groups (directories under the data dir)

    def protocol(self, ds: Dataset) -> str:
        raise NotImplementedError

    def score(self, ds: Dataset, gold: Sequence[str], outputs: Sequence[Any]) -> dict[str, Any]:
        raise NotImplementedError


class PolarityTask(Task):
    name = "polarity"
    description = "sentence polarity: positive / negative / neutral"
    groups = ("polarity", "polarity3", "neutral")

    def protocol(self, ds: Dataset) -> str:
        labels = set(ds.labels)
        if labels <= {"positive", "negative"}:
            return BINARY
        if labels == {"neutral"}:
            return NEUTRAL
        if labels <= {"positive", "negative", "neutral"}:
            return THREE_CLASS
        raise ValueError(
            f"dataset {ds.name}: unexpected polarity labels {sorted(labels)}; "
            "expected a subset of positive, negative, neutral"
        )

    def score(self, ds: Dataset, gold: Sequence[str], outputs: Sequence[Any]) -> dict[str, Any]:
        protocol = self.protocol(ds)
        n = len(gold)
        three_way = [o.label for o in outputs]
        neutral_rate = sum(lab == "neutral" for lab in three_way) / n if n else 0.0
        predicted = dict(sorted(Counter(three_way).items()))
        classification_metrics = _metrics()
        if protocol == BINARY:
            m = classification_metrics(
                list(gold), [o.binary for o in outputs], labels=["negative", "positive"]
            )
        elif protocol == THREE_CLASS:
            m = classification_metrics(
                list(gold), three_way, labels=["negative", "neutral", "positive"]
            )
        else:
            m = {"n": n, "accuracy": neutral_rate, "macro_f1": None, "labels": ["neutral"]}
        m = dict(m)
        m["neutral_rate"] = neutral_rate
        m["predicted_3way"] = predicted
        m["protocol"] = protocol
        return m


REGISTRY: dict[str, Task] = {t.name: t for t in (PolarityTask(),)}


def get(name: str) -> Task:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of: {', '.join(REGISTRY)}") from None
