"""Canonical label sets: the one place each judgement's labels and their order are defined.

Vendor spellings and integer codes never appear here; each vendor dialect maps these names.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Polarity(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


#: Column order of every polarity model's probability output.
POLARITY_LABELS: tuple[Polarity, ...] = (Polarity.POSITIVE, Polarity.NEGATIVE, Polarity.NEUTRAL)


class Emotion(StrEnum):
    """Customer-service emotions (JD type 3 uses the first seven, type 5 all eight)."""

    OTHER = "other"
    ANXIETY = "anxiety"
    ANGER = "anger"
    HAPPY = "happy"
    LOST = "lost"
    SAD = "sad"
    FEAR = "fear"
    SATIRIC = "satiric"


class Sarcasm(StrEnum):
    """Whether a text is sarcastic: an auxiliary head of the shared encoder (it teaches the
    encoder what ``satiric`` reads like; no door answers with it)."""

    NON_SARCASM = "non_sarcasm"
    SARCASM = "sarcasm"


EMOTION7_LABELS: tuple[Emotion, ...] = tuple(e for e in Emotion if e is not Emotion.SATIRIC)
EMOTION8_LABELS: tuple[Emotion, ...] = tuple(Emotion)
#: emotions that carry an intensity level (JD V2 levelList)
INTENSITY_EMOTIONS: frozenset[Emotion] = frozenset({Emotion.ANGER, Emotion.ANXIETY})


class Intensity(IntEnum):
    """Degree of anger or anxiety."""

    OTHER = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Scene(StrEnum):
    DEFAULT = "default"
    TALK = "talk"
    TASK = "task"
    CUSTOMER_SERVICE = "customer_service"


class DialogueLevel1(StrEnum):
    OPTIMISTIC = "optimistic"
    NEUTRAL = "neutral"
    PESSIMISTIC = "pessimistic"


class ServiceLevel2(StrEnum):
    """Level-2 dialogue emotions of the customer_service and task scenes."""

    THANKFUL = "thankful"
    HAPPY = "happy"
    COMPLAINING = "complaining"
    ANGRY = "angry"


class TalkLevel2(StrEnum):
    """Level-2 dialogue emotions of the talk and default scenes."""

    LIKE = "like"
    HAPPY = "happy"
    ANGRY = "angry"
    DISGUSTING = "disgusting"
    FEARFUL = "fearful"
    SAD = "sad"


#: which level-2 label set each scene uses
SCENE_LEVEL2: dict[Scene, type[ServiceLevel2] | type[TalkLevel2]] = {
    Scene.CUSTOMER_SERVICE: ServiceLevel2,
    Scene.TASK: ServiceLevel2,
    Scene.TALK: TalkLevel2,
    Scene.DEFAULT: TalkLevel2,
}


class Trend(StrEnum):
    """How the mood of a conversation moves."""

    TURN_GOOD = "turn_good"
    TURN_BAD = "turn_bad"
    KEEP_SMOOTH = "keep_smooth"


#: Aspect categories of the shipped keyword lexicon (``resources/aspects/categories.tsv``),
#: grouped by domain: restaurants and hotels, shopping and delivery, devices, cars. An aspect whose
#: term (or, for an implicit aspect, opinion term) matches no keyword has no category (``None``);
#: users add keywords and categories of their own with ``Analyzer(aspect_categories=...)``.
ASPECT_CATEGORIES: tuple[str, ...] = (
    # restaurants, hotels, places
    "food",
    "service",
    "price",
    "environment",
    "location",
    "room",
    "hygiene",
    # shopping and delivery
    "delivery",
    "packaging",
    "quality",
    "appearance",
    # devices
    "battery",
    "screen",
    "performance",
    "camera",
    "sound",
    # cars
    "power",
    "fuel",
    "handling",
    "comfort",
    "space",
    "interior",
    "safety",
    "configuration",
)


def parse_choice(enum: type[E], value: str, what: str) -> E:
    """Read a label of ``enum`` written by a person; a clear error lists the choices."""
    try:
        return enum(value.strip().lower())
    except (ValueError, AttributeError):
        expected = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown {what} {value!r}; expected one of: {expected}") from None
