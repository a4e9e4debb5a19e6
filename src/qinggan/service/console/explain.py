"""``POST /api/v1/explain``: which characters pushed the polarity, from the model's own weights.

Body ``{"text": "..."}`` or ``{"texts": [...]}`` (native auth, one call per text). Each answer::

    {"text": <normalized text>, "label": <polarity label>, "units": [{"unit": "好", "score": 0.8}],
     "bias": <positive - negative intercept>, "model": "hashed-ngram-linear"}

``score`` is the unit's (positive - negative) contribution in the linear member of the polarity
model (the summed weights of the character/word n-grams starting at that unit, scaled as in
scoring): above 0 pushed toward positive, below 0 toward negative. With an ensemble model, only
its linear member is explained (its neural member has no per-unit weights); the ``label`` is the
full model's answer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qinggan.engine import Analyzer
from qinggan.models.linear import HashedLinearClassifier
from qinggan.models.registry import load_classifier
from qinggan.results import ItemError
from qinggan.service.context import get_services
from qinggan.service.errors import InvalidRequest
from qinggan.service.native import (
    _RESPONSES,
    PREFIX,
    ApiKey,
    NativeRoute,
    TextsIn,
    _answer,
)
from qinggan.text import normalize

router = APIRouter(prefix=PREFIX, route_class=NativeRoute, tags=["native"])

_lock = threading.Lock()
_linear: dict[Path, HashedLinearClassifier | None] = {}


def linear_member(directory: Path) -> HashedLinearClassifier | None:
    """The linear member of the polarity model in ``directory`` (loaded once), or ``None``."""
    with _lock:
        if directory not in _linear:
            _, classifier = load_classifier(directory, fast=True)
            _linear[directory] = (
                classifier if isinstance(classifier, HashedLinearClassifier) else None
            )
        return _linear[directory]


class Explanation:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        return self.body


def _column(model: HashedLinearClassifier, label: str) -> int | None:
    classes = list(model.classes_)
    return classes.index(label) if label in classes else None


def _push(row: np.ndarray, positive: int | None, negative: int | None) -> float:
    up = float(row[positive]) if positive is not None else 0.0
    down = float(row[negative]) if negative is not None else 0.0
    return up - down


def explain_batch(
    analyzer: Analyzer, model: HashedLinearClassifier, texts: Sequence[str]
) -> list[Explanation | ItemError]:
    """Per-unit (positive - negative) contributions of ``model`` for each text."""
    labels = analyzer.analyze_batch(list(texts), errors="report")
    positive, negative = _column(model, "positive"), _column(model, "negative")
    out: list[Explanation | ItemError] = []
    for text, result in zip(texts, labels, strict=True):
        if isinstance(result, ItemError):
            out.append(result)
            continue
        clean = normalize(text, max_bytes=analyzer.max_bytes)
        units = [
            {"unit": unit, "score": round(_push(row, positive, negative), 6)}
            for unit, row in model.contributions(clean)
        ]
        out.append(
            Explanation(
                {
                    "text": clean,
                    "label": result.label,
                    "units": units,
                    "bias": round(_push(model.bias_, positive, negative), 6),
                    "model": model.architecture,
                }
            )
        )
    return out


@router.post(
    "/explain",
    responses=_RESPONSES,
    summary="Which characters pushed the polarity (linear member weights)",
)
async def explain(request: Request, body: TextsIn, x_api_key: ApiKey = None) -> Response:
    services = get_services(request)
    analyzer = services.analyzer
    model = await services.inference.run(linear_member, analyzer.model_dir)
    if model is None:
        raise InvalidRequest("the polarity model has no linear member to explain")

    async def answer(texts: list[str]) -> Sequence[Any]:
        return await services.inference.run(explain_batch, analyzer, model, texts)

    return await _answer(request, x_api_key, body, answer)
