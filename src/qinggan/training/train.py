"""Train a polarity model from a recipe and write a complete model directory.

Steps: read the recipe's corpora (:mod:`qinggan.training.recipe`), normalise the texts, fit each
component (linear, CNN or both), pick the ensemble weight and the temperature on the dev sets
(temperature: the one scalar that minimises dev log-loss, so probabilities are calibrated), score
every dev set, and write ``meta.json`` with those metrics plus a short model card.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.labels import POLARITY_LABELS, Polarity
from qinggan.models.base import log_proba, softmax
from qinggan.models.io import ModelMeta, write_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.models.neural import CharCNNClassifier
from qinggan.models.registry import EnsembleClassifier
from qinggan.models.shared import SharedEncoderHead
from qinggan.text import normalize
from qinggan.training.cascade import fit_cascade, fit_temperature, weighted_log_probs
from qinggan.training.evaluate import score_polarity
from qinggan.training.metrics import classification_metrics
from qinggan.training.recipe import Recipe, TrainingData, load_data

logger = logging.getLogger("qinggan")

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as training advances."""


@dataclass
class TrainReport:
    output: Path
    n_train: int
    metrics: dict[str, dict[str, Any]]
    meta: ModelMeta


def _in_polarity_order(probabilities: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Columns rearranged to ``POLARITY_LABELS``; a class the model lacks gets probability 0."""
    out = np.zeros((len(probabilities), len(POLARITY_LABELS)))
    for column, label in enumerate(classes):
        out[:, POLARITY_LABELS.index(Polarity(label))] = probabilities[:, column]
    return out


def fit_member(
    spec: dict[str, Any],
    texts: Sequence[str],
    labels: Sequence[str],
    weights: Sequence[float],
    fingerprint: str,
    cache: Path | None = None,
    pretrained: dict[str, np.ndarray] | None = None,
) -> Any:
    """Fit one member from its spec, or load it from ``cache`` when the same spec was fitted on
    the same data (same fingerprint) before."""
    member = build_member(spec)
    folder = None
    if cache is not None:
        # the ensemble weight is not the member's: members differing only in it are one fit
        fitted = {k: v for k, v in spec.items() if k != "weight"}
        key = json.dumps({"spec": fitted, "data": fingerprint, "n": len(texts)}, sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        folder = cache / f"{member.architecture}-{digest}"
        if (folder / "done").is_file():
            logger.info("reusing %s from %s", member.architecture, folder)
            hyper = member.hyperparameters()
            if isinstance(member, CharCNNClassifier):
                return CharCNNClassifier.load(folder, hyper, read_classes(folder))
            return HashedLinearClassifier.load(folder, hyper)
    if isinstance(member, CharCNNClassifier):
        member.fit(texts, labels, weights, pretrained=pretrained)
    else:
        member.fit(texts, labels, weights)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        member.save(folder)
        (folder / "classes.json").write_text(json.dumps(list(member.classes_)), encoding="utf-8")
        (folder / "done").write_text(key, encoding="utf-8")
    return member


def read_classes(folder: Path) -> list[str]:
    return list(json.loads((folder / "classes.json").read_text(encoding="utf-8")))


def build_member(spec: dict[str, Any]) -> Any:
    params = {k: v for k, v in spec.items() if k not in {"architecture", "weight"}}
    architecture = spec.get("architecture", HashedLinearClassifier.architecture)
    if architecture == HashedLinearClassifier.architecture:
        return HashedLinearClassifier(**params)
    if architecture == CharCNNClassifier.architecture:
        if "widths" in params:
            params["widths"] = tuple(params["widths"])
        return CharCNNClassifier(**params)
    raise ValueError(
        f"unknown architecture {architecture!r}; expected hashed-ngram-linear or unit-cnn-onnx"
    )


@dataclass(frozen=True)
class TaskSpec:
    """What is trained: its name in meta.json, its labels, and how a dev set is scored."""

    name: str
    labels: tuple[str, ...]
    score: Callable[[Sequence[str], np.ndarray, tuple[str, ...]], dict[str, Any]]


def _score_polarity(
    gold: Sequence[str], probabilities: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    return score_polarity(gold, _in_polarity_order(probabilities, classes))


def _score_classes(
    gold: Sequence[str], probabilities: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    """Top label against gold; macro-F1 over the labels that occur in gold."""
    pred = [classes[i] for i in probabilities.argmax(axis=1)]
    return classification_metrics(gold, pred, labels=sorted(set(gold)))


POLARITY_TASK = TaskSpec(
    "polarity", tuple(label.value for label in POLARITY_LABELS), _score_polarity
)


def classes_task(name: str, labels: Sequence[str]) -> TaskSpec:
    """A task scored by the top label (emotions, dialogue level 2)."""
    return TaskSpec(name, tuple(labels), _score_classes)


def train_polarity(recipe: Recipe, output: Path, **options: Any) -> TrainReport:
    """Fit the recipe's polarity model, calibrate and score it on dev, save it to ``output``."""
    return train_model(POLARITY_TASK, recipe, output, **options)


def train_model(
    task: TaskSpec,
    recipe: Recipe,
    output: Path,
    *,
    data: TrainingData | None = None,
    pretrained: dict[str, np.ndarray] | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
) -> TrainReport:
    """Fit the recipe's model, calibrate and score it on dev, save it to ``output``.

    ``cache`` keeps fitted members keyed by their spec and the training data's fingerprint, so a
    member another run (the shared encoder's teacher) already fitted on the same rows is reused.
    """
    data = data or load_data(recipe)
    if not data.train:
        raise ValueError("no training examples: check the data files and their labels")
    texts = [normalize(ex.text) for ex in data.train]
    labels = [ex.label for ex in data.train]
    weights = [ex.weight for ex in data.train]
    specs = recipe.model.get("components") or [recipe.model]
    if pretrained is None and recipe.pretrain and recipe.data_root is not None:
        if progress:
            progress("pretraining unit vectors", 0, len(specs))
        from qinggan.training.embeddings import corpus_texts, pretrain_unit_vectors

        pretrained = pretrain_unit_vectors(
            corpus_texts(recipe.data_root), seed=recipe.seed, **recipe.pretrain
        )
    members = []
    for number, spec in enumerate(specs, start=1):
        if progress:
            progress(
                f"fitting {spec.get('architecture', 'hashed-ngram-linear')}", number - 1, len(specs)
            )
        full_spec = {"seed": recipe.seed, **spec}
        if full_spec.get("architecture") == SharedEncoderHead.architecture:
            members.append(SharedEncoderHead.beside(output, full_spec))
            continue
        members.append(
            fit_member(
                full_spec, texts, labels, weights, data.fingerprint, cache, pretrained=pretrained
            )
        )
    if progress:
        progress("scoring dev", len(specs), len(specs))

    classes = tuple(members[0].classes_)
    dev_texts = {
        name: [normalize(ex.text) for ex in examples] for name, examples in data.dev.items()
    }
    member_logp = [{name: log_proba(m, t) for name, t in dev_texts.items()} for m in members]
    component_metrics = [
        {name: headline_metrics(_score(task, data, name, lp[name], classes)) for name in data.dev}
        for lp in member_logp
    ]
    weights_ = _ensemble_weights(task, data, member_logp, classes, specs)
    combined = {name: weighted_log_probs(name, weights_, member_logp) for name in dev_texts}
    temperature = 1.0
    if data.dev:
        index = {label: i for i, label in enumerate(classes)}
        all_logp = np.vstack([combined[name] for name in data.dev])
        gold = np.array(
            [
                index[ex.label]
                for examples in data.dev.values()
                for ex in examples
                if ex.label in index
            ]
        )
        if len(gold) == len(all_logp):
            temperature = fit_temperature(all_logp, gold)

    metrics = {
        name: _score(task, data, name, combined[name] / temperature, classes) for name in data.dev
    }
    cascade = None
    if len(members) > 1 and data.dev:
        gold_labels = {name: [ex.label for ex in examples] for name, examples in data.dev.items()}
        fit = fit_cascade(task.score, gold_labels, member_logp, weights_, temperature, classes)
        cascade, metrics = fit.cascade, fit.metrics
        for name, rate in fit.skip_rates.items():
            metrics[name]["cascade_skip_rate"] = rate
        logger.info("cascade: %s (tried %s)", cascade, fit.tried)

    output.mkdir(parents=True, exist_ok=True)
    for member in members:
        member.save(output)
    if len(members) == 1:
        member = members[0]
        member.temperature = temperature * getattr(member, "temperature", 1.0)
        architecture, hyper, components = member.architecture, member.hyperparameters(), []
    else:
        ensemble = EnsembleClassifier(members, weights_, temperature, cascade)
        architecture, hyper = ensemble.architecture, ensemble.hyperparameters()
        components = [
            {
                "architecture": m.architecture,
                "weight": w,
                "hyperparameters": m.hyperparameters(),
                "metrics": cm,
            }
            for m, w, cm in zip(members, weights_, component_metrics, strict=True)
        ]
    meta = ModelMeta(
        name=recipe.name,
        task=task.name,
        architecture=architecture,
        labels=list(classes),
        hyperparameters=hyper,
        components=components,
        metrics={name: headline_metrics(m) for name, m in metrics.items()},
        training_data={
            "fingerprint": data.fingerprint,
            "rows": len(texts),
            "sources": data.sources,
        },
    )
    write_meta(output, meta)
    (output / "MODEL_CARD.md").write_text(model_card(meta), encoding="utf-8")
    return TrainReport(output=output, n_train=len(texts), metrics=metrics, meta=meta)


def _score(
    task: TaskSpec, data: TrainingData, name: str, scores: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    return task.score([ex.label for ex in data.dev[name]], softmax(scores), classes)


def _ensemble_weights(
    task: TaskSpec,
    data: TrainingData,
    member_logp: list[dict[str, np.ndarray]],
    classes: tuple[str, ...],
    specs: list[dict[str, Any]],
) -> list[float]:
    """Weights as the recipe gives them, or for two members without weights the share (in steps of
    0.1) that maximises the mean dev accuracy over the dev sets."""
    if len(member_logp) != 2 or any("weight" in spec for spec in specs) or not data.dev:
        return [float(spec.get("weight", 1.0)) for spec in specs]
    best, best_score = [0.5, 0.5], -1.0
    for share in np.linspace(0.0, 1.0, 11):
        w = [1.0 - float(share), float(share)]
        score = np.mean(
            [
                _score(
                    task,
                    data,
                    name,
                    w[0] * member_logp[0][name] + w[1] * member_logp[1][name],
                    classes,
                )["accuracy"]
                for name in data.dev
            ]
        )
        if score > best_score + 1e-9:
            best, best_score = w, float(score)
    return best


def headline_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("protocol", "n", "accuracy", "macro_f1", "neutral_rate", "cascade_skip_rate")
    return {
        k: round(v, 4) if isinstance(v, float) else v
        for k, v in metrics.items()
        if k in keys or k.startswith("f1_")
    }


def model_card(meta: ModelMeta) -> str:
    data = meta.training_data
    lines = [
        f"# Model card: {meta.name}",
        "",
        f"- task: {meta.task}; architecture: {meta.architecture}; labels: {', '.join(meta.labels)}",
        f"- built by qinggan {meta.qinggan_version} on {meta.created_at}",
        f"- training rows: {data.get('rows')} (fingerprint {data.get('fingerprint')})",
        "",
        "## Held-out dev metrics",
        "",
        "| dev set | protocol | n | accuracy | macro-F1 | neutral rate |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, m in meta.metrics.items():
        neutral = f"{m['neutral_rate']:.3f}" if "neutral_rate" in m else "-"
        lines.append(
            f"| {name} | {m.get('protocol', 'top label')} | {m['n']} | {m['accuracy']:.4f} "
            f"| {m['macro_f1']:.4f} | {neutral} |"
        )
    lines += ["", "## Training sources", ""]
    lines += [
        f"- {s['path']}: {s['rows']} rows, weight {s['weight']}"
        for s in meta.training_data.get("sources", [])
    ]
    return "\n".join(lines) + "\n"
