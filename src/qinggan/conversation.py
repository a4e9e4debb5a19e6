"""Conversation trend (JD ``sentimentSeries``): how the customer's mood moves over a dialogue.

Each turn gets a *mood score* in [-1, 1]: P(positive) - P(negative) from the polarity model, with
room for one extra term (for example from customer-service emotions) mixed in by
:func:`mood_scores`. Only the customer's turns count when speakers are given (see
:data:`CUSTOMER_SPEAKERS`). From the counted scores, in order, :func:`trend_features` draws a few
numbers (the slope of a least-squares line over turn position, the end-minus-start change, the
last score and a mean weighted towards later turns) and :func:`trend_from_scores` maps them to
``turn_good`` / ``turn_bad`` / ``keep_smooth`` with a small softmax:

    logit(turn_good)   =  w · f + b_good
    logit(turn_bad)    = -w · f + b_bad + escalation
    logit(keep_smooth) =  0

Without the escalation term (below) the rule is mirror-symmetric: reversing the sign of every
score swaps good and bad. ``w`` and the
two biases are fitted by ``scripts/fit_trend.py`` and shipped as data in ``resources/trend.json``.
With only one or two counted turns there is too little to fit a line through, so a plainer rule
applies: the change ``c`` = last - first (0 for one turn) gives the logits
``beta * (c - tau)``, ``beta * (-c - tau)`` and 0, i.e. keep_smooth unless ``|c|`` exceeds ``tau``.

**Escalation (customer service).** A customer who stays negative and grows angrier is getting
worse even when the polarity of each turn is already as low as it goes (JD's own example,
货还没送到 / 货还没收到 / 他妈这个厂家真不是人来的 / 还是纠纷那个单 / 都投诉N次了 /
都仲裁N次了，没结果, is ``turn_bad``: anxious waiting turns into complaints and arbitration). The
customer-service emotion model gives each counted turn its P(anger) (8 classes; its training
teaches it the escalation cues: 投诉, 仲裁, 12315, insults, N次). With ``k = max(1, round(n / 3))``
turns at each end, the *anger rise* is the mean P(anger) of the last ``k`` turns minus that of the
first ``k``; when the last ``k`` mood scores average below ``threshold`` (the customer ends
unhappy), the escalation strength grows from 0 to 1 as the rise goes from ``rise_min`` to
``rise_min + span``. ``turn_bad``'s logit gains ``bonus * strength``, or with one or two counted
turns ``short_beta * short_shift * strength`` (there an escalation counts as a fall of
``short_shift`` in mood). A customer upset from the first turn to the last whose anger does not
rise keeps smooth, as the written conversations are labelled. These few numbers are set by hand
(CPED's TV dialogue, which the fitted part learns from, has no customer to escalate); the fit
treats the escalation term as a fixed offset. Without anger values (:func:`trend_from_scores`
called with scores only) there is no escalation term.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from qinggan.engine import Analyzer, default_analyzer
from qinggan.errors import InputError, ModelError
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS, Emotion, Polarity, Trend
from qinggan.text import check_text

#: Speaker names (compared case-insensitively, surrounding blanks ignored) that mean the customer.
#: Every other named speaker ("agent", "客服", "seller", "bot", ...) is staff and does not count.
#: A turn without a speaker counts; so when no turn names its speaker, every turn counts.
CUSTOMER_SPEAKERS: frozenset[str] = frozenset(
    {
        "customer",
        "user",
        "client",
        "buyer",
        "consumer",
        "客户",
        "顾客",
        "用户",
        "买家",
        "消费者",
        "访客",
    }
)

#: Order of the feature vector returned by :func:`trend_features`.
FEATURE_NAMES: tuple[str, ...] = ("slope", "change", "last", "late_mean")

#: Order in which probabilities are reported.
TREND_LABELS: tuple[Trend, ...] = (Trend.TURN_GOOD, Trend.TURN_BAD, Trend.KEEP_SMOOTH)

_POSITIVE = POLARITY_LABELS.index(Polarity.POSITIVE)
_NEGATIVE = POLARITY_LABELS.index(Polarity.NEGATIVE)
_ANGER = EMOTION8_LABELS.index(Emotion.ANGER)


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance of a conversation; ``speaker`` is optional."""

    text: str
    speaker: str | None = None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Turn:
        """A turn from ``{"text": ..., "speaker": ...}`` (other keys are ignored)."""
        return cls(text=record.get("text"), speaker=record.get("speaker"))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TurnScore:
    """The mood score of one turn; ``counted`` is False for staff turns, which the trend ignores."""

    index: int
    speaker: str | None
    text: str
    score: float
    counted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "speaker": self.speaker,
            "text": self.text,
            "score": round(self.score, 6),
            "counted": self.counted,
        }


