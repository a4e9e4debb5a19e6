"""Character folding for span models: every character of the caller's text maps to exactly one
character of the folded text, so a span found in the folded text is the same span of the original.

Folding per character: zero-width characters -> space, NFKC (full-width -> half-width) when it
gives one character, traditional -> simplified (OpenCC ``t2s``, applied to the whole text when it
keeps the length, else character by character), lower case, every digit -> ``0``. This is the
engine's :func:`qinggan.text.normalize` without the steps that change lengths (URL/mention
placeholders, folding repeated punctuation and white space).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
#: where a long text may be cut (after the mark)
BREAKS = frozenset("。！？!?；;，,\n～~… ")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold_one(ch: str) -> str:
    if ch in _ZERO_WIDTH or ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch
    if folded.isdigit():
        return "0"
    lowered = folded.lower()
    return lowered if len(lowered) == 1 else folded


@lru_cache(maxsize=65536)
def _t2s_one(ch: str) -> str:
    converted = _t2s().convert(ch)
    return converted if len(converted) == 1 else ch


def fold(text: str) -> str:
    """The folded text, exactly as long as ``text``."""
    if text.isascii():
        out = "".join(map(_fold_one, text))
        return out
    folded = "".join(map(_fold_one, text))
    converted = _t2s().convert(folded)
    if len(converted) != len(folded):
        converted = "".join(map(_t2s_one, folded))
    # t2s never makes upper case or full-width forms, but keep the promise regardless
    return converted if len(converted) == len(text) else folded


def pieces(text: str, max_len: int) -> list[tuple[int, int]]:
    """Cut ``text`` into ``[start, end)`` pieces of at most ``max_len`` characters, each ending
    after a punctuation mark or space where one is near the limit."""
    out = []
    start, n = 0, len(text)
    while n - start > max_len:
        end = start + max_len
        cut = end
        for i in range(end - 1, start + max_len // 2, -1):
            if text[i] in BREAKS:
                cut = i + 1
                break
        out.append((start, cut))
        start = cut
    out.append((start, n))
    return out


def find(folded_text: str, folded_term: str) -> tuple[int, int] | None:
    """Span of the first occurrence of ``folded_term`` in ``folded_text`` (both folded)."""
    term = folded_term.strip()
    if not term:
        return None
    at = folded_text.find(term)
    if at < 0:
        return None
    return at, at + len(term)
