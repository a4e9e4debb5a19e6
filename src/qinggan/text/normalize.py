"""Text normalisation: the first step of every judgement.

What it does, in order:
1. rejects what is not usable text (not a str, empty, over the byte limit when one is given);
2. folds full-width forms to half-width and other compatibility forms (Unicode NFKC);
3. converts traditional characters to simplified ones (OpenCC ``t2s``);
4. replaces URLs and @mentions by placeholder tokens and folds runs of white space;
5. folds runs of repeated punctuation to at most three (``！！！！！`` -> ``!!!``), keeping the cue.

Emoticon codes such as ``[哈哈]`` and emoji pass through unchanged: the feature extractor treats
each as one token.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from qinggan.errors import InputError

URL_TOKEN = "\ue000"
MENTION_TOKEN = "\ue001"

_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+", re.IGNORECASE
)
_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff]{1,30}")
_SPACE = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([!?.,~\-…。、])\1{3,}")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def check_text(text: object, *, max_bytes: int | None = None) -> str:
    """Return ``text`` if it is usable input, else raise :class:`InputError` saying why."""
    if not isinstance(text, str):
        raise InputError(f"expected text as a string, got {type(text).__name__}")
    if not text.strip():
        raise InputError("text is empty or only white space")
    if max_bytes is not None:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > max_bytes:
            raise InputError(f"text is {size} bytes in UTF-8; the limit is {max_bytes} bytes")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InputError("text holds unpaired surrogates (invalid UTF-8 upstream)")
    return text


def normalize(text: str, *, max_bytes: int | None = None) -> str:
    """Normalise one text for analysis; raise :class:`InputError` on unusable input."""
    check_text(text, max_bytes=max_bytes)
    text = unicodedata.normalize("NFKC", text.translate(_ZERO_WIDTH))
    text = _t2s().convert(text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _MENTION.sub(f" {MENTION_TOKEN} ", text)
    text = _REPEATED_PUNCT.sub(r"\1\1\1", text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower()
