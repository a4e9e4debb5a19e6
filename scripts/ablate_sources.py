"""What each group of training sources adds: the recipe's linear member refitted without it.

Usage:
    python scripts/ablate_sources.py polarity --json benchmarks/results/ablation_polarity.json
    python scripts/ablate_sources.py emotion --json benchmarks/results/ablation_emotion.json

For each group (public gold sets, our hand-labelled texts, our written items, weak neutral sets,
emotion corpora mapped to polarity, distant reviews and posts, ...) the task's recipe is loaded,
the group's sources removed, and the recipe's linear member (the cheap member, about a minute on
one core) fitted and scored on every dev set of the full recipe; the first row is the full recipe,
the others the difference. Prints a markdown table (accuracy; macro-F1 for 3-class sets).
Reads ../shared/data through the recipes: a development script.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS
from qinggan.text import normalize
from qinggan.training.recipe import Recipe, Source, load_data, load_recipe
from qinggan.training.train import (
    POLARITY_TASK,
    TaskSpec,
    build_member,
    classes_task,
    headline_metrics,
)

ROOT = Path(__file__).resolve().parent.parent

Group = Callable[[Source], bool]

POLARITY_GROUPS: dict[str, Group] = {
    "hand-labelled texts (corpora/labelled)": lambda s: "corpora/labelled" in str(s.path),
    "written items (corpora/written)": lambda s: "corpora/written" in str(s.path),
    "customer-service set (corpora/customer_service_emotion)": lambda s: (
        "customer_service" in str(s.path)
    ),
    "weak neutral sets (AFQMC queries, TNEWS headlines)": lambda s: (
        "/neutral/" in str(s.path) or "tnews" in str(s.path)
    ),
    "emotion corpora mapped to polarity": lambda s: "/emotion/" in str(s.path),
    "distant reviews and posts (star ratings, emoticons)": lambda s: (
        "/distant/" in str(s.path) and "tnews" not in str(s.path)
    ),
}
EMOTION_GROUPS: dict[str, Group] = {
    "hand-labelled texts (corpora/labelled)": lambda s: "corpora/labelled" in str(s.path),
    "written items (corpora/written)": lambda s: "corpora/written" in str(s.path),
    "customer-service set (corpora/customer_service_emotion)": lambda s: (
        "customer_service" in str(s.path)
    ),
    "sarcasm corpora (ToSarcasm, CCAC)": lambda s: "/sarcasm/" in str(s.path),
    "CPED dialogue utterances": lambda s: "cped" in str(s.path),
}
TASKS: dict[str, tuple[TaskSpec, tuple[str, ...], dict[str, Group]]] = {
    "polarity": (POLARITY_TASK, tuple(p.value for p in POLARITY_LABELS), POLARITY_GROUPS),
    "emotion": (
        classes_task("emotion", [e.value for e in EMOTION8_LABELS]),
        tuple(e.value for e in EMOTION8_LABELS),
        EMOTION_GROUPS,
    ),
}


def _fit_and_score(
    task: TaskSpec, recipe: Recipe, dev: dict[str, tuple[list[str], list[str]]]
) -> dict[str, dict[str, Any]]:
    data = load_data(recipe)
    spec = {"seed": recipe.seed, **recipe.model["components"][0]}
    member = build_member(spec).fit(
        [normalize(ex.text) for ex in data.train],
        [ex.label for ex in data.train],
        [ex.weight for ex in data.train],
    )
    return {
        name: headline_metrics(task.score(gold, member.predict_proba(texts), member.classes_))
        for name, (texts, gold) in dev.items()
    }


def ablate(name: str) -> dict[str, Any]:
    task, labels, groups = TASKS[name]
    recipe = load_recipe(ROOT / "configs" / f"{name}.toml", labels)
    full = load_data(recipe)
    # every run is scored on the full recipe's dev sets (a dropped holdout source keeps its dev)
    dev = {
        dev_name: ([normalize(ex.text) for ex in rows], [ex.label for ex in rows])
        for dev_name, rows in full.dev.items()
    }
    runs: dict[str, Any] = {"full recipe": _fit_and_score(task, recipe, dev)}
    for group, belongs in groups.items():
        kept = [s for s in recipe.sources if not belongs(s)]
        if len(kept) == len(recipe.sources):
            continue
        runs[f"without {group}"] = _fit_and_score(
            task, dataclasses.replace(recipe, sources=kept), dev
        )
    return runs


def markdown(runs: dict[str, Any]) -> str:
    full = runs["full recipe"]
    names = list(full)
    lines = [
        "| training data | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for run, scores in runs.items():
        cells = []
        for dev in names:
            # macro-F1 for 3-class sets with several gold classes; a one-class set (all neutral
            # headlines) has macro-F1 <= 1/3 whatever the model does, so accuracy it is
            several = full[dev].get("protocol") == "three-class" and full[dev]["macro_f1"] > 0.34
            metric = "macro_f1" if several else "accuracy"
            value = scores[dev][metric]
            cells.append(
                f"{value:.3f}" if run == "full recipe" else f"{value - full[dev][metric]:+.3f}"
            )
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--from-json", type=Path, help="print the table of an earlier run")
    args = parser.parse_args()
    if args.from_json:
        print(markdown(json.loads(args.from_json.read_text(encoding="utf-8"))))
        return
    runs = ablate(args.task)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(markdown(runs))


if __name__ == "__main__":
    main()