@dataclass(frozen=True, slots=True)
class TrendResult:
    """The trend of a conversation, its probabilities (summing to 1) and the per-turn scores."""

    label: Trend
    probabilities: dict[Trend, float]
    turns: tuple[TurnScore, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label.value,
            "probabilities": {k.value: round(v, 6) for k, v in self.probabilities.items()},
            "turns": [turn.to_dict() for turn in self.turns],
        }


@dataclass(frozen=True, slots=True)
class Escalation:
    """The customer-service escalation rule (set by hand, see the module docstring)."""

    threshold: float = -0.3
    rise_min: float = 0.1
    span: float = 0.3
    bonus: float = 2.0
    short_shift: float = 0.8

    def strength(self, values: np.ndarray, anger: np.ndarray) -> float:
        """0..1: how clearly an unhappy customer's anger rises from the first turns to the last."""
        k = max(1, round(values.size / 3))
        if values[-k:].mean() >= self.threshold:
            return 0.0
        rise = float(anger[-k:].mean() - anger[:k].mean())
        return float(np.clip((rise - self.rise_min) / self.span, 0.0, 1.0))

    def logit(self, values: np.ndarray, anger: np.ndarray | None, short_beta: float) -> float:
        """What the escalation adds to ``turn_bad``'s logit (0 without anger values)."""
        if anger is None:
            return 0.0
        scale = short_beta * self.short_shift if values.size <= 2 else self.bonus
        return scale * self.strength(values, anger)


