"""Score two sets of shipped models (old and new) on every dev set of the current recipes.

Usage (after retraining; the old models from git):
    mkdir -p runs/old_models
    git archive <commit> src/qinggan/resources/models | tar -x -C runs/old_models
    python scripts/compare_models.py --old runs/old_models/src/qinggan/resources/models \
        --new src/qinggan/resources/models --json benchmarks/results/models_old_vs_new.json

Prints one markdown table per task: each dev set (the current recipe's, so the old model is also
scored on the dev parts of our hand-labelled and written corpora, which it never saw) with the old
shipped model, the new model's linear member, its shared-encoder head and the new shipped ensemble.
Reads ../shared/data through the recipes: a development script, not part of the package.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS, TalkLevel2
from qinggan.models.registry import EnsembleClassifier, load_classifier
from qinggan.text import normalize
from qinggan.training.recipe import load_data, load_recipe
from qinggan.training.train import POLARITY_TASK, TaskSpec, classes_task, headline_metrics

ROOT = Path(__file__).resolve().parent.parent
TASKS: dict[str, tuple[TaskSpec, Path]] = {
    "polarity": (POLARITY_TASK, ROOT / "configs" / "polarity.toml"),
    "emotion": (
        classes_task("emotion", [e.value for e in EMOTION8_LABELS]),
        ROOT / "configs" / "emotion.toml",
    ),
    "talk_emotion": (
        classes_task("talk_emotion", [t.value for t in TalkLevel2]),
        ROOT / "configs" / "talk_emotion.toml",
    ),
}
LABELS = {
    "polarity": tuple(p.value for p in POLARITY_LABELS),
    "emotion": tuple(e.value for e in EMOTION8_LABELS),
    "talk_emotion": tuple(t.value for t in TalkLevel2),
}


def _score(task: TaskSpec, model: Any, texts: list[str], gold: list[str]) -> dict[str, Any]:
    return headline_metrics(task.score(gold, model.predict_proba(texts), tuple(model.classes_)))


def compare(old: Path, new: Path) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, (task, config) in TASKS.items():
        data = load_data(load_recipe(config, LABELS[name]))
        _, old_model = load_classifier(old / name)
        _, new_model = load_classifier(new / name)
        members = new_model.members if isinstance(new_model, EnsembleClassifier) else [new_model]
        table: dict[str, dict[str, Any]] = {}
        for dev, examples in data.dev.items():
            texts = [normalize(ex.text) for ex in examples]
            gold = [ex.label for ex in examples]
            row = {"old": _score(task, old_model, texts, gold)}
            for member in members:
                row[member.architecture] = _score(task, member, texts, gold)
            row["new"] = _score(task, new_model, texts, gold)
            table[dev] = row
        out[name] = table
    return out


def markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = []
    for name, table in results.items():
        lines += [
            f"### {name}",
            "",
            "| dev set | n | old shipped | new: linear | new: shared head | **new shipped** "
            "| new - old |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for dev, row in table.items():
            metric = "macro_f1" if row["old"].get("protocol") == "three-class" else "accuracy"
            if name != "polarity":
                metric = "macro_f1"

            def cell(key: str, row: dict[str, Any] = row, metric: str = metric) -> str:
                return f"{row[key][metric]:.3f}" if key in row else "-"

            lines.append(
                f"| {dev} ({metric.replace('_', '-')}) | {row['new']['n']} | {cell('old')} | "
                f"{cell('hashed-ngram-linear')} | {cell('shared-encoder-head')} | "
                f"**{cell('new')}** | {row['new'][metric] - row['old'][metric]:+.3f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = compare(args.old, args.new)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
