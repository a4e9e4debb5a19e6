"""Datasets: find the dev split of each dataset, load it, subsample it, build speed text pools.

Dev split rule
--------------
* A dataset directory with ``dev.jsonl`` uses it (official dev split).
* Otherwise (only ``all.jsonl`` or ``train.jsonl``) the project's own dev split is used: the rows
  whose ``zlib.crc32(text.encode("utf-8")) % 10 == 0``. The training code holds the same rows out
  of training; :func:`is_dev` is imported from ``qinggan.training.splits`` when it exists so the
  two can never drift, and the identical rule below is the fallback.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = (REPO_ROOT / ".." / "shared" / "data").resolve()
# The project's own hand-written sets (customer-service emotions, dialogue emotion, conversations).
DEFAULT_CORPORA_DIR = REPO_ROOT / "corpora"

OFFICIAL_DEV = "dev"
PROJECT_DEV = "crc32-dev"


def _local_is_dev(text: str) -> bool:
    return zlib.crc32(text.encode("utf-8")) % 10 == 0


_IS_DEV: tuple | None = None


def dev_rule() -> tuple:
    """(is_dev function, where it comes from); resolved on first use, not at import."""
    global _IS_DEV
    if _IS_DEV is None:
        try:
            from qinggan.training.splits import is_dev as qinggan_is_dev  # type: ignore
        except Exception:  # any import failure means "not there yet"
            _IS_DEV = (_local_is_dev, "benchmarks.data (zlib.crc32(utf-8) % 10 == 0)")
        else:
            _IS_DEV = (qinggan_is_dev, "qinggan.training.splits.is_dev")
    return _IS_DEV


def is_dev(text: str) -> bool:
    return bool(dev_rule()[0](text))


@dataclass(frozen=True)
class Item:
    """One scored item. ``text`` is what length buckets and subsampling see; ``data`` carries
    whatever else a task needs (a scene, a second-level label, the turns of a conversation)."""

    text: str
    label: str
    data: Any = field(default=None, compare=False)


@dataclass
class Dataset:
    """The dev split of one dataset, as evaluated."""

    name: str  # "<group>/<dataset>", e.g. "polarity/chnsenticorp"
    path: Path
    split: str  # OFFICIAL_DEV or PROJECT_DEV
    items: list[Item]
    labels: list[str] = field(default_factory=list)  # sorted distinct gold labels

    @property
    def n(self) -> int:
        return len(self.items)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def dev_file(dataset_dir: Path) -> tuple[Path, str] | None:
    """Return (file, split kind) holding the dev split of ``dataset_dir``, or None."""
    if (dataset_dir / "dev.jsonl").is_file():
        return dataset_dir / "dev.jsonl", OFFICIAL_DEV
    for name in ("all.jsonl", "train.jsonl"):
        if (dataset_dir / name).is_file():
            return dataset_dir / name, PROJECT_DEV
    return None


def load_dev(data_dir: Path, group: str, name: str) -> Dataset | None:
    """Load the dev split of ``<data_dir>/<group>/<name>``; None if it has no usable file."""
    found = dev_file(data_dir / group / name)
    if found is None:
        return None
    path, split = found
    items = []
    for row in read_jsonl(path):
        text, label = row.get("text"), row.get("label")
        if not isinstance(text, str) or not text or not isinstance(label, str):
            continue
        if split == PROJECT_DEV and not is_dev(text):
            continue
        items.append(Item(text, label))
    if not items:
        return None
    return Dataset(f"{group}/{name}", path, split, items, sorted({i.label for i in items}))


def from_items(name: str, path: Path, split: str, items: list[Item]) -> Dataset | None:
    """A :class:`Dataset` of already converted items; None when there are none."""
    if not items:
        return None
    return Dataset(name, path, split, items, sorted({i.label for i in items}))


def discover(data_dir: Path, groups: Sequence[str]) -> list[Dataset]:
    """Every dataset directory under ``data_dir/<group>/`` with a dev split, sorted by name."""
    out = []
    for group in groups:
        root = data_dir / group
        if not root.is_dir():
            continue
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            ds = load_dev(data_dir, group, sub.name)
            if ds is not None:
                out.append(ds)
    return out


def subsample(items: list[Item], k: int | None, seed: str) -> list[Item]:
    """A fixed seeded random subsample of ``k`` items, in file order; all items if k is None."""
    if k is None or len(items) <= k:
        return list(items)
    keep = sorted(random.Random(seed).sample(range(len(items)), k))
    return [items[i] for i in keep]


# --- speed text pools --------------------------------------------------------------------------

SHORT_MAX = 30
MEDIUM_MIN, MEDIUM_MAX = 31, 199
LONG_MIN = 500

BUCKET_RULES = {
    "short": f"<= {SHORT_MAX} chars",
    "medium": f"{MEDIUM_MIN}-{MEDIUM_MAX} chars (reviews)",
    "long": f">= {LONG_MIN} chars (natural long reviews, topped up by joining reviews)",
}


def speed_pools(
    datasets: Sequence[Dataset], sizes: dict[str, int], seed: int
) -> dict[str, list[str]]:
    """Draw the texts every system is timed on, per length bucket.

    short: any dev text of at most 30 characters (headlines, chat lines, short reviews).
    medium: 31-199 character texts from review datasets (polarity groups).
    long: natural texts of >= 500 characters, topped up by joining shuffled reviews with "。"
    until each reaches 500 characters.
    """
    rng = random.Random(seed)
    all_texts = sorted({i.text for ds in datasets for i in ds.items})
    reviews = (
        sorted({i.text for ds in datasets if ds.name.startswith("polarity") for i in ds.items})
        or all_texts
    )
    short = [t for t in all_texts if len(t) <= SHORT_MAX] or [t[:SHORT_MAX] for t in all_texts]
    medium = [t for t in reviews if MEDIUM_MIN <= len(t) <= MEDIUM_MAX] or reviews
    long_natural = [t for t in all_texts if len(t) >= LONG_MIN]
    pools: dict[str, list[str]] = {}
    for bucket, candidates in (("short", short), ("medium", medium)):
        pools[bucket] = _draw(candidates, sizes[bucket], rng)
    n_long = sizes["long"]
    long_texts = _draw(long_natural, n_long, rng) if long_natural else []
    pieces = list(reviews)
    rng.shuffle(pieces)
    cursor = 0
    while len(long_texts) < n_long and pieces:
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < LONG_MIN:
            parts.append(pieces[cursor % len(pieces)])
            cursor += 1
        long_texts.append("。".join(parts))
    pools["long"] = long_texts
    return pools


def _draw(candidates: list[str], k: int, rng: random.Random) -> list[str]:
    if not candidates:
        return []
    if len(candidates) >= k:
        return rng.sample(candidates, k)
    # Too few distinct texts (tiny fixtures): cycle through them.
    return [candidates[i % len(candidates)] for i in range(k)]