@dataclass(frozen=True, slots=True)
class TrendParameters:
    """Coefficients of the trend rule (see the module docstring)."""

    weights: tuple[float, ...]
    bias_good: float
    bias_bad: float
    short_tau: float
    short_beta: float
    escalation: Escalation = field(default_factory=lambda: Escalation())

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURE_NAMES):
            raise ModelError(
                f"trend parameters need {len(FEATURE_NAMES)} weights ({', '.join(FEATURE_NAMES)}), "
                f"got {len(self.weights)}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrendParameters:
        try:
            weights = data["weights"]
            return cls(
                weights=tuple(float(weights[name]) for name in FEATURE_NAMES),
                bias_good=float(data["bias_good"]),
                bias_bad=float(data["bias_bad"]),
                short_tau=float(data["short_tau"]),
                short_beta=float(data["short_beta"]),
                escalation=Escalation(
                    **{k: float(v) for k, v in data.get("escalation", {}).items()}
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed trend parameters: {exc!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": dict(zip(FEATURE_NAMES, self.weights, strict=True)),
            "bias_good": self.bias_good,
            "bias_bad": self.bias_bad,
            "short_tau": self.short_tau,
            "short_beta": self.short_beta,
            "escalation": asdict(self.escalation),
        }


_parameters: TrendParameters | None = None
_parameters_lock = threading.Lock()


def default_parameters() -> TrendParameters:
    """The shipped coefficients (``resources/trend.json``), read once on first use."""
    global _parameters
    if _parameters is None:
        with _parameters_lock:
            if _parameters is None:
                source = resources.files("qinggan") / "resources" / "trend.json"
                try:
                    data = json.loads(source.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise ModelError(f"cannot read the trend parameters {source}: {exc}") from None
                _parameters = TrendParameters.from_dict(data)
    return _parameters


def mood_scores(
    polarity: np.ndarray,
    extra: Sequence[float] | np.ndarray | None = None,
    extra_weight: float = 0.5,
) -> np.ndarray:
    """Per-turn mood in [-1, 1] from polarity probabilities (columns in ``POLARITY_LABELS`` order).

    The polarity part is P(positive) - P(negative). ``extra``, one value in [-1, 1] per turn (for
    instance a mood read from emotion probabilities), is mixed in with weight ``extra_weight``:
    ``(1 - extra_weight) * polarity_part + extra_weight * extra``.
    """
    polarity = np.asarray(polarity, dtype=float)
    scores = polarity[:, _POSITIVE] - polarity[:, _NEGATIVE]
    if extra is not None:
        extra_array = np.asarray(extra, dtype=float)
        if extra_array.shape != scores.shape:
            raise InputError(f"extra mood has shape {extra_array.shape}; expected {scores.shape}")
        if not 0.0 <= extra_weight <= 1.0:
            raise InputError(f"extra_weight must lie in [0, 1], got {extra_weight}")
        scores = (1.0 - extra_weight) * scores + extra_weight * extra_array
    return np.clip(scores, -1.0, 1.0)


def _as_scores(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise InputError(f"expected a non-empty list of turn scores, got shape {values.shape}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"turn score {int(bad[0])} is not a finite number: {values[bad[0]]}")
    return values


def trend_features(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """The features of counted scores, in :data:`FEATURE_NAMES` order.

    - slope: least-squares slope over turn position rescaled to [0, 1] (so it is the fitted change
      from the first to the last turn, whatever the length); 0 for one turn;
    - change: mean of the last third minus mean of the first third (``k = max(1, round(n / 3))``
      turns each);
    - last: the last score;
    - late_mean: the mean weighted by position (turn ``i`` of ``n`` weighs ``i + 1``).
    """
    values = _as_scores(scores)
    n = values.size
    if n > 1:
        position = np.linspace(0.0, 1.0, n)
        centred = position - position.mean()
        slope = float(centred @ (values - values.mean()) / (centred @ centred))
    else:
        slope = 0.0
    k = max(1, round(n / 3))
    change = float(values[-k:].mean() - values[:k].mean())
    weights = np.arange(1, n + 1, dtype=float)
    late_mean = float(weights @ values / weights.sum())
    return np.array([slope, change, float(values[-1]), late_mean])


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _as_anger(anger: Sequence[float] | np.ndarray | None, size: int) -> np.ndarray | None:
    if anger is None:
        return None
    values = np.asarray(anger, dtype=float)
    if values.shape != (size,):
        raise InputError(f"expected {size} anger values (one per score), got shape {values.shape}")
    if not np.all((values >= 0.0) & (values <= 1.0)):  # also refuses NaN
        raise InputError("anger values are probabilities: each must lie in [0, 1]")
    return values


def trend_logits(
    scores: Sequence[float],
    parameters: TrendParameters | None = None,
    *,
    anger: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Logits of (turn_good, turn_bad, keep_smooth) for counted scores; see the module docstring.

    ``anger`` (optional, one P(anger) per score) feeds the escalation term.
    """
    values = _as_scores(scores)
    angers = _as_anger(anger, values.size)
    p = parameters if parameters is not None else default_parameters()
    escalation = p.escalation.logit(values, angers, p.short_beta)
    if values.size <= 2:
        change = float(values[-1] - values[0])
        return np.array(
            [
                p.short_beta * (change - p.short_tau),
                p.short_beta * (-change - p.short_tau) + escalation,
                0.0,
            ]
        )
    push = float(np.asarray(p.weights) @ trend_features(values))
    return np.array([push + p.bias_good, -push + p.bias_bad + escalation, 0.0])


def trend_from_scores(
    scores: Sequence[float],
    *,
    parameters: TrendParameters | None = None,
    anger: Sequence[float] | np.ndarray | None = None,
) -> tuple[Trend, dict[Trend, float]]:
    """The trend of counted mood scores (in turn order) and the probability of each outcome;
    ``anger``, one P(anger) per score, adds the escalation term."""
    probabilities = _softmax(trend_logits(scores, parameters, anger=anger))
    label = TREND_LABELS[int(probabilities.argmax())]
    return label, {trend: float(p) for trend, p in zip(TREND_LABELS, probabilities, strict=True)}


def _read_turns(turns: Sequence[Turn | str]) -> list[Turn]:
    if isinstance(turns, str | bytes) or not isinstance(turns, Sequence):
        raise InputError(
            f"expected a list of turns (texts or Turn objects), got {type(turns).__name__}"
        )
    if not turns:
        raise InputError("a conversation needs at least one turn; got an empty list")
    read = []
    for index, turn in enumerate(turns):
        if isinstance(turn, str):
            turn = Turn(turn)
        elif not isinstance(turn, Turn):
            raise InputError(f"turn {index}: expected a text or a Turn, got {type(turn).__name__}")
        try:
            check_text(turn.text)
        except InputError as exc:
            raise InputError(f"turn {index}: {exc}") from None
        if turn.speaker is not None and not isinstance(turn.speaker, str):
            raise InputError(
                f"turn {index}: speaker must be a string or None, got {type(turn.speaker).__name__}"
            )
        read.append(turn)
    return read


def anger_probabilities(analyzer: Analyzer, texts: Sequence[str]) -> np.ndarray:
    """P(anger) of each text from the customer-service emotion model (8 classes)."""
    return analyzer.emotion_probabilities(texts, 8)[:, _ANGER]


def counted_turns(
    turns: Sequence[Turn], customer_speakers: Collection[str] | None = None
) -> list[bool]:
    """Which turns count towards the trend: customers' turns and turns without a speaker."""
    names = customer_speakers if customer_speakers is not None else CUSTOMER_SPEAKERS
    customers = {name.strip().casefold() for name in names}
    return [t.speaker is None or t.speaker.strip().casefold() in customers for t in turns]


def analyze_conversation(
    turns: Sequence[Turn | str],
    analyzer: Analyzer | None = None,
    customer_speakers: Collection[str] | None = None,
    *,
    extra_mood: Callable[[list[str]], Sequence[float] | np.ndarray] | None = None,
    extra_weight: float = 0.5,
) -> TrendResult:
    """The mood trend of one conversation, in order, with every turn's score.

    ``turns`` are plain texts or :class:`Turn` objects. When speakers are given only the
    customer's turns count (names in ``customer_speakers``, by default :data:`CUSTOMER_SPEAKERS`);
    staff turns are scored but marked ``counted=False``. ``extra_mood``, given the turn texts,
    returns one extra mood value in [-1, 1] per turn, mixed in as described in :func:`mood_scores`.
    The customer-service emotion model reads each counted turn's P(anger) for the escalation term
    (see the module docstring). Raises :class:`InputError` for an empty conversation, a bad turn
    (naming its index) or a conversation in which no turn counts.
    """
    read = _read_turns(turns)
    counted = counted_turns(read, customer_speakers)
    if not any(counted):
        speakers = ", ".join(sorted({str(t.speaker) for t in read}))
        names = customer_speakers if customer_speakers is not None else CUSTOMER_SPEAKERS
        raise InputError(
            f"no customer turn to score: the speakers are {speakers}; a customer is one of "
            f"{', '.join(sorted(names))} (or pass customer_speakers=...)"
        )
    texts = [turn.text for turn in read]
    engine = analyzer if analyzer is not None else default_analyzer()
    extra = extra_mood(texts) if extra_mood is not None else None
    scores = mood_scores(engine.probabilities(texts), extra, extra_weight)
    keep = np.array(counted, dtype=bool)
    anger = anger_probabilities(engine, [t for t, c in zip(texts, counted, strict=True) if c])
    label, probabilities = trend_from_scores(scores[keep], anger=anger)
    return TrendResult(
        label=label,
        probabilities=probabilities,
        turns=tuple(
            TurnScore(index=i, speaker=t.speaker, text=t.text, score=float(s), counted=c)
            for i, (t, s, c) in enumerate(zip(read, scores, counted, strict=True))
        ),
    )
