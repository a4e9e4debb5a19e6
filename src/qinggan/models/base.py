"""The contract every trainable text classifier follows (scikit-learn's estimator contract).

``__init__`` only stores hyper-parameters; ``fit`` returns ``self``; learned state ends in ``_``;
``predict_proba`` columns follow ``classes_``; using a model before ``fit`` raises
:class:`NotFittedError`. ``save(directory)`` writes weights as data (``.npz``/``.onnx``, never a
pickle) and ``load(directory, meta)`` reads them back exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qinggan.errors import ModelError


class NotFittedError(ModelError):
    """A model was used before it was fitted or loaded."""


class TextClassifier(Protocol):
    classes_: tuple[str, ...]
    architecture: str

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> TextClassifier: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def hyperparameters(self) -> dict[str, Any]: ...

    def save(self, directory: Path) -> None: ...


def log_proba(model: Any, texts: Sequence[str]) -> np.ndarray:
    """``log(model.predict_proba(texts))``, floored at log(1e-9) so a zero stays finite."""
    return np.log(np.clip(model.predict_proba(texts), 1e-9, 1.0))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted
