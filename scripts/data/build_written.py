"""Check and merge the written items into corpora/written/{train,dev}.jsonl.

Every item is validated against the guideline label sets; exact duplicates, near-duplicates of
another written item (character 4-gram Jaccard >= 0.6, the later one dropped) and items close
to the behavioural suite (>= 0.5: the suite must stay unseen) are dropped, and the overlap
statistics are printed for the datasheet. 10% of the items, drawn per item with a fixed seed,
form the dev part.

    python scripts/data/build_written.py --written-dir /tmp/written
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from near_duplicates import max_overlap, near_duplicate_pairs

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "corpora" / "written"
SUITE = REPO / "benchmarks" / "suite"
POLARITY = {"positive", "negative", "neutral"}
EMOTIONS = {"other", "anxiety", "anger", "happy", "lost", "sad", "fear", "satiric"}
SCENES = {"customer_service", "task", "talk", "default"}
LEVEL1 = {"optimistic", "neutral", "pessimistic"}
LEVEL2 = {
    "customer_service": {"thankful", "happy", "complaining", "angry"},
    "task": {"thankful", "happy", "complaining", "angry"},
    "talk": {"like", "happy", "angry", "disgusting", "fearful", "sad"},
    "default": {"like", "happy", "angry", "disgusting", "fearful", "sad"},
}
DEV_SHARE = 0.1
SEED = 20261206


def valid(row: dict) -> str | None:
    """None when the row follows the format, else what is wrong."""
    if not isinstance(row.get("text"), str) or not row["text"].strip():
        return "no text"
    if row.get("polarity") not in POLARITY:
        return f"polarity {row.get('polarity')!r}"
    if row.get("emotion") is not None and row["emotion"] not in EMOTIONS:
        return f"emotion {row['emotion']!r}"
    if row.get("intensity") is not None and (
        row.get("emotion") not in {"anger", "anxiety"} or row["intensity"] not in {1, 2, 3}
    ):
        row["intensity"] = None
    if row.get("scene") is not None:
        if row["scene"] not in SCENES or row.get("level1") not in LEVEL1:
            return f"scene/level1 {row.get('scene')!r}/{row.get('level1')!r}"
        level2 = row.get("level2")
        if (row["level1"] == "neutral") != (level2 is None):
            return "level2 must be null exactly when level1 is neutral"
        if level2 is not None and level2 not in LEVEL2[row["scene"]]:
            return f"level2 {level2!r} not in scene {row['scene']}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--written-dir", type=Path, required=True)
    args = parser.parse_args()
    rows: list[dict] = []
    bad = Counter()
    for path in sorted(args.written_dir.glob("*/*.jsonl")):
        writer = path.parent.name
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                bad[f"{path.name}:{n} not JSON"] += 1
                continue
            problem = valid(row)
            if problem:
                bad[problem] += 1
                continue
            row["text"] = " ".join(row["text"].split())
            row["writer"] = writer
            rows.append(row)
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = "".join(row["text"].split()).lower()
        if key not in seen:
            seen.add(key)
            unique.append(row)
    texts = [r["text"] for r in unique]
    pairs = near_duplicate_pairs(texts, threshold=0.6)
    drop = {j for _, j, _ in pairs}
    suite = [json.loads(x)["text"] for f in SUITE.glob("*.jsonl") for x in f.open(encoding="utf-8")]
    to_suite = max_overlap(texts, suite)
    drop |= {i for i, v in enumerate(to_suite) if v >= 0.5}
    kept = [r for i, r in enumerate(unique) if i not in drop]
    kept_texts = [r["text"] for r in kept]
    loose = near_duplicate_pairs(kept_texts, threshold=0.3)
    with_loose = {i for p in loose for i in p[:2]}
    OUT.mkdir(parents=True, exist_ok=True)
    for n, row in enumerate(kept):
        row["id"] = f"w{n:05d}"
    for split in ("train", "dev"):
        part = [
            r
            for r in kept
            if (random.Random(f"{SEED}:{r['text']}").random() < DEV_SHARE) == (split == "dev")
        ]
        with (OUT / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            for r in part:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{split}: {len(part)}")
    print(f"read {len(rows)}, invalid {sum(bad.values())} {dict(bad.most_common(5))}")
    print(f"exact duplicates dropped {len(rows) - len(unique)}")
    print(f"near-duplicates (4-gram Jaccard >= 0.6) dropped {len({j for _, j, _ in pairs})}")
    print(f"close to the suite (>= 0.5) dropped {sum(v >= 0.5 for v in to_suite)}")
    print(
        f"kept {len(kept)}; pairs with Jaccard >= 0.3 among them: {len(loose)}, touching "
        f"{len(with_loose)} items ({len(with_loose) / max(1, len(kept)):.1%})"
    )
    print("capabilities", dict(Counter(r.get("capability") for r in kept).most_common()))
    print("polarity", dict(Counter(r["polarity"] for r in kept)))
    print("emotion", dict(Counter(r.get("emotion") for r in kept)))
    print(
        "domains",
        len({r.get("domain") for r in kept}),
        "platforms",
        len({r.get("platform") for r in kept}),
    )


if __name__ == "__main__":
    main()
