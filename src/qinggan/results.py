"""Frozen result types returned by the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qinggan.labels import DialogueLevel1, Emotion, Intensity, Polarity, Scene


@dataclass(frozen=True, slots=True)
class PolarityResult:
    """Polarity of one text.

    ``probabilities`` maps every label to its probability (they sum to 1); ``confidence`` is how
    sure the top label is: its probability rescaled so that a uniform guess is 0 and certainty 1.
    """

    text: str
    label: Polarity
    probabilities: dict[Polarity, float]
    confidence: float

    @property
    def positive(self) -> float:
        return self.probabilities[Polarity.POSITIVE]

    @property
    def negative(self) -> float:
        return self.probabilities[Polarity.NEGATIVE]

    @property
    def neutral(self) -> float:
        return self.probabilities[Polarity.NEUTRAL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label.value,
            "confidence": round(self.confidence, 6),
            "probabilities": {k.value: round(v, 6) for k, v in self.probabilities.items()},
        }


@dataclass(frozen=True, slots=True)
class ItemError:
    """One bad item of a batch: its position and what is wrong with it."""

    index: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "error": self.message}


@dataclass(frozen=True, slots=True)
class IntensityLevel:
    """One degree of intensity (of anger or anxiety) and its probability."""

    degree: Intensity
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {"degree": int(self.degree), "probability": round(self.probability, 6)}


@dataclass(frozen=True, slots=True)
class EmotionResult:
    """Customer-service emotion of one text.

    ``probabilities`` covers every class of the chosen set (7 or 8), highest first; ``intensity``
    holds the four degrees, highest probability first, when the top emotion is anger or anxiety,
    and is empty otherwise.
    """

    text: str
    label: Emotion
    probabilities: dict[Emotion, float]
    confidence: float
    intensity: tuple[IntensityLevel, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label.value,
            "confidence": round(self.confidence, 6),
            "probabilities": {k.value: round(v, 6) for k, v in self.probabilities.items()},
            "intensity": [level.to_dict() for level in self.intensity],
        }


@dataclass(frozen=True, slots=True)
class DialogueEmotionResult:
    """Two-level dialogue emotion of one utterance in a scene, with suggested replies.

    ``level2`` is ``None`` (and ``replies`` empty) when level 1 is neutral; ``level2_probabilities``
    always covers the scene's level-2 set, highest first.
    """

    text: str
    scene: Scene
    level1: DialogueLevel1
    level1_probabilities: dict[DialogueLevel1, float]
    level2: str | None
    level2_probabilities: dict[str, float]
    replies: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "scene": self.scene.value,
            "level1": self.level1.value,
            "level1_probabilities": {
                k.value: round(v, 6) for k, v in self.level1_probabilities.items()
            },
            "level2": self.level2,
            "level2_probabilities": {k: round(v, 6) for k, v in self.level2_probabilities.items()},
            "replies": list(self.replies),
        }


def _span(span: tuple[int, int] | None) -> list[int] | None:
    return None if span is None else [span[0], span[1]]


@dataclass(frozen=True, slots=True)
class AspectOpinion:
    """One opinion about one aspect of a text.

    Spans are ``[start, end)`` character offsets into the text the caller gave
    (``text[start:end] == opinion``); ``aspect`` and ``aspect_span`` are ``None`` for an implicit
    aspect (很惊艳: an opinion without a named target). ``probabilities`` covers positive,
    negative and neutral (they sum to 1); ``category`` comes from the keyword lexicon, ``None``
    when no keyword matches.
    """

    aspect: str | None
    aspect_span: tuple[int, int] | None
    opinion: str
    opinion_span: tuple[int, int]
    polarity: Polarity
    probabilities: dict[Polarity, float]
    confidence: float
    category: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "aspect": self.aspect,
            "aspect_span": _span(self.aspect_span),
            "opinion": self.opinion,
            "opinion_span": _span(self.opinion_span),
            "polarity": self.polarity.value,
            "confidence": round(self.confidence, 6),
            "probabilities": {k.value: round(v, 6) for k, v in self.probabilities.items()},
            "category": self.category,
        }


@dataclass(frozen=True, slots=True)
class AspectResult:
    """Every aspect opinion of one text, in text order (empty when the text holds none)."""

    text: str
    opinions: tuple[AspectOpinion, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "opinions": [o.to_dict() for o in self.opinions]}


@dataclass(frozen=True, slots=True)
class AspectPolarityResult:
    """Polarity of one aspect the caller named in a text.

    ``aspect_span`` is where the aspect first occurs in the text (offsets into the caller's text),
    or ``None`` when it does not occur there: the answer is then about the text as a whole.
    """

    text: str
    aspect: str
    aspect_span: tuple[int, int] | None
    label: Polarity
    probabilities: dict[Polarity, float]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "aspect": self.aspect,
            "aspect_span": _span(self.aspect_span),
            "label": self.label.value,
            "confidence": round(self.confidence, 6),
            "probabilities": {k.value: round(v, 6) for k, v in self.probabilities.items()},
        }
