"""Two-level dialogue emotion (Jumdata / Baidu style) from the engine's other judgements.

Level 1 (optimistic / neutral / pessimistic): in the ``customer_service`` and ``task`` scenes it
comes from the customer-service emotion model (optimistic = happy, neutral = other, pessimistic =
every other emotion), which was trained on service utterances and knows that a plain question
(请问几点发货) is neutral; in ``talk`` and ``default`` it is the polarity distribution renamed.
Level 2 depends on the scene:

* ``customer_service`` and ``task`` (thankful, happy, complaining, angry) come from the
  customer-service emotion model: the ``happy`` mass splits into thankful and happy by a thanks
  cue (谢谢, 感谢, 辛苦了 ...); anger at medium or high intensity is ``angry``, low-intensity anger
  and every other negative emotion (anxiety, lost, sad, fear, satiric) is ``complaining``.
* ``talk`` and ``default`` (like, happy, angry, disgusting, fearful, sad) come from the chit-chat
  emotion model trained on the Weibo emotion corpora, which keep like and disgust apart.

The level-2 label is chosen on the side level 1 chose (an optimistic utterance gets a positive
level-2 label), and is ``None`` when level 1 is neutral. Suggested replies come from our own
phrase book (``resources/replies/phrasebook.json``), several per (scene, level-2 label), picked
deterministically from the text so that the same text always gets the same replies.
"""

from __future__ import annotations

import json
import re
import zlib
from functools import lru_cache
from importlib import resources

from qinggan.labels import DialogueLevel1, Emotion, Intensity, Scene, ServiceLevel2, TalkLevel2
from qinggan.results import IntensityLevel

THANKS = re.compile(r"谢|感谢|多谢|辛苦了|麻烦你了|给力|thx|thanks|thank you|🙏")
POSITIVE_LEVEL2 = frozenset(
    {ServiceLevel2.THANKFUL, ServiceLevel2.HAPPY, TalkLevel2.LIKE, TalkLevel2.HAPPY}
)
REPLIES_PER_ANSWER = 3


def level1_probabilities(
    positive: float, negative: float, neutral: float
) -> dict[DialogueLevel1, float]:
    return {
        DialogueLevel1.OPTIMISTIC: positive,
        DialogueLevel1.NEUTRAL: neutral,
        DialogueLevel1.PESSIMISTIC: negative,
    }


def service_level1(emotions: dict[Emotion, float]) -> dict[DialogueLevel1, float]:
    """Level 1 of the service scenes from the customer-service emotions."""
    positive = emotions.get(Emotion.HAPPY, 0.0)
    neutral = emotions.get(Emotion.OTHER, 0.0)
    negative = max(sum(emotions.values()) - positive - neutral, 0.0)
    return level1_probabilities(positive, negative, neutral)


def service_level2(
    text: str, emotions: dict[Emotion, float], anger_intensity: tuple[IntensityLevel, ...]
) -> dict[str, float]:
    """Level-2 probabilities of the customer_service / task scenes (they sum to 1)."""
    happy = emotions.get(Emotion.HAPPY, 0.0)
    thanks_share = 0.85 if THANKS.search(text) else 0.15
    anger = emotions.get(Emotion.ANGER, 0.0)
    strong = sum(level.probability for level in anger_intensity if level.degree >= Intensity.MEDIUM)
    weak = sum(level.probability for level in anger_intensity if level.degree < Intensity.MEDIUM)
    strong_share = strong / (strong + weak) if strong + weak > 0 else 0.5
    other_negative = sum(
        emotions.get(e, 0.0)
        for e in (Emotion.ANXIETY, Emotion.LOST, Emotion.SAD, Emotion.FEAR, Emotion.SATIRIC)
    )
    raw = {
        ServiceLevel2.THANKFUL.value: happy * thanks_share,
        ServiceLevel2.HAPPY.value: happy * (1 - thanks_share),
        ServiceLevel2.COMPLAINING.value: anger * (1 - strong_share) + other_negative,
        ServiceLevel2.ANGRY.value: anger * strong_share,
    }
    return _normalised(raw)


def _normalised(raw: dict[str, float]) -> dict[str, float]:
    total = sum(raw.values())
    if total <= 0:
        return {k: 1.0 / len(raw) for k in raw}
    return dict(sorted(((k, v / total) for k, v in raw.items()), key=lambda kv: -kv[1]))


def talk_level2(probabilities: dict[str, float]) -> dict[str, float]:
    """Level-2 probabilities of the talk / default scenes, highest first."""
    return _normalised({label.value: probabilities.get(label.value, 0.0) for label in TalkLevel2})


def choose_level2(level1: DialogueLevel1, level2: dict[str, float]) -> str | None:
    """The most probable level-2 label on level 1's side; ``None`` for neutral."""
    if level1 is DialogueLevel1.NEUTRAL:
        return None
    positive = {label.value for label in POSITIVE_LEVEL2}
    side = [k for k in level2 if (k in positive) == (level1 is DialogueLevel1.OPTIMISTIC)]
    return max(side, key=level2.__getitem__) if side else None


@lru_cache(maxsize=1)
def phrasebook() -> dict[str, dict[str, list[str]]]:
    path = resources.files("qinggan") / "resources" / "replies" / "phrasebook.json"
    data: dict[str, dict[str, list[str]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def replies(
    text: str, scene: Scene, level2: str | None, count: int = REPLIES_PER_ANSWER
) -> tuple[str, ...]:
    """Suggested replies for (scene, level-2 label): the same text always gets the same ones."""
    if level2 is None:
        return ()
    book = "customer_service" if scene in (Scene.CUSTOMER_SERVICE, Scene.TASK) else "talk"
    phrases = phrasebook().get(book, {}).get(level2, [])
    if not phrases:
        return ()
    start = zlib.crc32(text.encode("utf-8")) % len(phrases)
    return tuple(phrases[(start + i) % len(phrases)] for i in range(min(count, len(phrases))))
