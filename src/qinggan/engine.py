"""The Analyzer: normalisation + models -> frozen results. Every door (library, CLI, service,
jobs, bulk) calls it.

Judgements and the models behind them (each a model directory, loaded lazily, once, under a lock):

* polarity (``resources/models/polarity``);
* customer-service emotions, 7 or 8 classes, with intensity for anger and anxiety
  (``resources/models/emotion`` + :mod:`qinggan.intensity`);
* two-level dialogue emotion with suggested replies (:mod:`qinggan.dialogue`; the chit-chat level
  2 uses ``resources/models/talk_emotion``);
* conversation trend (:mod:`qinggan.conversation`);
* aspect-level opinions and the polarity of a named aspect (``resources/models/aspects``, see
  :mod:`qinggan.absa`), categories from ``resources/aspects/categories.tsv``.

An Analyzer is safe to share between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import numpy as np

from qinggan.absa.categories import CategoryLexicon
from qinggan.absa.model import AspectModel
from qinggan.dialogue import (
    choose_level2,
    level1_probabilities,
    replies,
    service_level1,
    service_level2,
    talk_level2,
)
from qinggan.errors import ConfigError, InputError, ModelError
from qinggan.intensity import intensity_levels
from qinggan.labels import (
    EMOTION7_LABELS,
    EMOTION8_LABELS,
    INTENSITY_EMOTIONS,
    POLARITY_LABELS,
    Emotion,
    Scene,
    TalkLevel2,
    parse_choice,
)
from qinggan.models.io import ModelMeta, read_meta
from qinggan.models.registry import load_classifier
from qinggan.results import (
    AspectOpinion,
    AspectPolarityResult,
    AspectResult,
    DialogueEmotionResult,
    EmotionResult,
    ItemError,
    PolarityResult,
)
from qinggan.text import check_text, normalize
from qinggan.text.english import blend_english

R = TypeVar("R")
Errors = Literal["raise", "report"]


def default_model_dir(name: str = "polarity") -> Path:
    """Directory of a model shipped inside the package."""
    return Path(str(resources.files("qinggan") / "resources" / "models" / name))


def confidence_of(probabilities: np.ndarray) -> float:
    """How sure the top label is: 0 for a uniform guess, 1 for certainty."""
    k = probabilities.shape[-1]
    return float((probabilities.max() - 1.0 / k) / (1.0 - 1.0 / k))


class _LazyModel:
    """A model directory loaded on first use, once, under a lock; columns mapped to ``labels``."""

    def __init__(
        self, directory: Path, task: str, labels: Sequence[str], fast: bool = False
    ) -> None:
        self.directory = directory
        self.fast = fast
        self.task = task
        self.labels = tuple(labels)
        self._lock = threading.Lock()
        self._loaded: tuple[ModelMeta, Any, list[int]] | None = None

    def get(self) -> tuple[ModelMeta, Any, list[int]]:
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
                loaded = self._loaded
        return loaded

    def _load(self) -> tuple[ModelMeta, Any, list[int]]:
        meta, classifier = load_classifier(self.directory, fast=self.fast)
        classes = list(classifier.classes_)
        if set(classes) - set(self.labels) or len(classes) < 2:
            raise ModelError(
                f"{self.directory} is not a {self.task} model: its labels are {classes}"
            )
        # a label the model lacks (a positive/negative-only polarity model) gets probability 0
        return meta, classifier, [self.labels.index(label) for label in classes]

    def probabilities(self, normalized: Sequence[str]) -> np.ndarray:
        _, classifier, columns = self.get()
        out = np.zeros((len(normalized), len(self.labels)))
        if normalized:
            out[:, columns] = classifier.predict_proba(normalized)
        return out


class Analyzer:
    """Every judgement of qinggan over a set of model directories (the shipped ones by default).

    ``model_dir`` is the polarity model (``qinggan.load`` picks the slot from ``meta.json``);
    ``max_bytes`` refuses longer texts (UTF-8) with :class:`InputError` (``None`` or ``0``: no
    limit, the one meaning of 0 for every limit of qinggan); ``fast`` answers with
    only the linear member of each ensemble (several times faster, a little less accurate).
    ``aspect_model`` is an aspect model directory (default: the shipped one);
    ``aspect_categories`` adds keywords in front of the shipped category lexicon: a TSV file
    (``keyword<TAB>category[<TAB>aspect|opinion|any]``) or a mapping ``{keyword: category}``.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        emotion_model: str | Path | None = None,
        talk_model: str | Path | None = None,
        aspect_model: str | Path | None = None,
        aspect_categories: str | Path | Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        fast: bool = False,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir("polarity")
        if max_bytes is not None and (isinstance(max_bytes, bool) or max_bytes < 0):
            raise ConfigError(f"max_bytes must be 0 (no limit) or more, got {max_bytes!r}")
        self.max_bytes = max_bytes or None
        self.fast = fast
        polarity = [label.value for label in POLARITY_LABELS]
        self._polarity = _LazyModel(self.model_dir, "polarity", polarity, fast)
        self._emotion = _LazyModel(
            Path(emotion_model) if emotion_model else default_model_dir("emotion"),
            "emotion",
            [e.value for e in EMOTION8_LABELS],
            fast,
        )
        self._talk = _LazyModel(
            Path(talk_model) if talk_model else default_model_dir("talk_emotion"),
            "talk-emotion",
            [label.value for label in TalkLevel2],
            fast,
        )
        self.aspect_model_dir = (
            Path(aspect_model) if aspect_model is not None else default_model_dir("aspects")
        )
        # read now, so that a bad user lexicon fails at construction, not at the first text
        self._categories = (
            CategoryLexicon.shipped(aspect_categories) if aspect_categories is not None else None
        )
        self._aspects: AspectModel | None = None
        self._aspects_lock = threading.Lock()

    # -- loading ------------------------------------------------------------------------------
    def load(self) -> Analyzer:
        """Load the polarity model now instead of on first use; returns self."""
        self._polarity.get()
        return self

    def load_all(self) -> Analyzer:
        """Load every model now (a server does this at start-up); returns self."""
        for model in (self._polarity, self._emotion, self._talk):
            model.get()
        self._aspect_model()
        return self

    @property
    def meta(self) -> ModelMeta:
        return self._polarity.get()[0]

    # -- input --------------------------------------------------------------------------------
    def _normalize(self, texts: Sequence[str]) -> list[str]:
        return [normalize(text, max_bytes=self.max_bytes) for text in texts]

    def _batch(
        self, texts: Sequence[str], errors: Errors, answer: Callable[[list[str]], list[R]]
    ) -> list[R] | list[R | ItemError]:
        """Validate every item, answer the good ones in one call, report or raise the bad ones."""
        if isinstance(texts, str):
            raise InputError("a batch expects a list of texts, got one string")
        problems: dict[int, str] = {}
        for index, text in enumerate(texts):
            try:
                check_text(text, max_bytes=self.max_bytes)
            except InputError as exc:
                problems[index] = str(exc)
        if problems and errors == "raise":
            index, message = next(iter(problems.items()))
            more = f" (and {len(problems) - 1} more bad items)" if len(problems) > 1 else ""
            raise InputError(f"item {index}: {message}{more}")
        good = [text for index, text in enumerate(texts) if index not in problems]
        results = answer(good) if good else []
        if not problems:
            return results
        answered = iter(results)
        return [
            ItemError(index, problems[index]) if index in problems else next(answered)
            for index in range(len(texts))
        ]

    # -- polarity -----------------------------------------------------------------------------
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Polarity probabilities, columns in ``POLARITY_LABELS`` order; the English words of a
        text are read by :mod:`qinggan.text.english` and blended in by their share."""
        normalized = self._normalize(texts)
        return blend_english(normalized, self._polarity.probabilities(normalized))

    def analyze(self, text: str) -> PolarityResult:
        """Polarity of one text."""
        return self._polarity_results([text])[0]

    @overload
    def analyze_batch(
        self, texts: Sequence[str], *, errors: Literal["raise"] = "raise"
    ) -> list[PolarityResult]: ...
    @overload
    def analyze_batch(
        self, texts: Sequence[str], *, errors: Literal["report"]
    ) -> list[PolarityResult | ItemError]: ...

    def analyze_batch(
        self, texts: Sequence[str], *, errors: Errors = "raise"
    ) -> list[PolarityResult] | list[PolarityResult | ItemError]:
        """Polarity of many texts; same results as :meth:`analyze` one by one, much faster.

        A bad item raises :class:`InputError` naming its index, or with ``errors="report"`` comes
        back as an :class:`ItemError` in its place while every other item is answered.
        """
        return self._batch(texts, errors, self._polarity_results)

    def _polarity_results(self, texts: Sequence[str]) -> list[PolarityResult]:
        results = []
        for text, row in zip(texts, self.probabilities(texts), strict=True):
            probs = {label: float(p) for label, p in zip(POLARITY_LABELS, row, strict=True)}
            top = POLARITY_LABELS[int(row.argmax())]
            results.append(
                PolarityResult(
                    text=text, label=top, probabilities=probs, confidence=confidence_of(row)
                )
            )
        return results

    # -- customer-service emotions --------------------------------------------------------------
    def emotions(self, text: str, classes: Literal[7, 8] = 7) -> EmotionResult:
        """Customer-service emotion of one text: 7 classes (JD type 3) or 8 with satiric."""
        return self._emotion_results([text], classes)[0]

    @overload
    def emotions_batch(
        self,
        texts: Sequence[str],
        classes: Literal[7, 8] = 7,
        *,
        errors: Literal["raise"] = "raise",
    ) -> list[EmotionResult]: ...
    @overload
    def emotions_batch(
        self, texts: Sequence[str], classes: Literal[7, 8] = 7, *, errors: Literal["report"]
    ) -> list[EmotionResult | ItemError]: ...

    def emotions_batch(
        self, texts: Sequence[str], classes: Literal[7, 8] = 7, *, errors: Errors = "raise"
    ) -> list[EmotionResult] | list[EmotionResult | ItemError]:
        """Emotions of many texts (see :meth:`analyze_batch` for ``errors``)."""
        return self._batch(texts, errors, lambda good: self._emotion_results(good, classes))

    def emotion_probabilities(self, texts: Sequence[str], classes: Literal[7, 8] = 7) -> np.ndarray:
        """Emotion probabilities, columns in ``EMOTION7_LABELS`` or ``EMOTION8_LABELS`` order."""
        return self._emotion_matrix(self._normalize(texts), classes)

    def _emotion_matrix(self, normalized: Sequence[str], classes: int) -> np.ndarray:
        if classes not in (7, 8):
            raise InputError(f"classes must be 7 or 8, got {classes!r}")
        probs = self._emotion.probabilities(normalized)
        if classes == 7:
            probs = probs[:, : len(EMOTION7_LABELS)]
            probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
        return probs

    def _emotion_results(self, texts: Sequence[str], classes: int) -> list[EmotionResult]:
        normalized = self._normalize(texts)
        labels = EMOTION7_LABELS if classes == 7 else EMOTION8_LABELS
        results = []
        for text, clean, row in zip(
            texts, normalized, self._emotion_matrix(normalized, classes), strict=True
        ):
            order = np.argsort(-row, kind="stable")
            probs = {labels[i]: float(row[i]) for i in order}
            top = labels[int(order[0])]
            levels = (
                intensity_levels(clean, top, float(row[order[0]]))
                if top in INTENSITY_EMOTIONS
                else ()
            )
            results.append(
                EmotionResult(
                    text=text,
                    label=top,
                    probabilities=probs,
                    confidence=confidence_of(row),
                    intensity=levels,
                )
            )
        return results

    # -- dialogue emotion -----------------------------------------------------------------------
    def dialogue_emotion(
        self, text: str, scene: Scene | str = Scene.DEFAULT
    ) -> DialogueEmotionResult:
        """Two-level dialogue emotion of one utterance in a scene, with suggested replies."""
        return self._dialogue_results([text], _scene(scene))[0]

    @overload
    def dialogue_emotion_batch(
        self,
        texts: Sequence[str],
        scene: Scene | str = Scene.DEFAULT,
        *,
        errors: Literal["raise"] = "raise",
    ) -> list[DialogueEmotionResult]: ...
    @overload
    def dialogue_emotion_batch(
        self, texts: Sequence[str], scene: Scene | str = Scene.DEFAULT, *, errors: Literal["report"]
    ) -> list[DialogueEmotionResult | ItemError]: ...

    def dialogue_emotion_batch(
        self, texts: Sequence[str], scene: Scene | str = Scene.DEFAULT, *, errors: Errors = "raise"
    ) -> list[DialogueEmotionResult] | list[DialogueEmotionResult | ItemError]:
        """Dialogue emotion of many utterances of one scene (see :meth:`analyze_batch`)."""
        chosen = _scene(scene)
        return self._batch(texts, errors, lambda good: self._dialogue_results(good, chosen))

    def _dialogue_results(self, texts: Sequence[str], scene: Scene) -> list[DialogueEmotionResult]:
        normalized = self._normalize(texts)
        service = scene in (Scene.CUSTOMER_SERVICE, Scene.TASK)
        if service:
            emotions = self._emotion.probabilities(normalized)
        else:
            polarity = self._polarity.probabilities(normalized)
            talk = self._talk.probabilities(normalized)
        results = []
        for i, (text, clean) in enumerate(zip(texts, normalized, strict=True)):
            if service:
                emotion = dict(zip(EMOTION8_LABELS, map(float, emotions[i]), strict=True))
                level1 = service_level1(emotion)
                levels = intensity_levels(clean, Emotion.ANGER, emotion[Emotion.ANGER])
                level2 = service_level2(clean, emotion, levels)
            else:
                level1 = level1_probabilities(*map(float, polarity[i]))
                level2 = talk_level2(
                    dict(zip([t.value for t in TalkLevel2], map(float, talk[i]), strict=True))
                )
            top1 = max(level1, key=level1.__getitem__)
            chosen = choose_level2(top1, level2)
            results.append(
                DialogueEmotionResult(
                    text=text,
                    scene=scene,
                    level1=top1,
                    level1_probabilities=dict(sorted(level1.items(), key=lambda kv: -kv[1])),
                    level2=chosen,
                    level2_probabilities=level2,
                    replies=replies(clean, scene, chosen),
                )
            )
        return results

    # -- aspect-level opinions ------------------------------------------------------------------
    def _aspect_model(self) -> AspectModel:
        model = self._aspects
        if model is None:
            with self._aspects_lock:
                if self._aspects is None:
                    if self._categories is None:
                        self._categories = CategoryLexicon.shipped()
                    self._aspects = AspectModel.load(self.aspect_model_dir)
                model = self._aspects
        return model

    def aspects(self, text: str) -> AspectResult:
        """Aspect-level opinions of one text: each (aspect or implicit, opinion, polarity,
        category) with character spans into ``text``; an empty result when it holds none."""
        check_text(text, max_bytes=self.max_bytes)
        return self._aspect_results([text])[0]

    @overload
    def aspects_batch(
        self, texts: Sequence[str], *, errors: Literal["raise"] = "raise"
    ) -> list[AspectResult]: ...
    @overload
    def aspects_batch(
        self, texts: Sequence[str], *, errors: Literal["report"]
    ) -> list[AspectResult | ItemError]: ...

    def aspects_batch(
        self, texts: Sequence[str], *, errors: Errors = "raise"
    ) -> list[AspectResult] | list[AspectResult | ItemError]:
        """Aspect-level opinions of many texts; the same results as :meth:`aspects` one by one
        (see :meth:`analyze_batch` for ``errors``)."""
        return self._batch(texts, errors, self._aspect_results)

    def _aspect_results(self, texts: Sequence[str]) -> list[AspectResult]:
        model = self._aspect_model()
        categories = self._categories
        assert categories is not None
        results = []
        for text, found in zip(texts, model.extract(texts), strict=True):
            opinions = []
            for raw in found:
                row = np.asarray(raw.probabilities)
                aspect = None if raw.aspect_span is None else text[slice(*raw.aspect_span)]
                opinion = text[slice(*raw.opinion_span)]
                opinions.append(
                    AspectOpinion(
                        aspect=aspect,
                        aspect_span=raw.aspect_span,
                        opinion=opinion,
                        opinion_span=raw.opinion_span,
                        polarity=POLARITY_LABELS[int(row.argmax())],
                        probabilities=dict(zip(POLARITY_LABELS, raw.probabilities, strict=True)),
                        confidence=confidence_of(row),
                        category=categories.assign(aspect, opinion),
                    )
                )
            results.append(AspectResult(text=text, opinions=tuple(opinions)))
        return results

    def aspect_polarity(self, text: str, aspect: str) -> AspectPolarityResult:
        """Polarity of the aspect ``aspect`` (屏幕, 电池) in ``text``.

        The aspect is looked up in the text folded like the model's input (half-width, simplified,
        lower case); its first occurrence is judged. An aspect that does not occur in the text
        gets ``aspect_span=None`` and the polarity of the text as a whole.
        """
        return self.aspect_polarity_batch([(text, aspect)])[0]

    @overload
    def aspect_polarity_batch(
        self, pairs: Sequence[tuple[str, str]], *, errors: Literal["raise"] = "raise"
    ) -> list[AspectPolarityResult]: ...
    @overload
    def aspect_polarity_batch(
        self, pairs: Sequence[tuple[str, str]], *, errors: Literal["report"]
    ) -> list[AspectPolarityResult | ItemError]: ...

    def aspect_polarity_batch(
        self, pairs: Sequence[tuple[str, str]], *, errors: Errors = "raise"
    ) -> list[AspectPolarityResult] | list[AspectPolarityResult | ItemError]:
        """Polarity of many (text, aspect) pairs; the same results as one by one."""
        if isinstance(pairs, str | tuple) and len(pairs) == 2 and isinstance(pairs[0], str):
            raise InputError("a batch expects a list of (text, aspect) pairs, got one pair")
        problems: dict[int, str] = {}
        for index, pair in enumerate(pairs):
            problem = self._pair_problem(pair)
            if problem:
                problems[index] = problem
        if problems and errors == "raise":
            index, message = next(iter(problems.items()))
            more = f" (and {len(problems) - 1} more bad items)" if len(problems) > 1 else ""
            if len(pairs) == 1:
                raise InputError(message)
            raise InputError(f"item {index}: {message}{more}")
        good = [pair for index, pair in enumerate(pairs) if index not in problems]
        results = self._aspect_polarity_results(good) if good else []
        if not problems:
            return results
        answered = iter(results)
        return [
            ItemError(index, problems[index]) if index in problems else next(answered)
            for index in range(len(pairs))
        ]

    def _pair_problem(self, pair: object) -> str | None:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            return f"expected a (text, aspect) pair, got {type(pair).__name__}"
        text, aspect = pair
        try:
            check_text(text, max_bytes=self.max_bytes)
        except InputError as exc:
            return str(exc)
        try:
            check_text(aspect, max_bytes=self.max_bytes)
        except InputError as exc:
            return f"aspect: {exc}"
        return None

    def _aspect_polarity_results(
        self, pairs: Sequence[tuple[str, str]]
    ) -> list[AspectPolarityResult]:
        model = self._aspect_model()
        results = []
        for (text, aspect), (span, row) in zip(pairs, model.polarity(pairs), strict=True):
            results.append(
                AspectPolarityResult(
                    text=text,
                    aspect=aspect,
                    aspect_span=span,
                    label=POLARITY_LABELS[int(row.argmax())],
                    probabilities={
                        label: float(p) for label, p in zip(POLARITY_LABELS, row, strict=True)
                    },
                    confidence=confidence_of(row),
                )
            )
        return results


def _scene(scene: Scene | str) -> Scene:
    if isinstance(scene, Scene):
        return scene
    if not isinstance(scene, str):
        raise InputError(f"scene must be a string, got {type(scene).__name__}")
    try:
        return parse_choice(Scene, scene, "scene")
    except ValueError as exc:
        raise InputError(str(exc)) from None


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Analyzer()
    return _default


def load(path: str | Path, *, max_bytes: int | None = None, fast: bool = False) -> Analyzer:
    """An :class:`Analyzer` whose model of ``path``'s task (polarity, emotion, talk-emotion or
    aspects) is the model in ``path``; the other judgements use the shipped models."""
    directory = Path(path)
    task = read_meta(directory).task
    slots = {
        "polarity": "model_dir",
        "emotion": "emotion_model",
        "talk-emotion": "talk_model",
        "aspects": "aspect_model",
    }
    if task not in slots:
        raise ModelError(
            f"{directory} holds a model for task {task!r}; expected one of: {', '.join(slots)}"
        )
    analyzer = Analyzer(max_bytes=max_bytes, fast=fast, **{slots[task]: directory})
    if task == "aspects":
        analyzer._aspect_model()
        return analyzer
    {"polarity": analyzer._polarity, "emotion": analyzer._emotion, "talk-emotion": analyzer._talk}[
        task
    ].get()
    return analyzer


# -- the module-level functions: the shipped models, the same parameters as the methods -------
def analyze(text: str) -> PolarityResult:
    """Polarity of one text with the shipped model (:meth:`Analyzer.analyze`)."""
    return default_analyzer().analyze(text)


@overload
def analyze_batch(
    texts: Sequence[str], *, errors: Literal["raise"] = "raise"
) -> list[PolarityResult]: ...
@overload
def analyze_batch(
    texts: Sequence[str], *, errors: Literal["report"]
) -> list[PolarityResult | ItemError]: ...


def analyze_batch(
    texts: Sequence[str], *, errors: Errors = "raise"
) -> list[PolarityResult] | list[PolarityResult | ItemError]:
    """Polarity of many texts with the shipped model (:meth:`Analyzer.analyze_batch`): a bad
    item raises, or with ``errors="report"`` comes back as an :class:`ItemError` in its place."""
    return default_analyzer().analyze_batch(texts, errors=errors)


def emotions(text: str, classes: Literal[7, 8] = 7) -> EmotionResult:
    """Customer-service emotion of one text with the shipped model."""
    return default_analyzer().emotions(text, classes)


@overload
def emotions_batch(
    texts: Sequence[str], classes: Literal[7, 8] = 7, *, errors: Literal["raise"] = "raise"
) -> list[EmotionResult]: ...
@overload
def emotions_batch(
    texts: Sequence[str], classes: Literal[7, 8] = 7, *, errors: Literal["report"]
) -> list[EmotionResult | ItemError]: ...


def emotions_batch(
    texts: Sequence[str], classes: Literal[7, 8] = 7, *, errors: Errors = "raise"
) -> list[EmotionResult] | list[EmotionResult | ItemError]:
    """Emotions of many texts with the shipped model (see :func:`analyze_batch`)."""
    return default_analyzer().emotions_batch(texts, classes, errors=errors)


def dialogue_emotion(text: str, scene: Scene | str = Scene.DEFAULT) -> DialogueEmotionResult:
    """Two-level dialogue emotion of one utterance with the shipped models."""
    return default_analyzer().dialogue_emotion(text, scene)


@overload
def dialogue_emotion_batch(
    texts: Sequence[str], scene: Scene | str = Scene.DEFAULT, *, errors: Literal["raise"] = "raise"
) -> list[DialogueEmotionResult]: ...
@overload
def dialogue_emotion_batch(
    texts: Sequence[str], scene: Scene | str = Scene.DEFAULT, *, errors: Literal["report"]
) -> list[DialogueEmotionResult | ItemError]: ...


def dialogue_emotion_batch(
    texts: Sequence[str], scene: Scene | str = Scene.DEFAULT, *, errors: Errors = "raise"
) -> list[DialogueEmotionResult] | list[DialogueEmotionResult | ItemError]:
    """Dialogue emotion of many utterances with the shipped models (see :func:`analyze_batch`)."""
    return default_analyzer().dialogue_emotion_batch(texts, scene, errors=errors)


def aspects(text: str) -> AspectResult:
    """Aspect-level opinions of one text with the shipped model."""
    return default_analyzer().aspects(text)


@overload
def aspects_batch(
    texts: Sequence[str], *, errors: Literal["raise"] = "raise"
) -> list[AspectResult]: ...
@overload
def aspects_batch(
    texts: Sequence[str], *, errors: Literal["report"]
) -> list[AspectResult | ItemError]: ...


def aspects_batch(
    texts: Sequence[str], *, errors: Errors = "raise"
) -> list[AspectResult] | list[AspectResult | ItemError]:
    """Aspect-level opinions of many texts with the shipped model (see :func:`analyze_batch`)."""
    return default_analyzer().aspects_batch(texts, errors=errors)


def aspect_polarity(text: str, aspect: str) -> AspectPolarityResult:
    """Polarity of a named aspect in one text with the shipped model."""
    return default_analyzer().aspect_polarity(text, aspect)


@overload
def aspect_polarity_batch(
    pairs: Sequence[tuple[str, str]], *, errors: Literal["raise"] = "raise"
) -> list[AspectPolarityResult]: ...
@overload
def aspect_polarity_batch(
    pairs: Sequence[tuple[str, str]], *, errors: Literal["report"]
) -> list[AspectPolarityResult | ItemError]: ...


def aspect_polarity_batch(
    pairs: Sequence[tuple[str, str]], *, errors: Errors = "raise"
) -> list[AspectPolarityResult] | list[AspectPolarityResult | ItemError]:
    """Polarity of many (text, aspect) pairs with the shipped model (see :func:`analyze_batch`)."""
    return default_analyzer().aspect_polarity_batch(pairs, errors=errors)
