"""Fit the cascade of a trained ensemble on its recipe's dev sets and write it into meta.json.

    python scripts/fit_cascade.py polarity               # the shipped polarity model
    python scripts/fit_cascade.py emotion --dry-run      # print the thresholds tried, write nothing
    python scripts/fit_cascade.py polarity --model DIR --config configs/polarity.toml

`qinggan train` fits the cascade itself (qinggan.training.cascade); this script adds one to a
model trained before the cascade existed, without retraining it: it scores the dev sets of the
recipe with every member, tries the thresholds, and rewrites meta.json (the cascade, the dev
metrics the model now answers with, each set's share answered by the first member) and the
model card. The weights are untouched.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from qinggan.models.base import log_proba
from qinggan.models.io import read_meta, write_meta
from qinggan.models.registry import EnsembleClassifier, load_classifier
from qinggan.text import normalize
from qinggan.training.cascade import fit_cascade
from qinggan.training.recipe import load_data, load_recipe
from qinggan.training.train import POLARITY_TASK, classes_task, headline_metrics, model_card

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "src" / "qinggan" / "resources" / "models"
SLOTS = {"polarity": "polarity", "emotion": "emotion", "talk-emotion": "talk_emotion"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=sorted(SLOTS))
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--config", type=Path, help="recipe (default: configs/<slot>.toml)")
    parser.add_argument("--dry-run", action="store_true", help="print only")
    args = parser.parse_args(argv)
    slot = SLOTS[args.task]
    model = args.model or MODELS / slot
    meta = read_meta(model)
    _, ensemble = load_classifier(model)
    if not isinstance(ensemble, EnsembleClassifier):
        print(f"{model} is not an ensemble: nothing to cascade", file=sys.stderr)
        return 1
    recipe = load_recipe(args.config or ROOT / "configs" / f"{slot}.toml", tuple(meta.labels))
    data = load_data(recipe)
    task = POLARITY_TASK if args.task == "polarity" else classes_task(meta.task, meta.labels)
    texts = {name: [normalize(ex.text) for ex in rows] for name, rows in data.dev.items()}
    gold = {name: [ex.label for ex in rows] for name, rows in data.dev.items()}
    member_logp = [{name: log_proba(m, t) for name, t in texts.items()} for m in ensemble.members]
    classes = tuple(ensemble.classes_)
    fit = fit_cascade(
        task.score, gold, member_logp, ensemble.weights, ensemble.temperature, classes
    )
    for line in fit.tried:
        print(line)
    print(f"chosen: {fit.cascade}")
    for name, metrics in fit.metrics.items():
        before = meta.metrics.get(name, {})
        print(
            f"  {name}: accuracy {before.get('accuracy')} -> {metrics['accuracy']:.4f}, "
            f"macro-F1 {before.get('macro_f1')} -> {metrics['macro_f1']:.4f}, "
            f"answered by the first member {fit.skip_rates.get(name, 0.0):.1%}"
        )
    if args.dry_run or fit.cascade is None:
        return 0
    metrics = {}
    for name, values in fit.metrics.items():
        metrics[name] = headline_metrics({**values, "cascade_skip_rate": fit.skip_rates[name]})
    hyper = {**meta.hyperparameters, "cascade": fit.cascade.to_dict()}
    updated = dataclasses.replace(meta, hyperparameters=hyper, metrics=metrics)
    write_meta(model, updated)
    (model / "MODEL_CARD.md").write_text(model_card(updated), encoding="utf-8")
    print(f"wrote {model / 'meta.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
