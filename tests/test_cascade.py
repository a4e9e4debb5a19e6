"""The ensemble's cascade: sure texts answered by the first member alone, the others by the whole
ensemble; the threshold fitted on dev so no set loses accuracy; the shipped polarity model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qinggan.engine import default_model_dir
from qinggan.models.base import softmax
from qinggan.models.registry import Cascade, EnsembleClassifier, load_classifier
from qinggan.text import normalize
from qinggan.training.cascade import THRESHOLDS, fit_cascade
from qinggan.training.train import POLARITY_TASK

CLASSES = ("negative", "neutral", "positive")


class TableMember:
    """A member whose answer per text is given; it records which texts it was asked about."""

    def __init__(self, answers: dict[str, Sequence[float]]) -> None:
        self.answers = answers
        self.classes_ = CLASSES
        self.asked: list[str] = []

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        return np.array([self.answers[t] for t in texts], dtype=float)


def test_sure_texts_skip_the_other_members() -> None:
    cheap = TableMember({"sure": [0.01, 0.01, 0.98], "unsure": [0.5, 0.2, 0.3]})
    costly = TableMember({"sure": [0.9, 0.05, 0.05], "unsure": [0.1, 0.1, 0.8]})
    cascade = Cascade(threshold=0.95, temperature=2.0)
    ensemble = EnsembleClassifier([cheap, costly], [0.4, 0.6], 0.8, cascade)
    probs = ensemble.predict_proba(["sure", "unsure", "sure"])
    assert costly.asked == ["unsure"]
    assert np.allclose(probs[0], softmax(np.log([[0.01, 0.01, 0.98]]) / 2.0)[0])
    assert np.allclose(probs[0], probs[2])
    full = EnsembleClassifier([cheap, costly], [0.4, 0.6], 0.8).predict_proba(["unsure"])
    assert np.allclose(probs[1], full[0])
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert ensemble.hyperparameters()["cascade"]["threshold"] == 0.95
    assert (
        EnsembleClassifier([cheap, costly], [0.5, 0.5], 1.0, cascade.to_dict()).cascade == cascade
    )


@pytest.mark.parametrize(
    "bad", [{"threshold": 0.0, "temperature": 1.0}, {"threshold": 0.9, "temperature": -1.0}]
)
def test_a_cascade_needs_sane_numbers(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Cascade(**bad)


def _dev(seed: int, n: int, first_wrong_when_sure: float) -> tuple[dict, list]:
    """Gold labels and member log-probs of one dev set: the second member is always right; the
    first is sure on half the texts, and wrong on that share of them."""
    rng = np.random.default_rng(seed)
    gold = rng.choice(["negative", "positive"], size=n).tolist()
    first, second = np.full((n, 3), 0.1), np.full((n, 3), 0.05)
    for i, label in enumerate(gold):
        right = CLASSES.index(label)
        second[i, right] = 0.9
        wrong = 2 - right
        if i % 2 == 0:  # sure
            pick = wrong if rng.random() < first_wrong_when_sure else right
            first[i] = 0.005
            first[i, pick] = 0.99
        else:
            first[i, right] = 0.45
            first[i, wrong] = 0.45
    logp = [{"dev": np.log(first / first.sum(1, keepdims=True))}, {"dev": np.log(second)}]
    return {"dev": gold}, logp


def test_fit_picks_the_lowest_threshold_that_loses_nothing() -> None:
    gold, logp = _dev(0, 400, first_wrong_when_sure=0.0)
    fit = fit_cascade(POLARITY_TASK.score, gold, logp, [0.5, 0.5], 1.0, CLASSES)
    assert fit.cascade is not None and fit.cascade.threshold == THRESHOLDS[0]
    assert fit.skip_rates["dev"] == pytest.approx(0.5)
    assert fit.metrics["dev"]["accuracy"] == 1.0


def test_fit_refuses_a_first_member_that_is_sure_and_wrong() -> None:
    gold, logp = _dev(1, 400, first_wrong_when_sure=0.2)
    fit = fit_cascade(POLARITY_TASK.score, gold, logp, [0.3, 0.7], 1.0, CLASSES)
    assert fit.cascade is None and fit.metrics["dev"]["accuracy"] == 1.0
    assert all(line["worst_drop"] > 0.003 for line in fit.tried)


def test_the_shipped_polarity_model_answers_unsure_texts_with_the_whole_ensemble() -> None:
    _, model = load_classifier(default_model_dir("polarity"))
    assert isinstance(model, EnsembleClassifier) and model.cascade is not None
    texts = [
        normalize(t)
        for t in [
            "非常满意，下次还来",
            "太差了",
            "还行吧，就那样",
            "请问几点下班",
            "物流慢但东西不错",
            "东西收到了",
        ]
    ]
    cascaded, full = model.predict_proba(texts), model.ensemble_proba(texts)
    first = model.members[0].predict_proba(texts).max(axis=1)
    unsure = first < model.cascade.threshold
    assert unsure.any() and (~unsure).any()
    assert np.allclose(cascaded[unsure], full[unsure])
    # where the first member is sure, the label is the ensemble's on these clear texts
    assert (cascaded.argmax(1) == full.argmax(1)).all()


def test_training_an_ensemble_fits_and_ships_its_cascade(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from qinggan.training.recipe import recipe_from_files
    from qinggan.training.train import train_model

    rows = []
    for i in range(40):
        rows.append(f"这个产品太棒了，非常满意{i},positive")
        rows.append(f"这个产品太烂了，非常失望{i},negative")
    train, dev = tmp_path / "train.csv", tmp_path / "mine.csv"
    train.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dev.write_text("text,label\n" + "\n".join(rows[::4]) + "\n", encoding="utf-8")
    model = {
        "components": [
            {"architecture": "hashed-ngram-linear", "n_buckets": 1 << 14, "epochs": 20},
            {"architecture": "unit-cnn-onnx", "embedding_dim": 8, "filters": 8, "epochs": 3,
             "vocab_size": 200, "batch_size": 16},
        ]
    }  # fmt: skip
    recipe = recipe_from_files("tiny", ("negative", "positive"), [train], [dev], model)
    report = train_model(POLARITY_TASK, recipe, tmp_path / "model")
    cascade = report.meta.hyperparameters["cascade"]
    assert cascade["threshold"] in THRESHOLDS and cascade["temperature"] > 0
    assert 0.0 < report.meta.metrics["mine"]["cascade_skip_rate"] <= 1.0
    _, loaded = load_classifier(tmp_path / "model")
    assert loaded.cascade == Cascade(**cascade)
    texts = [normalize("太棒了，非常满意"), normalize("太烂了，非常失望")]
    assert [loaded.classes_[i] for i in loaded.predict_proba(texts).argmax(1)] == [
        "positive",
        "negative",
    ]
