"""Classification metrics with flat, stable keys (the same dict goes to meta.json and --json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def classification_metrics(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support, macro-F1 and the confusion matrix.

    ``labels`` fixes the order of the confusion matrix and the classes macro-F1 averages over;
    by default the labels that occur in ``gold``, sorted. A prediction outside ``labels`` counts
    as wrong (its column is dropped from the matrix).
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} items but pred has {len(pred)}")
    order = list(labels) if labels is not None else sorted(set(gold))
    index = {label: i for i, label in enumerate(order)}
    confusion = [[0] * len(order) for _ in order]
    correct = 0
    for g, p in zip(gold, pred, strict=True):
        correct += g == p
        if g in index and p in index:
            confusion[index[g]][index[p]] += 1
    n = len(gold)
    result: dict[str, Any] = {"n": n, "accuracy": correct / n if n else 0.0}
    f1s = []
    for label in order:
        i = index[label]
        tp = confusion[i][i]
        support = sum(1 for g in gold if g == label)
        predicted = sum(1 for p in pred if p == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[f"precision_{label}"] = precision
        result[f"recall_{label}"] = recall
        result[f"f1_{label}"] = f1
        result[f"support_{label}"] = support
        f1s.append(f1)
    result["macro_f1"] = sum(f1s) / len(f1s) if f1s else 0.0
    result["labels"] = order
    result["confusion"] = confusion
    return result
