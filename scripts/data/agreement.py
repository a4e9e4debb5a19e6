"""Agreement between the first labels and an independent second pass (issue 12, part 5).

The second annotator saw only the guidelines and the texts of 300 randomly drawn labelled items
(batch_*.tsv / out_*.tsv in --agree-dir, the label format of the labelling batches). Prints
Cohen's kappa and raw agreement for polarity and for the service emotion (on the items both
passes judged to be customer messages), whether both passes called a text a customer message,
and the most frequent disagreements.

    python scripts/data/agreement.py --agree-dir /tmp/agree
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLARITY = {"pos": "positive", "neg": "negative", "neu": "neutral"}


def cohen_kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agree-dir", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    first = {
        r["id"]: r
        for split in ("train", "dev", "test")
        for r in map(json.loads, (REPO / "corpora" / "labelled" / f"{split}.jsonl").open())
    }
    second = {}
    for out in sorted(args.agree_dir.glob("out_*.tsv")):
        for line in out.read_text(encoding="utf-8").splitlines():
            item_id, pol, emo, _ = (line.split("\t") + ["-"] * 4)[:4]
            second[item_id] = (POLARITY.get(pol), None if emo == "-" else emo)
    ids = [i for i in second if i in first and second[i][0] is not None]
    pol_a = [first[i]["polarity"] for i in ids]
    pol_b = [second[i][0] for i in ids]
    both = [i for i in ids if first[i]["emotion"] and second[i][1]]
    emo_a = [first[i]["emotion"] for i in both]
    emo_b = [second[i][1] for i in both]
    cs_a = [str(first[i]["emotion"] is not None) for i in ids]
    cs_b = [str(second[i][1] is not None) for i in ids]
    result = {
        "items": len(ids),
        "polarity_kappa": round(cohen_kappa(pol_a, pol_b), 3),
        "polarity_agreement": round(
            sum(x == y for x, y in zip(pol_a, pol_b, strict=True)) / len(ids), 3
        ),
        "emotion_items": len(both),
        "emotion_kappa": round(cohen_kappa(emo_a, emo_b), 3),
        "emotion_agreement": round(
            sum(x == y for x, y in zip(emo_a, emo_b, strict=True)) / len(both), 3
        ),
        "customer_message_kappa": round(cohen_kappa(cs_a, cs_b), 3),
        "polarity_disagreements": Counter(
            f"{x}->{y}" for x, y in zip(pol_a, pol_b, strict=True) if x != y
        ).most_common(6),
        "emotion_disagreements": Counter(
            f"{x}->{y}" for x, y in zip(emo_a, emo_b, strict=True) if x != y
        ).most_common(8),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
