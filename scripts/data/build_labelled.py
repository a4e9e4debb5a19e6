"""Merge the hand labels of the labelling batches into corpora/labelled/{train,test}.jsonl.

The batches come from scripts/data/select_for_labelling.py (items.jsonl + sliceK/batch_NNN.tsv);
each annotator wrote sliceK/out_NNN.tsv (id, polarity, emotion, intensity) after reading every
item. A line whose id does not match its batch line, or whose label is not in the guidelines'
sets, stops the build: nothing is guessed. Items marked skip are counted, not kept. 10% of
the kept items, drawn at random per item with a fixed seed, form the test part that no training
or tuning ever reads; of the rest, another seeded draw per item gives a 10% dev part for tuning (the
project's crc32 dev rule cannot serve: the selection left out every text it puts in dev), and
the remainder trains.

    python scripts/data/build_labelled.py --label-dir /tmp/label_pool
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "corpora" / "labelled"
POLARITY = {"pos": "positive", "neg": "negative", "neu": "neutral"}
EMOTIONS = {"other", "anxiety", "anger", "happy", "lost", "sad", "fear", "satiric"}
TEST_SHARE = 0.1
DEV_SHARE = 0.1  # of the items outside test
SEED = 20261206


def read_batch(path: Path) -> list[str]:
    return [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]


def parse_out(path: Path, ids: list[str]) -> list[dict]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if len(lines) != len(ids):
        sys.exit(f"{path}: {len(lines)} labels for {len(ids)} items")
    rows = []
    for n, (line, want) in enumerate(zip(lines, ids, strict=True), start=1):
        cols = [c.strip() for c in line.split("\t")]
        cols += ["-"] * (4 - len(cols))
        item_id, pol, emo, inten = cols[:4]
        if item_id != want:
            sys.exit(f"{path}:{n}: id {item_id!r}, expected {want!r}")
        if pol not in POLARITY and pol != "skip":
            sys.exit(f"{path}:{n}: polarity {pol!r}")
        if emo not in EMOTIONS and emo != "-":
            sys.exit(f"{path}:{n}: emotion {emo!r}")
        intensity = int(inten) if inten in {"1", "2", "3"} and emo in {"anger", "anxiety"} else None
        rows.append(
            {
                "id": item_id,
                "polarity": POLARITY.get(pol),
                "emotion": emo if emo in EMOTIONS else None,
                "intensity": intensity,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label-dir", type=Path, required=True)
    parser.add_argument(
        "--review-dir",
        type=Path,
        help="a second pass (same batch/out format, batch lines id, cs, first labels, text) "
        "whose labels replace the first ones: the re-check after a guideline revision",
    )
    args = parser.parse_args()
    reviewed: dict[str, dict] = {}
    if args.review_dir:
        for batch in sorted(args.review_dir.glob("slice*/batch_*.tsv")):
            out = batch.with_name(batch.name.replace("batch_", "out_"))
            if out.is_file():
                for row in parse_out(out, read_batch(batch)):
                    reviewed[row["id"]] = row
    items = {
        it["id"]: it
        for it in map(json.loads, (args.label_dir / "items.jsonl").open(encoding="utf-8"))
    }
    labelled: list[dict] = []
    skipped = Counter()
    missing = 0
    for batch in sorted(args.label_dir.glob("slice*/batch_*.tsv")):
        out = batch.with_name(batch.name.replace("batch_", "out_"))
        ids = read_batch(batch)
        if not out.is_file():
            missing += len(ids)
            continue
        for row in parse_out(out, ids):
            row = reviewed.get(row["id"], row)
            item = items[row["id"]]
            if row["polarity"] is None:
                skipped[item["source"]] += 1
                continue
            labelled.append(
                {
                    "id": row["id"],
                    "text": item["text"],
                    "polarity": row["polarity"],
                    "emotion": row["emotion"],
                    "intensity": row["intensity"],
                    "source": item["source"],
                    "orig_label": item.get("orig_label"),
                    "selected_by": item["selected_by"],
                    "customer_message": bool(item["cs"]) or row["emotion"] is not None,
                }
            )
    # the draw is per item (seeded by its id), so an item's split never depends on which other
    # items were labelled
    test_ids = {
        r["id"] for r in labelled if random.Random(f"{SEED}:{r['id']}").random() < TEST_SHARE
    }
    OUT.mkdir(parents=True, exist_ok=True)

    def split_of(row: dict) -> str:
        if row["id"] in test_ids:
            return "test"
        draw = random.Random(f"dev:{SEED}:{row['id']}").random()
        return "dev" if draw < DEV_SHARE else "train"

    for split in ("train", "dev", "test"):
        rows = sorted((r for r in labelled if split_of(r) == split), key=lambda r: r["id"])
        with (OUT / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{split}: {len(rows)}")
    print(f"skipped (unjudgeable): {sum(skipped.values())} {dict(skipped)}")
    print(f"not yet labelled: {missing}; labels from the review pass: {len(reviewed)}")


if __name__ == "__main__":
    main()
