"""Calibration on dev: the ensemble's temperature, and its cascade.

:func:`fit_temperature` finds the one scalar that minimises the dev log-loss of softmax(log-probs
/ T), so the probabilities are calibrated. :func:`fit_cascade` decides when the ensemble's cheap
first member may answer alone (:class:`~qinggan.models.registry.Cascade`): it tries thresholds
from low (most texts skip the costly members) to high, and keeps the lowest at which no dev set
loses more than ``max_drop`` of accuracy or macro-F1 against the whole ensemble and the dev sets
together lose at most ``max_mean_drop`` on average. The first member's answers are calibrated by a
temperature of their own, fitted on the texts it would answer alone. Nothing passes: no cascade.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qinggan.models.base import softmax
from qinggan.models.registry import Cascade

#: thresholds tried, lowest (fastest) first
THRESHOLDS = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
#: largest loss of accuracy or macro-F1 allowed on any one dev set
MAX_DROP = 0.003
#: largest loss allowed on average over the dev sets
MAX_MEAN_DROP = 0.001

Score = Callable[[Sequence[str], np.ndarray, tuple[str, ...]], dict[str, Any]]
"""score(gold labels, probabilities, classes) -> metrics with ``accuracy`` and ``macro_f1``."""


def fit_temperature(log_probs: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(log_probs / T)."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 61)):
        p = softmax(log_probs / t)
        nll = -np.mean(np.log(np.clip(p[np.arange(len(gold)), gold], 1e-12, 1.0)))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def weighted_log_probs(
    name: str, weights: Sequence[float], member_logp: Sequence[Mapping[str, np.ndarray]]
) -> np.ndarray:
    """The ensemble's scores of dev set ``name``: the members' log-probabilities, weighted."""
    total = np.zeros_like(member_logp[0][name])
    for weight, logp in zip(weights, member_logp, strict=True):
        total += weight * logp[name]
    return total


@dataclass(frozen=True)
class CascadeFit:
    """The chosen cascade (None: none passed), the dev metrics the model answers with (through
    the cascade when there is one), each dev set's share of texts answered by the first member,
    and one line per threshold tried."""

    cascade: Cascade | None
    metrics: dict[str, dict[str, Any]]
    skip_rates: dict[str, float]
    tried: list[dict[str, Any]]


def fit_cascade(
    score: Score,
    gold: Mapping[str, Sequence[str]],
    member_logp: Sequence[Mapping[str, np.ndarray]],
    weights: Sequence[float],
    temperature: float,
    classes: tuple[str, ...],
    *,
    max_drop: float = MAX_DROP,
    max_mean_drop: float = MAX_MEAN_DROP,
) -> CascadeFit:
    """Fit the cascade of an ensemble from its members' dev log-probabilities (one mapping of dev
    set name to an array per member, first member first) and its weights and temperature."""
    names = list(gold)
    combined = {n: weighted_log_probs(n, weights, member_logp) for n in names}
    ensemble = {n: softmax(combined[n] / temperature) for n in names}
    full = {n: score(gold[n], ensemble[n], classes) for n in names}
    total = sum(len(gold[n]) for n in names)
    first = member_logp[0]
    index = {label: i for i, label in enumerate(classes)}
    tried: list[dict[str, Any]] = []
    for threshold in THRESHOLDS:
        sure = {n: first[n].max(axis=1) >= np.log(threshold) for n in names}
        answered_rows = [(n, int(i)) for n in names for i in np.flatnonzero(sure[n])]
        rows = [(n, i) for n, i in answered_rows if gold[n][i] in index]
        if not rows:
            continue
        answered = np.vstack([first[n][i] for n, i in rows])
        first_t = fit_temperature(answered, np.array([index[gold[n][i]] for n, i in rows]))
        metrics = {}
        for n in names:
            probs = ensemble[n].copy()
            probs[sure[n]] = softmax(first[n][sure[n]] / first_t)
            metrics[n] = score(gold[n], probs, classes)
        drops = {
            n: max(full[n][key] - metrics[n][key] for key in ("accuracy", "macro_f1"))
            for n in names
        }
        worst = max(drops, key=lambda n: drops[n])
        skip = sum(int(sure[n].sum()) for n in names) / total
        line = {
            "threshold": threshold,
            "skip_rate": round(skip, 4),
            "mean_drop": round(float(np.mean(list(drops.values()))), 5),
            "worst_set": worst,
            "worst_drop": round(drops[worst], 5),
        }
        tried.append(line)
        if drops[worst] <= max_drop and line["mean_drop"] <= max_mean_drop:
            rates = {n: round(float(sure[n].mean()), 4) for n in names}
            return CascadeFit(Cascade(threshold, first_t, round(skip, 4)), metrics, rates, tried)
    return CascadeFit(None, full, {}, tried)
