"""English and mixed Chinese-English text: polarity from VADER, blended with our model's.

Our polarity model learned from Chinese; an English sentence is mostly unknown n-grams to it
("This is terrible" could come out positive). For the English words of a text we ask VADER
(``vaderSentiment`` 3.3.2, C.J. Hutto, MIT licence: a hand-rated English lexicon of about 7,500
words and emoticons with rules for negation, degree words, "but" and capitals), and blend its
reading with the model's probabilities by the share of the text that is English:

1. **The English view.** Every run of Han characters becomes a space, so that VADER, which splits
   on whitespace, sees ``这个design好ugly`` as ``design ugly``. A Han run that ends in a negation
   (不, 没, 没有, 并不, 不是, 别, also followed by 很/太/够/怎么/那么: ``不是很good``) puts
   ``not`` before the English that follows, which VADER then negates as it does its own.
2. **The share of English.** ``L`` English words (Latin letters, two or more; single letters such
   as the N of N次 or the C of Type-C are not words) against ``H / 2`` Chinese words for ``H`` Han
   characters (a Chinese word is about two characters): ``share = L / (L + H / 2)``.
3. **VADER's probabilities.** Its compound score ``c`` in [-1, 1] goes through a softmax with
   logits ``(K * c, -K * c, B)`` for (positive, negative, neutral): neutral wins while
   ``|c| < B / K`` = 0.15 (VADER's own convention calls anything past 0.05 polar; one mild word
   such as "ok" or "please" scores about 0.3, one clear word such as "terrible" about 0.5), and
   at ``c = 0`` neutral holds just over half the mass (0.51), so that it stays on top however the
   rest is split (below).
4. **The blend.** ``(1 - w) * model + w * vader`` with ``w = share``, when VADER found a
   sentiment word (``c != 0``) or the text is mostly English (``share >= 0.5``: then finding no
   English sentiment word is itself evidence of a neutral text, "What time do you close?");
   otherwise ``w = 0``, since the Latin words in a mostly Chinese text are then names (APP, iOS,
   PayPal) whose silence says nothing. When VADER is silent (``c == 0``) its reading says
   "neutral" but nothing of the direction, so its polar mass is shared between positive and
   negative as the model shares it. A text without Latin words is left as it is.

VADER is imported and its lexicon read on the first text that has English words, once, under a
lock; importing qinggan never loads it. ``K`` and ``B`` are set by hand (there is no labelled
English set here to fit them on).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from qinggan.labels import POLARITY_LABELS, Polarity

__all__ = ["blend_english", "english_share", "english_view", "vader_compound"]

#: slope and neutral logit of the compound -> probabilities softmax (see the module docstring)
K = 5.0
B = 0.75
#: from this share of English words on, VADER's silence counts as neutral evidence
MOSTLY_ENGLISH = 0.5

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z]{2,}(?:'[a-z]+)?")
_LATIN = re.compile(r"[A-Za-z]")
_NEGATED_END = re.compile(r"(?:不|没|没有|并不|并没有|不是|别)(?:很|太|够|怎么|那么|是)?$")
_COLUMNS = {label: POLARITY_LABELS.index(label) for label in Polarity}

_vader: Any = None
_vader_lock = threading.Lock()


def _analyzer() -> Any:
    global _vader
    if _vader is None:
        with _vader_lock:
            if _vader is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _vader = SentimentIntensityAnalyzer()
    return _vader


def english_share(text: str) -> float:
    """The share of the text's words that are English (0 for a text without Latin letters)."""
    lowered = text.lower()
    english = len(_WORD.findall(lowered))
    if not english:
        return 0.0
    han = sum(len(run) for run in _HAN.findall(lowered))
    return english / (english + han / 2)


def english_view(text: str) -> str:
    """What VADER reads: Han runs become spaces, a trailing Chinese negation becomes ``not``."""
    pieces: list[str] = []
    last = 0
    for match in _HAN.finditer(text):
        pieces.append(text[last : match.start()])
        pieces.append(" not " if _NEGATED_END.search(match.group()) else " ")
        last = match.end()
    pieces.append(text[last:])
    view = "".join(pieces).replace("\u2019", "'")
    return " ".join(view.split())


def vader_compound(text: str) -> float:
    """VADER's compound score of the English view of ``text``, in [-1, 1]."""
    view = english_view(text)
    if not view:
        return 0.0
    return float(_analyzer().polarity_scores(view)["compound"])


def _vader_probabilities(compound: float) -> np.ndarray:
    logits = {
        Polarity.POSITIVE: K * compound,
        Polarity.NEGATIVE: -K * compound,
        Polarity.NEUTRAL: B,
    }
    row = np.zeros(len(POLARITY_LABELS))
    for label, logit in logits.items():
        row[_COLUMNS[label]] = math.exp(logit)
    return row / row.sum()


def blend_english(texts: Sequence[str], probabilities: np.ndarray) -> np.ndarray:
    """``probabilities`` (one row per text, columns in ``POLARITY_LABELS`` order) with each
    text's English reading blended in (a new array; rows of texts without English unchanged)."""
    out = np.array(probabilities, dtype=float, copy=True)
    for i, text in enumerate(texts):
        if not _LATIN.search(text):
            continue
        share = english_share(text)
        if share == 0.0:
            continue
        compound = vader_compound(text)
        if compound == 0.0 and share < MOSTLY_ENGLISH:
            continue
        english = _vader_probabilities(compound)
        if compound == 0.0:  # no English sentiment word: neutral, the direction is the model's
            english = _polar_split(english, out[i])
        out[i] = (1.0 - share) * out[i] + share * english
    return out


def _polar_split(english: np.ndarray, model: np.ndarray) -> np.ndarray:
    """``english`` with its polar mass shared between positive and negative as ``model`` does."""
    pos, neg = _COLUMNS[Polarity.POSITIVE], _COLUMNS[Polarity.NEGATIVE]
    polar = english[pos] + english[neg]
    model_polar = model[pos] + model[neg]
    out = english.copy()
    if model_polar > 0:
        out[pos] = polar * model[pos] / model_polar
        out[neg] = polar * model[neg] / model_polar
    return out
