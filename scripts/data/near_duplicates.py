"""Near-duplicate check over character 4-grams (issue 12: no template with the nouns swapped).

Each text becomes the set of its character 4-grams after removing whitespace and punctuation
(texts under 4 characters are compared as a whole). Two texts are near-duplicates when the
Jaccard overlap of their sets is at least the threshold. Candidate pairs come from an inverted
index over the 4-grams, so the check is fast on tens of thousands of texts.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

N = 4


def grams(text: str, n: int = N) -> frozenset[str]:
    chars = "".join(
        ch for ch in text.lower() if not (ch.isspace() or unicodedata.category(ch).startswith("P"))
    )
    if len(chars) < n:
        return frozenset([chars])
    return frozenset(chars[i : i + n] for i in range(len(chars) - n + 1))


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = 0.5, max_postings: int = 200
) -> list[tuple[int, int, float]]:
    """(i, j, jaccard) for every pair i < j at or above ``threshold``. 4-grams shared by more
    than ``max_postings`` texts (stock phrases) are not used to find candidates, only to score."""
    sets = [grams(t) for t in texts]
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            index[g].append(i)
    pairs = []
    for i, s in enumerate(sets):
        candidates: set[int] = set()
        for g in s:
            posting = index[g]
            if len(posting) <= max_postings:
                candidates.update(j for j in posting if j > i)
        for j in candidates:
            inter = len(s & sets[j])
            jac = inter / (len(s) + len(sets[j]) - inter)
            if jac >= threshold:
                pairs.append((i, j, jac))
    return pairs


def max_overlap(texts: Sequence[str], others: Sequence[str]) -> list[float]:
    """For each text, its highest Jaccard overlap with any of ``others``."""
    other_sets = [grams(t) for t in others]
    index: dict[str, list[int]] = defaultdict(list)
    for j, s in enumerate(other_sets):
        for g in s:
            index[g].append(j)
    out = []
    for t in texts:
        s = grams(t)
        best = 0.0
        for j in {j for g in s for j in index.get(g, [])}:
            inter = len(s & other_sets[j])
            best = max(best, inter / (len(s) + len(other_sets[j]) - inter))
        out.append(best)
    return out
