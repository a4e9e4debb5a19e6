"""Hashed n-gram features over normalised text.

A text is cut into *units*: an emoticon code such as ``[哈哈]``, a run of Latin letters, a run of
digits (all folded to one ``0`` unit) or any other single non-space character (a Han character,
an emoji, a punctuation mark). Every run of 1..n consecutive units is an n-gram; each n-gram is
hashed (a fixed 64-bit mix, the same on every machine and process) into one of ``n_buckets``
columns. The extraction is vectorised over a whole batch with numpy.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_UNIT = re.compile(r"\[[^\[\]\s]{1,8}\]|[a-z]+|\d+(?:\.\d+)?|\S")
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def units(text: str) -> list[str]:
    """Cut a normalised text into feature units (see the module docstring)."""
    return ["0" if unit[0].isdigit() else unit for unit in _UNIT.findall(text)]


@dataclass(frozen=True, slots=True)
class Features:
    """A batch's features in coordinate form: n-gram ``columns`` belonging to ``rows``."""

    rows: np.ndarray  # int64, the text each feature came from
    columns: np.ndarray  # int64 in [0, n_buckets)
    n_texts: int

    def counts_per_text(self) -> np.ndarray:
        return np.bincount(self.rows, minlength=self.n_texts)

    def scale(self) -> np.ndarray:
        """Per-text factor 1/sqrt(number of n-grams): long and short texts weigh alike."""
        return 1.0 / np.sqrt(np.maximum(self.counts_per_text(), 1))


class HashedNgrams:
    """Turns normalised texts into hashed n-gram columns."""

    def __init__(self, n_buckets: int = 1 << 20, max_n: int = 3) -> None:
        if n_buckets <= 0 or n_buckets & (n_buckets - 1):
            raise ValueError(f"n_buckets must be a power of two, got {n_buckets}")
        if not 1 <= max_n <= 6:
            raise ValueError(f"max_n must be between 1 and 6, got {max_n}")
        self.n_buckets = n_buckets
        self.max_n = max_n
        self._unit_hash: dict[str, int] = {}

    def _hash_unit(self, unit: str) -> int:
        value = self._unit_hash.get(unit)
        if value is None:
            value = zlib.crc32(unit.encode("utf-8")) + 1
            if len(self._unit_hash) < 200_000:
                self._unit_hash[unit] = value
        return value

    def transform(self, texts: Sequence[str]) -> Features:
        """Hash every 1..max_n-gram of every text of the batch."""
        hash_unit = self._hash_unit
        unit_hashes: list[int] = []
        lengths = np.empty(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            cut = units(text)
            lengths[i] = len(cut)
            unit_hashes.extend(hash_unit(unit) for unit in cut)
        hashes = np.asarray(unit_hashes, dtype=np.uint64)
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        rows: list[np.ndarray] = []
        columns: list[np.ndarray] = []
        gram = hashes.copy()
        mask = np.uint64(self.n_buckets - 1)
        with np.errstate(over="ignore"):
            for n in range(1, self.max_n + 1):
                if n > 1:
                    gram = gram[:-1] * _MUL + hashes[n - 1 :]
                if gram.size == 0:
                    break
                same_text = owner[: gram.size] == owner[n - 1 :]
                mixed = (gram ^ (gram >> np.uint64(31))) * _MIX
                mixed ^= mixed >> np.uint64(29)
                columns.append(((mixed + np.uint64(n)) & mask).astype(np.int64)[same_text])
                rows.append(owner[: gram.size][same_text])
        if not columns:
            empty = np.empty(0, dtype=np.int64)
            return Features(empty, empty, len(texts))
        return Features(np.concatenate(rows), np.concatenate(columns), len(texts))
