"""Intensity of anger and anxiety: degree 3 high, 2 medium, 1 low, 0 other (JD V2 ``levelList``).

The rule, in two steps.

1. **A cue score** ``c`` is read from the normalised text (neighbouring degrees lie about 2.5
   apart on it):

   - *lexicon*: a longest-match scan, left to right, over two hand-written tables shipped in
     ``resources/lexicons/``: ``degree_words.tsv`` (adverbs that raise, 很 非常 太 简直 …死了, or
     lower, 有点 稍微 略; negations that soften, 不太 不是很 没那么; guards such as 超时 or 死机
     that stop a false degree reading) and ``intensity_cues.tsv`` (per emotion: escalation and
     insults for anger, 投诉 12315 曝光 骗子 垃圾 气死 滚; urgency and panic for anxiety, 急死
     赶紧 马上 到底 怎么还没 等不了; polite, tentative wording that lowers, 请问 麻烦 希望 建议;
     emoji and emoticon codes, 😡 🤬 [怒] 😭). Spaces are ignored by the scan, so ``我 要 投 诉``
     still reads 投诉. The weights of the words found are summed, times ``W_LEXICON``;
   - *exclamation*: ``W_EXCL_FIRST`` for the first ``!`` and ``W_EXCL_MORE`` for each further one
     (at most ``MAX_EXTRA_MARKS``);
   - *questions*: a lone ``?`` is ordinary; each further ``?`` adds ``W_QUESTION_MORE`` (runs
     such as ``???`` read as exasperation);
   - *repetition*: a character said three times or more (啊啊啊, 急急急) or a short phrase said
     twice in a row (快点快点, 在吗在吗) adds ``W_REPEAT`` each (at most two);
   - *spacing for emphasis*: three or more single characters separated by spaces adds
     ``W_SPACED``.

   Upper-case shouting in Latin script cannot be seen here: ``normalize`` lower-cases the text.

2. **Degrees from the score.** The emotion probability ``p`` gates the mass that any intensity at
   all receives, and the cue score places that mass on the three degrees by a cumulative logit
   with ordered cut points ``cut2 < cut3`` (per emotion)::

       g  = sigmoid(logit(p) + W_GATE * clip(c, -GATE_CLIP, GATE_CLIP))   # P(degree >= 1)
       s  = c + W_PROB * (logit(p) - logit(REFERENCE_PROBABILITY))        # intensity score
       q2 = sigmoid(SLOPE * (s - cut2))                    # P(degree >= 2 | degree >= 1)
       q3 = sigmoid(SLOPE * (s - cut3))                    # P(degree  = 3 | degree >= 1)
       P(0) = 1 - g,  P(1) = g (1 - q2),  P(2) = g (q2 - q3),  P(3) = g q3

   Because ``cut2 < cut3`` the four probabilities are non-negative and sum to 1, and the expected
   degree ``g (1 + q2 + q3)`` rises smoothly and monotonically with both the cue score and the
   emotion probability. A low emotion probability (0.05) leaves most of the mass on degree 0.

The lexicon grades are our own. The ``W_*`` cue weights and the cut points were then fitted by
maximum likelihood of the ordinal model above (with a light L2 pull toward hand-set starting
values, ``SLOPE`` fixed at 2.2 and ``W_REPEAT`` held at its floor of 0.3) on the intensities
(1-3, written by a person) of the anger and anxiety rows of
``corpora/customer_service_emotion/train.jsonl`` at ``p = 0.9``. ``W_PROB`` and ``W_GATE`` are
set by hand, since that corpus carries no emotion probabilities. The dev split was used only to
measure the result: at ``p = 0.9`` the top degree matches the written one on 83.6% of its 122
anger and anxiety rows, and the expected degree has Spearman 0.81 with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from qinggan.labels import INTENSITY_EMOTIONS, Emotion, Intensity
from qinggan.results import IntensityLevel

__all__ = ["IntensityLevel", "intensity_levels", "intensity_score"]

DEGREE_WORDS_FILE = "degree_words.tsv"
CUES_FILE = "intensity_cues.tsv"

# Fitted on train (see the module docstring). Cue weights are in lexicon units; neighbouring
# degrees lie about 2.5 units apart on the score.
W_LEXICON = 2.05
W_EXCL_FIRST = 2.3
W_EXCL_MORE = 0.65
W_QUESTION_MORE = 0.85
W_REPEAT = 0.3
W_SPACED = 0.85
MAX_EXTRA_MARKS = 5
SLOPE = 2.2
W_PROB = 0.4
W_GATE = 0.15
GATE_CLIP = 3.0
#: emotion probability at which the cut points were fitted
REFERENCE_PROBABILITY = 0.9
#: (cut2, cut3) per emotion on the cue score, at REFERENCE_PROBABILITY
CUTS: dict[Emotion, tuple[float, float]] = {
    Emotion.ANGER: (-0.7, 1.95),
    Emotion.ANXIETY: (-0.45, 2.35),
}

_EPS = 1e-6
_DEGREES = tuple(Intensity)  # indexed by value: OTHER=0 ... HIGH=3
# a letter (Han or Latin) three times or more, or a phrase of 2-4 letters twice in a row
_REPEATED = re.compile(r"([\u4e00-\u9fffa-z])\1{2,}|([\u4e00-\u9fffa-z]{2,4})\2")
_SPACED = re.compile(r"(?:^|\s)(?:[^\W\d_a-z]\s){2,}[^\W\d_a-z](?=\s|$|\W)")


@dataclass(frozen=True, slots=True)
class _Table:
    """Words of one emotion: weight of each, and for each first character the lengths to try."""

    weights: dict[str, float]
    lengths: dict[str, tuple[int, ...]]


def _read_tsv(name: str, columns: tuple[str, ...]) -> list[list[str]]:
    path = resources.files("qinggan") / "resources" / "lexicons" / name
    rows: list[list[str]] = []
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            if tuple(fields) != columns:
                raise ValueError(
                    f"{name}: expected the header {'<TAB>'.join(columns)!r}, got {line!r}"
                )
            header_seen = True
            continue
        if len(fields) != len(columns):
            raise ValueError(
                f"{name} line {number}: expected {len(columns)} tab-separated fields, got {line!r}"
            )
        rows.append(fields)
    return rows


def _build(weights: dict[str, float]) -> _Table:
    by_first: dict[str, set[int]] = {}
    for word in weights:
        by_first.setdefault(word[0], set()).add(len(word))
    lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in by_first.items()}
    return _Table(weights, lengths)


@lru_cache(maxsize=1)
def _tables() -> dict[Emotion, _Table]:
    """Load both lexicons once and merge them into one table per emotion."""
    degree: dict[str, float] = {}
    for word, weight in _read_tsv(DEGREE_WORDS_FILE, ("word", "weight")):
        degree[word] = float(weight)
    merged = {emotion: dict(degree) for emotion in INTENSITY_EMOTIONS}
    scopes = {"both": tuple(INTENSITY_EMOTIONS)} | {e.value: (e,) for e in INTENSITY_EMOTIONS}
    for word, weight, scope in _read_tsv(CUES_FILE, ("word", "weight", "emotion")):
        if scope not in scopes:
            raise ValueError(
                f"{CUES_FILE}: unknown emotion {scope!r} for {word!r}; "
                "expected one of: anger, anxiety, both"
            )
        for emotion in scopes[scope]:
            table = merged[emotion]
            table[word] = table.get(word, 0.0) + float(weight)
    return {emotion: _build(weights) for emotion, weights in merged.items()}


def _lexicon_sum(text: str, table: _Table) -> float:
    weights, lengths = table.weights, table.lengths
    total = 0.0
    i, n = 0, len(text)
    while i < n:
        tries = lengths.get(text[i])
        step = 1
        if tries is not None:
            for size in tries:
                weight = weights.get(text[i : i + size])
                if weight is not None:
                    total += weight
                    step = size
                    break
        i += step
    return total


def _features(text: str, emotion: Emotion) -> tuple[float, int, int, int, int, int]:
    """The raw cues, before weighting.

    In order: lexicon sum, whether there is a ``!``, further ``!``, further ``?``, repetitions,
    spaced emphasis.
    """
    lexicon = _lexicon_sum(text.replace(" ", ""), _tables()[emotion])
    bangs = text.count("!")
    questions = text.count("?")
    repeats = len(_REPEATED.findall(text)) if len(text) > 2 else 0
    spaced = 1 if " " in text and _SPACED.search(text) else 0
    return (
        lexicon,
        1 if bangs else 0,
        min(max(bangs - 1, 0), MAX_EXTRA_MARKS),
        min(max(questions - 1, 0), MAX_EXTRA_MARKS),
        min(repeats, 2),
        spaced,
    )


def _cue(text: str, emotion: Emotion) -> float:
    lexicon, bang, more_bangs, more_questions, repeats, spaced = _features(text, emotion)
    return (
        W_LEXICON * lexicon
        + W_EXCL_FIRST * bang
        + W_EXCL_MORE * more_bangs
        + W_QUESTION_MORE * more_questions
        + W_REPEAT * repeats
        + W_SPACED * spaced
    )


def _check(emotion: Emotion, probability: float) -> tuple[Emotion, float]:
    if emotion not in INTENSITY_EMOTIONS:
        raise ValueError(
            f"intensity is defined for anger and anxiety only, got emotion {emotion!r}"
        )
    emotion = Emotion(emotion)
    probability = float(probability)
    if not 0.0 <= probability <= 1.0:  # also refuses NaN
        raise ValueError(f"expected an emotion probability between 0 and 1, got {probability!r}")
    return emotion, probability


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


_REFERENCE_LOGIT = _logit(REFERENCE_PROBABILITY)


def intensity_score(text: str, emotion: Emotion, probability: float) -> float:
    """The continuous intensity score ``s`` of the module docstring (higher is more intense)."""
    emotion, probability = _check(emotion, probability)
    return _cue(text, emotion) + W_PROB * (_logit(probability) - _REFERENCE_LOGIT)


def intensity_levels(text: str, emotion: Emotion, probability: float) -> tuple[IntensityLevel, ...]:
    """Four intensity degrees with probabilities for a text judged ``emotion``.

    ``text`` is already normalised by :func:`qinggan.text.normalize`; ``emotion`` is ANGER or
    ANXIETY (anything else raises ValueError); ``probability`` is that emotion's calibrated
    probability (0..1). The result holds every degree once, probabilities summing to 1, sorted
    by probability high to low (ties: the higher degree first).
    """
    emotion, probability = _check(emotion, probability)
    cue = _cue(text, emotion)
    evidence = _logit(probability)
    gate = _sigmoid(evidence + W_GATE * min(max(cue, -GATE_CLIP), GATE_CLIP))
    score = cue + W_PROB * (evidence - _REFERENCE_LOGIT)
    cut2, cut3 = CUTS[emotion]
    q2 = _sigmoid(SLOPE * (score - cut2))
    q3 = _sigmoid(SLOPE * (score - cut3))
    ranked = sorted(
        ((gate * q3, 3), (gate * (q2 - q3), 2), (gate * (1.0 - q2), 1), (1.0 - gate, 0)),
        reverse=True,
    )
    return tuple(IntensityLevel(_DEGREES[d], p) for p, d in ranked)
