"""The estimator contract, shared by every trainable model: overfit, save, reload, same answers."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from qinggan.errors import ModelError
from qinggan.models.base import NotFittedError
from qinggan.models.io import ModelMeta, read_meta, write_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.models.neural import CharCNNClassifier
from qinggan.models.registry import EnsembleClassifier, load_classifier
from qinggan.text import normalize
from tests.conftest import TINY_LABELS, TINY_TEXTS

pytest.importorskip("sklearn")


def _make(kind: str):  # type: ignore[no-untyped-def]
    if kind == "linear":
        return HashedLinearClassifier(n_buckets=1 << 16, alpha=1e-5, epochs=50)
    pytest.importorskip("torch")
    return CharCNNClassifier(
        embedding_dim=16, filters=16, epochs=60, batch_size=4, learning_rate=1e-2, vocab_size=500
    )


def _save(model, directory: Path) -> None:  # type: ignore[no-untyped-def]
    model.save(directory)
    write_meta(
        directory,
        ModelMeta(
            name="tiny",
            task="polarity",
            architecture=model.architecture,
            labels=list(model.classes_),
            hyperparameters=model.hyperparameters(),
        ),
    )


@pytest.fixture(scope="module", params=["linear", "cnn"])
def fitted(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    texts = [normalize(t) for t in TINY_TEXTS] * 2
    return _make(request.param).fit(texts, TINY_LABELS * 2)


def test_models_overfit_a_tiny_set(fitted) -> None:  # type: ignore[no-untyped-def]
    probs = fitted.predict_proba([normalize(t) for t in TINY_TEXTS])
    assert probs.shape == (len(TINY_TEXTS), 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    predicted = [fitted.classes_[i] for i in probs.argmax(axis=1)]
    assert predicted == TINY_LABELS


def test_models_save_and_reload_give_the_same_predictions(fitted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _save(fitted, tmp_path)
    meta, reloaded = load_classifier(tmp_path)
    assert meta.labels == list(fitted.classes_)
    texts = [normalize(t) for t in [*TINY_TEXTS, "完全没见过的句子"]]
    assert np.allclose(reloaded.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.pickle"))


def test_models_contract_fit_returns_self_and_learned_state_ends_in_underscore() -> None:
    model = HashedLinearClassifier(n_buckets=1 << 12)
    assert not [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert model.fit(["好", "坏"], ["positive", "negative"]) is model
    assert model.classes_ == ("negative", "positive")


@pytest.mark.parametrize("kind", ["linear", "cnn"])
def test_models_use_before_fit_raises_not_fitted(kind: str) -> None:
    model = _make(kind) if kind == "linear" else CharCNNClassifier()
    with pytest.raises(NotFittedError):
        model.predict_proba(["好"])


def test_models_ensemble_averages_log_probabilities(fitted) -> None:  # type: ignore[no-untyped-def]
    single = EnsembleClassifier([fitted], [1.0])
    texts = [normalize(t) for t in TINY_TEXTS]
    assert np.allclose(single.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)


def test_models_meta_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no meta\.json"):
        read_meta(tmp_path)
    (tmp_path / "meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read"):
        read_meta(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"name": "x"}), encoding="utf-8")
    with pytest.raises(ModelError, match="lacks the keys"):
        read_meta(tmp_path)


def _linear_meta(**fields: object) -> ModelMeta:
    values: dict[str, object] = {
        "name": "x",
        "task": "polarity",
        "architecture": "hashed-ngram-linear",
        "labels": ["a"],
        "hyperparameters": {},
    }
    return ModelMeta(**{**values, **fields})  # type: ignore[arg-type]


def test_models_meta_warns_about_another_version(tmp_path: Path) -> None:
    write_meta(tmp_path, _linear_meta(qinggan_version="9.9.0"))
    with pytest.warns(UserWarning, match="9.9.0"):
        read_meta(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_meta(tmp_path, _linear_meta())
        read_meta(tmp_path)


def test_models_missing_weights_is_a_model_error(tmp_path: Path) -> None:
    write_meta(tmp_path, _linear_meta(labels=["a", "b"], hyperparameters={"n_buckets": 16}))
    with pytest.raises(ModelError, match="cannot load"):
        load_classifier(tmp_path)
