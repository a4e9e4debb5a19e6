"""Markdown tables of corpora/labelled and corpora/written for the datasheet (corpora/README.md).

python scripts/data/corpus_stats.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLARITY = ("positive", "negative", "neutral")
EMOTIONS = ("other", "anxiety", "anger", "happy", "lost", "sad", "fear", "satiric")


def rows(folder: str, split: str) -> list[dict]:
    path = REPO / "corpora" / folder / f"{split}.jsonl"
    return [json.loads(x) for x in path.open(encoding="utf-8")] if path.is_file() else []


def table(header: list[str], body: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def by_split(folder: str, splits: tuple[str, ...]) -> None:
    body = []
    for split in splits:
        r = rows(folder, split)
        pol = Counter(x["polarity"] for x in r)
        emo = Counter(x.get("emotion") for x in r)
        body.append(
            [split, len(r)]
            + [pol[p] for p in POLARITY]
            + [sum(v for k, v in emo.items() if k)]
            + [emo[e] for e in EMOTIONS]
        )
    print(table(["split", "rows", *POLARITY, "with emotion", *EMOTIONS], body))
    print()


def by_field(folder: str, splits: tuple[str, ...], field: str) -> None:
    r = [x for s in splits for x in rows(folder, s)]
    counts: dict[str, Counter] = {}
    for x in r:
        counts.setdefault(str(x.get(field)), Counter())[x["polarity"]] += 1
    body = [
        [k, sum(c.values()), *(c[p] for p in POLARITY)]
        for k, c in sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    print(table([field, "rows", *POLARITY], body))
    print()


if __name__ == "__main__":
    print("### labelled\n")
    by_split("labelled", ("train", "dev", "test"))
    by_field("labelled", ("train", "dev", "test"), "source")
    by_field("labelled", ("train", "dev", "test"), "selected_by")
    print("### written\n")
    by_split("written", ("train", "dev"))
    by_field("written", ("train", "dev"), "capability")
