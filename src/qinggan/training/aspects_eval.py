"""Evaluation of aspect-level opinions (plain functions returning flat dicts; the CLI prints them).

Two file shapes, one sentence per JSONL line (``../shared/data/README.md``, "Aspect-level data"):

* triplets (aste_zh): ``{"text", "triplets": [{"aspect", "aspect_span": [s, e] | null,
  "opinion", "opinion_span": [s, e], "polarity"}]}``; scored by :func:`evaluate_aspects`;
* named aspects (apc_zh): ``{"text", "aspects": [{"aspect", "span", "polarity"}]}``; scored by
  :func:`evaluate_aspect_polarity`.

Extraction is scored with exact character spans, micro-averaged over all sentences: aspect terms
(the set of explicit aspect spans of a sentence), opinion terms, aspect-opinion pairs (an implicit
aspect is its own "no aspect" value) and triplets (pair + polarity).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qinggan.errors import DataError
from qinggan.labels import POLARITY_LABELS
from qinggan.training.corpora import read_records
from qinggan.training.metrics import classification_metrics

if TYPE_CHECKING:
    from qinggan.engine import Analyzer

Span = tuple[int, int]
#: (aspect span or None, opinion span, polarity)
Triplet = tuple[Span | None, Span, str]
POLARITIES = tuple(label.value for label in POLARITY_LABELS)


def _span(value: Any, text: str, what: str) -> Span:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 0 <= value[0] < value[1] <= len(text)
    ):
        raise ValueError(f"{what} must be [start, end] inside the text, got {value!r}")
    return int(value[0]), int(value[1])


def _polarity(value: Any) -> str:
    if value not in POLARITIES:
        raise ValueError(f"polarity must be one of {', '.join(POLARITIES)}, got {value!r}")
    return str(value)


def _text(record: dict[str, Any]) -> str:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    return text


def parse_triplet_row(record: dict[str, Any]) -> tuple[str, list[Triplet]]:
    """``(text, triplets)`` of one aste-shaped record; ``ValueError`` says what is wrong."""
    text = _text(record)
    triplets = record.get("triplets")
    if not isinstance(triplets, list):
        raise ValueError("'triplets' must be a list")
    out: list[Triplet] = []
    for item in triplets:
        if not isinstance(item, dict):
            raise ValueError("each triplet must be an object")
        raw = item.get("aspect_span")
        aspect = None if raw is None else _span(raw, text, "aspect_span")
        opinion = _span(item.get("opinion_span"), text, "opinion_span")
        out.append((aspect, opinion, _polarity(item.get("polarity"))))
    return text, out


def parse_aspect_row(record: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """``(text, [(aspect, polarity), ...])`` of one apc-shaped record."""
    text = _text(record)
    aspects = record.get("aspects")
    if not isinstance(aspects, list) or not aspects:
        raise ValueError("'aspects' must be a non-empty list")
    out = []
    for item in aspects:
        if not isinstance(item, dict):
            raise ValueError("each aspect must be an object")
        aspect = item.get("aspect")
        if not isinstance(aspect, str) or not aspect.strip():
            raise ValueError("'aspect' must be a non-empty string")
        out.append((aspect, _polarity(item.get("polarity"))))
    return text, out


def _rows(path_or_rows: str | Path | Iterable[dict[str, Any]], parse):  # type: ignore[no-untyped-def]
    if isinstance(path_or_rows, str | Path):
        path = Path(path_or_rows)
        rows = []
        for number, record in read_records(path):
            try:
                rows.append(parse(record))
            except ValueError as exc:
                raise DataError(str(exc), path=str(path), line=number) from None
        if not rows:
            raise DataError("holds no rows", path=str(path))
        return rows
    rows = []
    for index, record in enumerate(path_or_rows):
        try:
            rows.append(parse(record))
        except ValueError as exc:
            raise DataError(f"row {index}: {exc}") from None
    if not rows:
        raise DataError("no rows to evaluate")
    return rows


def _prf(prefix: str, tp: int, predicted: int, gold: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {f"{prefix}_precision": precision, f"{prefix}_recall": recall, f"{prefix}_f1": f1}


def score_triplets(
    gold: Sequence[Sequence[Triplet]], predicted: Sequence[Sequence[Triplet]]
) -> dict[str, Any]:
    """Exact-span micro P/R/F1 of aspect terms, opinion terms, pairs and triplets."""
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    counts = {name: [0, 0, 0] for name in ("aspect", "opinion", "pair", "triplet")}
    for g, p in zip(gold, predicted, strict=True):
        views = {
            "aspect": lambda ts: {t[0] for t in ts if t[0] is not None},
            "opinion": lambda ts: {t[1] for t in ts},
            "pair": lambda ts: {(t[0], t[1]) for t in ts},
            "triplet": lambda ts: set(ts),
        }
        for name, view in views.items():
            gs, ps = view(g), view(p)
            counts[name][0] += len(gs & ps)
            counts[name][1] += len(ps)
            counts[name][2] += len(gs)
    result: dict[str, Any] = {"n": len(gold)}
    for name, (tp, n_pred, n_gold) in counts.items():
        result.update(_prf(name, tp, n_pred, n_gold))
    result["n_triplets"] = counts["triplet"][2]
    result["n_predicted"] = counts["triplet"][1]
    return result


def evaluate_aspects(
    path_or_rows: str | Path | Iterable[dict[str, Any]], analyzer: Analyzer | None = None
) -> dict[str, Any]:
    """Score aspect extraction on an aste-shaped file (or rows) with ``analyzer`` (default: the
    shipped model). Keys: ``triplet_f1``, ``triplet_precision``, ``triplet_recall`` and the same
    for ``aspect``, ``opinion`` and ``pair``; ``n`` sentences, ``n_triplets``, ``n_predicted``."""
    from qinggan.engine import default_analyzer

    rows = _rows(path_or_rows, parse_triplet_row)
    analyzer = analyzer or default_analyzer()
    results = analyzer.aspects_batch([text for text, _ in rows])
    predicted = [
        [(o.aspect_span, o.opinion_span, o.polarity.value) for o in result.opinions]
        for result in results
    ]
    return score_triplets([triplets for _, triplets in rows], predicted)


def score_polarities(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the three polarities and per-class P/R/F1, ``n`` items."""
    full = classification_metrics(gold, predicted, POLARITIES)
    return {k: v for k, v in full.items() if k not in ("labels", "confusion")} | {
        "confusion": full["confusion"],
        "labels": list(POLARITIES),
    }


def evaluate_aspect_polarity(
    path_or_rows: str | Path | Iterable[dict[str, Any]], analyzer: Analyzer | None = None
) -> dict[str, Any]:
    """Score the polarity of named aspects on an apc-shaped file (or rows): ``accuracy``,
    ``macro_f1``, ``f1_<polarity>``, ``n`` aspects, ``n_sentences``, ``n_not_found`` (aspects
    that do not occur in their text)."""
    from qinggan.engine import default_analyzer

    rows = _rows(path_or_rows, parse_aspect_row)
    analyzer = analyzer or default_analyzer()
    pairs = [(text, aspect) for text, aspects in rows for aspect, _ in aspects]
    gold = [polarity for _, aspects in rows for _, polarity in aspects]
    results = analyzer.aspect_polarity_batch(pairs)
    scores = score_polarities(gold, [r.label.value for r in results])
    scores["n_sentences"] = len(rows)
    scores["n_not_found"] = sum(r.aspect_span is None for r in results)
    return scores
