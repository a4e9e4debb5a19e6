"""A linear classifier over hashed character/unit n-grams.

score(text, class) = scale(text) * sum over n-grams g of W[hash(g), class] + b[class], where
scale = 1/sqrt(number of n-grams); probabilities are softmax(score / temperature). Weights are
fitted by logistic regression with averaged SGD (scikit-learn, only at training time) and stored as
float16 in ``linear.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.models.base import NotFittedError, softmax
from qinggan.text.features import Features, HashedNgrams

WEIGHTS_FILE = "linear.npz"


class HashedLinearClassifier:
    architecture = "hashed-ngram-linear"
    # learned state (set by fit or load)
    classes_: tuple[str, ...]
    weights_: np.ndarray
    bias_: np.ndarray

    def __init__(
        self,
        n_buckets: int = 1 << 20,
        max_n: int = 3,
        alpha: float = 2e-6,
        epochs: int = 8,
        seed: int = 0,
        temperature: float = 1.0,
    ) -> None:
        self.n_buckets = n_buckets
        self.max_n = max_n
        self.alpha = alpha
        self.epochs = epochs
        self.seed = seed
        self.temperature = temperature
        self._featurizer = HashedNgrams(n_buckets=n_buckets, max_n=max_n)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "n_buckets": self.n_buckets,
            "max_n": self.max_n,
            "alpha": self.alpha,
            "epochs": self.epochs,
            "seed": self.seed,
            "temperature": self.temperature,
        }

    def features(self, texts: Sequence[str]) -> Features:
        return self._featurizer.transform(texts)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> HashedLinearClassifier:
        from sklearn.linear_model import SGDClassifier

        classes = tuple(sorted(set(labels)))
        if len(classes) < 2:
            raise ValueError(f"need at least two classes to fit, got {classes}")
        index = {label: i for i, label in enumerate(classes)}
        y = np.fromiter((index[label] for label in labels), dtype=np.int64, count=len(labels))
        matrix = self._matrix(self.features(texts))
        solver = SGDClassifier(
            loss="log_loss",
            alpha=self.alpha,
            max_iter=self.epochs,
            tol=None,
            random_state=self.seed,
            average=True,
        )
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        solver.fit(matrix, y, sample_weight=weights)
        coef = solver.coef_ if len(classes) > 2 else np.vstack([-solver.coef_, solver.coef_]) / 2
        bias = solver.intercept_ if len(classes) > 2 else np.array([-1, 1]) * solver.intercept_ / 2
        self.classes_ = classes
        self.weights_ = coef.T.astype(np.float16)
        self.bias_ = bias.astype(np.float32)
        return self

    def _matrix(self, features: Features):  # type: ignore[no-untyped-def]
        from scipy.sparse import csr_matrix

        data = features.scale()[features.rows]
        shape = (features.n_texts, self.n_buckets)
        matrix = csr_matrix((data, (features.rows, features.columns)), shape=shape)
        matrix.sum_duplicates()
        return matrix

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Raw class scores (before temperature and softmax), one row per text."""
        if not hasattr(self, "weights_"):
            raise NotFittedError("this HashedLinearClassifier is not fitted or loaded yet")
        features = self.features(texts)
        gathered = self.weights_[features.columns].astype(np.float32)
        gathered *= features.scale()[features.rows, None].astype(np.float32)
        scores = np.empty((features.n_texts, len(self.classes_)), dtype=np.float64)
        for k in range(len(self.classes_)):
            scores[:, k] = np.bincount(features.rows, gathered[:, k], minlength=features.n_texts)
        return scores + self.bias_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision_function(texts) / self.temperature)

    def contributions(self, text: str) -> list[tuple[str, np.ndarray]]:
        """Each unit of ``text`` with the summed weight of the n-grams starting at it."""
        from qinggan.text.features import units

        cut = units(text)
        features = self.features([text])
        scale = float(features.scale()[0])
        per_unit = np.zeros((len(cut), len(self.classes_)), dtype=np.float64)
        starts = _ngram_starts(len(cut), self.max_n)
        per_unit_index = starts[: features.columns.size]
        np.add.at(per_unit, per_unit_index, self.weights_[features.columns].astype(np.float64))
        return [(unit, row * scale) for unit, row in zip(cut, per_unit, strict=True)]

    def save(self, directory: Path) -> None:
        np.savez_compressed(
            directory / WEIGHTS_FILE,
            weights=self.weights_,
            bias=self.bias_,
            classes=np.array(self.classes_),
        )

    @classmethod
    def load(cls, directory: Path, hyperparameters: dict[str, Any]) -> HashedLinearClassifier:
        model = cls(**hyperparameters)
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as data:
            model.weights_ = data["weights"]
            model.bias_ = data["bias"]
            model.classes_ = tuple(str(c) for c in data["classes"])
        if model.weights_.shape != (model.n_buckets, len(model.classes_)):
            raise ValueError(
                f"weights have shape {model.weights_.shape}, expected "
                f"({model.n_buckets}, {len(model.classes_)})"
            )
        return model


def _ngram_starts(n_units: int, max_n: int) -> np.ndarray:
    """Start position of each n-gram in the order :class:`HashedNgrams` emits them."""
    return np.concatenate([np.arange(max(n_units - n + 1, 0)) for n in range(1, max_n + 1)])
