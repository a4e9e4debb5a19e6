"""qinggan (情感): offline Chinese sentiment and emotion analysis.

    >>> import qinggan
    >>> qinggan.analyze("房间很干净，服务也周到").label
    <Polarity.POSITIVE: 'positive'>

Importing qinggan does no I/O: each model loads on first use.
"""

from qinggan._version import __version__
from qinggan.conversation import TrendResult, Turn, TurnScore, analyze_conversation
from qinggan.engine import (
    Analyzer,
    analyze,
    analyze_batch,
    aspect_polarity,
    aspect_polarity_batch,
    aspects,
    aspects_batch,
    dialogue_emotion,
    dialogue_emotion_batch,
    emotions,
    emotions_batch,
    load,
)
from qinggan.errors import ConfigError, DataError, InputError, ModelError, QingganError
from qinggan.labels import DialogueLevel1, Emotion, Intensity, Polarity, Scene, Trend
from qinggan.results import (
    AspectOpinion,
    AspectPolarityResult,
    AspectResult,
    DialogueEmotionResult,
    EmotionResult,
    IntensityLevel,
    ItemError,
    PolarityResult,
)

__all__ = [
    "Analyzer",
    "AspectOpinion",
    "AspectPolarityResult",
    "AspectResult",
    "ConfigError",
    "DataError",
    "DialogueEmotionResult",
    "DialogueLevel1",
    "Emotion",
    "EmotionResult",
    "InputError",
    "Intensity",
    "IntensityLevel",
    "ItemError",
    "ModelError",
    "Polarity",
    "PolarityResult",
    "QingganError",
    "Scene",
    "Trend",
    "TrendResult",
    "Turn",
    "TurnScore",
    "__version__",
    "analyze",
    "analyze_batch",
    "analyze_conversation",
    "aspect_polarity",
    "aspect_polarity_batch",
    "aspects",
    "aspects_batch",
    "dialogue_emotion",
    "dialogue_emotion_batch",
    "emotions",
    "emotions_batch",
    "load",
]
