"""Issue 12, part 7: does the new data pay? Score polarity and emotion models on the same dev
sets: every dev set of the current recipes (public corpora, our labelled and written dev parts)
and the behavioural suite per capability, so an old and a new model compare row by row.

    python scripts/data/quick_check.py --polarity OLD_DIR NEW_DIR --emotion OLD_DIR NEW_DIR \
        --names old new --json out.json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import qinggan
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS
from qinggan.training.corpora import Example
from qinggan.training.evaluate import evaluate_emotion, evaluate_polarity
from qinggan.training.recipe import load_data, load_recipe

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "benchmarks" / "suite"
POLARITY = tuple(label.value for label in POLARITY_LABELS)
EMOTIONS = tuple(label.value for label in EMOTION8_LABELS)


def suite(name: str, key: str) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = defaultdict(list)
    for line in (SUITE / f"{name}.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        groups[f"suite/{row[key]}"].append(Example(row["text"], row["label"]))
        groups["suite/all"].append(Example(row["text"], row["label"]))
    return dict(groups)


def suite_accuracy(analyzer: qinggan.Analyzer, examples: list[Example], emotion: bool) -> float:
    texts = [ex.text for ex in examples]
    if emotion:
        pred = [r.label.value for r in analyzer.emotions_batch(texts, classes=8)]
    else:
        pred = [r.label.value for r in analyzer.analyze_batch(texts)]
    return sum(p == ex.label for p, ex in zip(pred, examples, strict=True)) / len(examples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polarity", nargs="+", type=Path, default=[])
    parser.add_argument("--emotion", nargs="+", type=Path, default=[])
    parser.add_argument("--names", nargs="+", required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out: dict[str, dict[str, dict[str, float]]] = {}
    if args.polarity:
        dev = load_data(load_recipe(REPO / "configs/polarity.toml", POLARITY)).dev
        table: dict[str, dict[str, float]] = defaultdict(dict)
        for name, model in zip(args.names, args.polarity, strict=True):
            analyzer = qinggan.Analyzer(model_dir=model)
            for ds, examples in dev.items():
                m = evaluate_polarity(analyzer, examples)
                table[f"{ds} ({m['protocol']}, n={m['n']})"][name] = round(m["accuracy"], 4)
                if m["protocol"] == "three-class" and len({e.label for e in examples}) > 1:
                    table[f"{ds} macro-F1"][name] = round(m["macro_f1"], 4)
            for group, examples in suite("polarity", "capability").items():
                table[f"{group} (n={len(examples)})"][name] = round(
                    suite_accuracy(analyzer, examples, emotion=False), 4
                )
        out["polarity"] = dict(table)
    if args.emotion:
        recipe = load_recipe(REPO / "configs/emotion.toml", EMOTIONS)
        dev = load_data(recipe).dev
        table = defaultdict(dict)
        for name, model in zip(args.names, args.emotion, strict=True):
            analyzer = qinggan.Analyzer(emotion_model=model)
            for ds, examples in dev.items():
                m = evaluate_emotion(analyzer, examples, classes=8)
                key = f"{ds} (n={m['n']})"
                table[f"{key} accuracy"][name] = round(m["accuracy"], 4)
                table[f"{key} macro-F1"][name] = round(m["macro_f1"], 4)
            for group, examples in suite("emotion", "label").items():
                table[f"{group} (n={len(examples)})"][name] = round(
                    suite_accuracy(analyzer, examples, emotion=True), 4
                )
        out["emotion"] = dict(table)
    for task, rows in out.items():
        print(f"\n| {task} dev set | " + " | ".join(args.names) + " |")
        print("|---|" + "---:|" * len(args.names))
        for row, vals in rows.items():
            print(
                f"| {row} | "
                + " | ".join(f"{vals.get(n, float('nan')):.4f}" for n in args.names)
                + " |"
            )
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
