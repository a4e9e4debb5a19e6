"""Build a classifier from a model directory, whatever its architecture.

A directory holds one model (``architecture`` = ``hashed-ngram-linear`` or ``unit-cnn-onnx``) or
an ensemble of several in the same directory (``architecture`` = ``ensemble``, ``components`` =
``[{"architecture", "weight", "hyperparameters"}]``): the ensemble averages the components'
log-probabilities with those weights, then applies its own temperature.

An ensemble may carry a :class:`Cascade` (``hyperparameters.cascade``, fitted on dev by
:mod:`qinggan.training.cascade`): a text on which its cheap first member is already sure (top
probability at least ``threshold``) is answered by that member alone, calibrated by a temperature
of its own, and only the other texts run the costly members. The threshold is the lowest at
which no dev set lost accuracy or macro-F1 beyond a set tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.errors import ModelError
from qinggan.models.base import log_proba, softmax
from qinggan.models.io import ModelMeta, read_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.models.neural import CharCNNClassifier
from qinggan.models.shared import SharedEncoderHead


@dataclass(frozen=True, slots=True)
class Cascade:
    """Answer with the first member alone where its top probability reaches ``threshold``,
    calibrated by ``temperature``; ``skip_rate`` is the share of dev texts that did so."""

    threshold: float
    temperature: float
    skip_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0 or self.temperature <= 0.0:
            raise ValueError(f"a cascade needs 0 < threshold <= 1 and temperature > 0: {self}")

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}


class EnsembleClassifier:
    architecture = "ensemble"

    def __init__(
        self,
        members: Sequence[Any],
        weights: Sequence[float],
        temperature: float = 1.0,
        cascade: Cascade | dict[str, float] | None = None,
    ) -> None:
        self.members = list(members)
        self.weights = list(weights)
        self.temperature = temperature
        self.cascade = Cascade(**cascade) if isinstance(cascade, dict) else cascade
        self.classes_ = tuple(members[0].classes_)
        for member in members[1:]:
            if tuple(member.classes_) != self.classes_:
                raise ModelError(
                    f"ensemble members disagree on classes: {member.classes_} vs {self.classes_}"
                )

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        total = np.zeros((len(texts), len(self.classes_)))
        for member, weight in zip(self.members, self.weights, strict=True):
            total += weight * log_proba(member, texts)
        return total

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities: the whole ensemble, or through the cascade when it has one."""
        if self.cascade is None or not len(texts):
            return self.ensemble_proba(texts)
        first = log_proba(self.members[0], texts)
        sure = first.max(axis=1) >= np.log(self.cascade.threshold)
        out = softmax(first / self.cascade.temperature)
        unsure = np.flatnonzero(~sure)
        if unsure.size:
            rest = [texts[int(i)] for i in unsure]
            total = self.weights[0] * first[unsure]
            for member, weight in zip(self.members[1:], self.weights[1:], strict=True):
                total += weight * log_proba(member, rest)
            out[unsure] = softmax(total / self.temperature)
        return out

    def ensemble_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Every member on every text (what the cascade is fitted against)."""
        return softmax(self.decision_function(texts) / self.temperature)

    def hyperparameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"temperature": self.temperature}
        if self.cascade is not None:
            out["cascade"] = self.cascade.to_dict()
        return out


def _load_one(
    directory: Path, architecture: str, hyperparameters: dict[str, Any], labels: Sequence[str]
) -> Any:
    if architecture == HashedLinearClassifier.architecture:
        return HashedLinearClassifier.load(directory, hyperparameters)
    if architecture == CharCNNClassifier.architecture:
        return CharCNNClassifier.load(directory, hyperparameters, labels)
    if architecture == SharedEncoderHead.architecture:
        return SharedEncoderHead.load(directory, hyperparameters, labels)
    raise ModelError(f"unknown architecture {architecture!r} in {directory}")


def load_classifier(directory: Path, *, fast: bool = False) -> tuple[ModelMeta, Any]:
    """Read ``meta.json`` and the weights; raise :class:`ModelError` if anything is off.

    ``fast`` keeps only the linear members of an ensemble (several times faster, a little less
    accurate: the model card lists each member's own dev metrics).
    """
    meta = read_meta(directory)
    try:
        if meta.architecture == EnsembleClassifier.architecture:
            members = [
                _load_one(directory, c["architecture"], c["hyperparameters"], meta.labels)
                for c in meta.components
            ]
            weights = [float(c.get("weight", 1.0)) for c in meta.components]
            classifier: Any = EnsembleClassifier(members, weights, **meta.hyperparameters)
            linear = [m for m in members if m.architecture == HashedLinearClassifier.architecture]
            if fast and linear:
                classifier = linear[0]
        else:
            classifier = _load_one(directory, meta.architecture, meta.hyperparameters, meta.labels)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"cannot load the model in {directory}: {exc}") from exc
    if list(classifier.classes_) != list(meta.labels):
        raise ModelError(
            f"{directory}: weights are for {classifier.classes_}, meta.json says {meta.labels}"
        )
    return meta, classifier
