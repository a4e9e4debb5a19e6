"""The aspect model: a character tagger, a pair scorer and an aspect-polarity classifier, run by
onnxruntime (training, with PyTorch, is :mod:`qinggan.training.aspects`).

A model directory holds ``meta.json`` (task ``aspects``), ``vocab.tsv`` (one character per line;
line ``i`` is id ``i + 2``: 0 pads, 1 is unknown), optionally ``bigrams.tsv`` (the same for
character bigrams: a character and the next one) and three ONNX graphs:

* ``extract.onnx``: character (and bigram) ids -> per-character states and two BIO tag scores, one
  for aspect terms and one for opinion terms (they may overlap), decoded by Viterbi so that an
  inside tag always follows a begin tag;
* ``pair.onnx``: an (aspect span or none, opinion span) candidate -> scores for
  ``none, positive, negative, neutral``; spans are represented by the states of their first and
  last characters and their mean, plus a bucket of the distance between them;
* ``apc.onnx``: character ids and a mark on the characters of a named aspect -> scores for
  ``positive, negative, neutral``.

Texts are folded character by character (:mod:`qinggan.absa.chars`), so every span found is a span
of the caller's text; texts longer than ``max_len`` characters are cut into pieces at punctuation.
Every text is computed on its own (states at a text's characters never see padding), so a text's
answer does not depend on the batch it came in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.absa.chars import find, fold, pieces
from qinggan.errors import ModelError
from qinggan.models.base import NotFittedError, softmax
from qinggan.models.io import ModelMeta, read_meta, write_meta

TASK = "aspects"
ARCHITECTURE = "char-tagger-pair-onnx"
EXTRACT_FILE, PAIR_FILE, APC_FILE, VOCAB_FILE = "extract.onnx", "pair.onnx", "apc.onnx", "vocab.tsv"
BIGRAM_FILE = "bigrams.tsv"
PAD, UNKNOWN = 0, 1
#: columns of the pair scorer; the last three are also the polarity columns of every output
PAIR_LABELS = ("none", "positive", "negative", "neutral")
POLARITY_COLUMNS = ("positive", "negative", "neutral")
N_DISTANCE = 20
MIN_LEN = 4
CHUNK = 64

Span = tuple[int, int]


def distance_bucket(aspect: Span | None, opinion: Span) -> int:
    """0 implicit aspect, 1 overlapping spans, 2..10 opinion after the aspect, 11..19 before."""
    if aspect is None:
        return 0
    if opinion[0] >= aspect[1]:
        gap, base = opinion[0] - aspect[1], 2
    elif aspect[0] >= opinion[1]:
        gap, base = aspect[0] - opinion[1], 11
    else:
        return 1
    step = gap if gap < 5 else 5 if gap < 8 else 6 if gap < 16 else 7 if gap < 32 else 8
    return base + step


def bio_spans(tags: Sequence[int]) -> list[Span]:
    """Spans of a BIO sequence (0 O, 1 B, 2 I); an I after O starts a span."""
    spans = []
    start = -1
    for i, tag in enumerate(tags):
        if tag == 1 or (tag == 2 and start < 0):
            if start >= 0:
                spans.append((start, i))
            start = i
        elif tag == 0 and start >= 0:
            spans.append((start, i))
            start = -1
    if start >= 0:
        spans.append((start, len(tags)))
    return spans


def viterbi_tags(scores: np.ndarray, lengths: Sequence[int]) -> list[list[int]]:
    """Best BIO sequence per row of tag ``scores`` (rows, width, 3) under the rule that I follows
    only B or I; each row is decoded over its own length."""
    logp = scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))
    rows, width, _ = logp.shape
    ended = np.arange(width)[None, :] >= np.asarray(lengths)[:, None]
    best = np.full((rows, 3), -np.inf)
    best[:, :2] = logp[:, 0, :2]
    back = np.zeros((rows, width, 3), dtype=np.int8)
    for t in range(1, width):
        prev_any = best.max(axis=1)
        arg_any = best.argmax(axis=1)
        prev_bi = np.maximum(best[:, 1], best[:, 2])
        arg_bi = np.where(best[:, 1] >= best[:, 2], 1, 2)
        new = np.empty_like(best)
        new[:, 0] = prev_any + logp[:, t, 0]
        new[:, 1] = prev_any + logp[:, t, 1]
        new[:, 2] = prev_bi + logp[:, t, 2]
        back[:, t, 0] = arg_any
        back[:, t, 1] = arg_any
        back[:, t, 2] = arg_bi
        # a row that has ended keeps its final scores
        best = np.where(ended[:, t, None], best, new)
    # walk back from each row's own last position, all rows at once
    paths = np.zeros((rows, width), dtype=np.int64)
    tag = best.argmax(axis=1)
    last = np.asarray(lengths) - 1
    every = np.arange(rows)
    for t in range(width - 1, -1, -1):
        live = t <= last
        paths[:, t] = np.where(live, tag, 0)
        if t > 0:
            tag = np.where(live, back[every, t, tag], tag)
    return [paths[row, :n].tolist() for row, n in enumerate(lengths)]


def span_features(states: np.ndarray, spans: Sequence[Span]) -> np.ndarray:
    """First state, last state and mean state of each span of one text: (len(spans), 3 * dim)."""
    dim = states.shape[1]
    out = np.empty((len(spans), 3 * dim), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        out[row, :dim] = states[start]
        out[row, dim : 2 * dim] = states[end - 1]
        out[row, 2 * dim :] = states[start:end].mean(axis=0)
    return out


def reverse_index(lengths: Sequence[int], width: int) -> np.ndarray:
    """Per row, the positions read backwards over the row's own length (padding stays put)."""
    out = np.tile(np.arange(width, dtype=np.int64), (len(lengths), 1))
    for row, length in enumerate(lengths):
        out[row, :length] = np.arange(length - 1, -1, -1)
    return out


def _trimmed(folded: str) -> tuple[int, int]:
    """Where ``folded`` starts and ends without its white space at either end."""
    stripped = folded.strip(" ")
    if not stripped:
        return 0, len(folded)
    lead = len(folded) - len(folded.lstrip(" "))
    return lead, lead + len(stripped)


def _lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class RawOpinion:
    """One extracted (aspect, opinion) pair: spans into the text, polarity probabilities in
    ``POLARITY_COLUMNS`` order, and the probability that the pair holds."""

    aspect_span: Span | None
    opinion_span: Span
    probabilities: tuple[float, float, float]
    score: float


class AspectModel:
    """Aspect extraction and aspect polarity over ONNX graphs (see the module docstring)."""

    def __init__(
        self,
        vocab: Sequence[str],
        graphs: dict[str, bytes],
        hyperparameters: dict[str, Any],
        meta: ModelMeta | None = None,
        bigrams: Sequence[str] = (),
    ) -> None:
        missing = {EXTRACT_FILE, PAIR_FILE, APC_FILE} - set(graphs)
        if missing:
            raise ModelError(f"an aspect model needs the graphs {sorted(missing)}")
        self.vocab = list(vocab)
        self.ids = {ch: i + 2 for i, ch in enumerate(self.vocab)}
        self.bigrams = list(bigrams)
        self.bigram_ids = {pair: i + 2 for i, pair in enumerate(self.bigrams)}
        self.graphs = dict(graphs)
        self.hyperparameters = dict(hyperparameters)
        self.max_len = int(hyperparameters.get("max_len", 200))
        self.threshold = float(hyperparameters.get("pair_threshold", 0.5))
        self.second_threshold = float(hyperparameters.get("second_pair_threshold", 0.5))
        self.meta = meta
        self._local = threading.local()

    # -- persistence --------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path) -> AspectModel:
        directory = Path(directory)
        meta = read_meta(directory)
        if meta.task != TASK:
            raise ModelError(f"{directory} holds a {meta.task!r} model, not an aspect model")
        try:
            vocab = _lines(directory / VOCAB_FILE)
            bigrams = _lines(directory / BIGRAM_FILE) if (directory / BIGRAM_FILE).exists() else []
            graphs = {
                name: (directory / name).read_bytes()
                for name in (EXTRACT_FILE, PAIR_FILE, APC_FILE)
            }
        except OSError as exc:
            raise ModelError(f"cannot read the aspect model in {directory}: {exc}") from None
        return cls(vocab, graphs, meta.hyperparameters, meta, bigrams)

    def save(self, directory: str | Path, meta: ModelMeta) -> None:
        directory = Path(directory)
        write_meta(directory, meta)
        (directory / VOCAB_FILE).write_text("\n".join(self.vocab) + "\n", encoding="utf-8")
        if self.bigrams:
            (directory / BIGRAM_FILE).write_text("\n".join(self.bigrams) + "\n", encoding="utf-8")
        for name, data in self.graphs.items():
            (directory / name).write_bytes(data)
        self.meta = meta

    # -- sessions -----------------------------------------------------------------------------
    def _session(self, name: str):  # type: ignore[no-untyped-def]
        sessions = getattr(self._local, "sessions", None)
        if sessions is None:
            sessions = self._local.sessions = {}
        session = sessions.get(name)
        if session is None:
            import onnxruntime as ort

            if name not in self.graphs:
                raise NotFittedError(f"this aspect model has no {name}")
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(
                self.graphs[name], options, providers=["CPUExecutionProvider"]
            )
            sessions[name] = (session, {i.name for i in session.get_inputs()})
            session = sessions[name]
        return session

    def _run(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        session, inputs = self._session(name)
        return session.run(None, {k: v for k, v in feeds.items() if k in inputs})

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, folded: str) -> list[int]:
        """Character ids of a folded text."""
        ids = self.ids
        return [ids.get(ch, UNKNOWN) for ch in folded]

    def encode_bigrams(self, folded: str) -> list[int]:
        """Per character, the id of it and the next character (the last one: of itself alone)."""
        ids = self.bigram_ids
        return [ids.get(folded[i : i + 2], UNKNOWN) for i in range(len(folded))]

    def inputs(self, folded: Sequence[str]) -> dict[str, np.ndarray]:
        """``ids``, ``bigrams`` and ``rev`` of a batch of folded texts, padded to the longest."""
        lengths = [len(text) for text in folded]
        width = max(MIN_LEN, *lengths)
        ids = np.zeros((len(folded), width), dtype=np.int64)
        bigrams = np.zeros((len(folded), width), dtype=np.int64)
        for i, text in enumerate(folded):
            ids[i, : len(text)] = self.encode(text)
            if self.bigrams:
                bigrams[i, : len(text)] = self.encode_bigrams(text)
        return {"ids": ids, "bigrams": bigrams, "rev": reverse_index(lengths, width)}

    # -- extraction ---------------------------------------------------------------------------
    def extract(self, texts: Sequence[str]) -> list[list[RawOpinion]]:
        """Aspect opinions of each text (spans into that text), in text order."""
        jobs: list[tuple[int, int, str]] = []  # (text index, piece start, folded piece)
        for index, text in enumerate(texts):
            folded = fold(text)
            lead, tail = _trimmed(folded)  # white space at either end is not read
            for start, end in pieces(folded[lead:tail], self.max_len):
                jobs.append((index, lead + start, folded[lead + start : lead + end]))
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][2]))
        # per piece: candidates (aspect span | None, opinion span) and their features
        a_rows: list[np.ndarray] = []
        o_rows: list[np.ndarray] = []
        nulls: list[float] = []
        buckets: list[int] = []
        owners: list[tuple[int, Span, Span | None]] = []
        for begin in range(0, len(order), CHUNK):
            chunk = order[begin : begin + CHUNK]
            states, aspect_scores, opinion_scores = self._run(
                EXTRACT_FILE, self.inputs([jobs[j][2] for j in chunk])
            )
            lengths = [len(jobs[j][2]) for j in chunk]
            aspect_tags = viterbi_tags(aspect_scores, lengths)
            opinion_tags = viterbi_tags(opinion_scores, lengths)
            for row, j in enumerate(chunk):
                index, offset, piece = jobs[j]
                length = len(piece)
                aspects = bio_spans(aspect_tags[row])
                opinions = bio_spans(opinion_tags[row])
                if not opinions:
                    continue
                piece_states = states[row, :length]
                a_feats = span_features(piece_states, aspects)
                o_feats = span_features(piece_states, opinions)
                zero = np.zeros(a_feats.shape[1], dtype=np.float32)
                for oi, o in enumerate(opinions):
                    for ai, a in enumerate([*aspects, None]):
                        a_rows.append(zero if a is None else a_feats[ai])
                        o_rows.append(o_feats[oi])
                        nulls.append(1.0 if a is None else 0.0)
                        buckets.append(distance_bucket(a, o))
                        shifted = (o[0] + offset, o[1] + offset)
                        owners.append(
                            (index, shifted, None if a is None else (a[0] + offset, a[1] + offset))
                        )
        results: list[list[RawOpinion]] = [[] for _ in texts]
        if not owners:
            return results
        probabilities = np.empty((len(owners), len(PAIR_LABELS)), dtype=np.float64)
        for begin in range(0, len(owners), 4096):
            end = begin + 4096
            (scores,) = self._run(
                PAIR_FILE,
                {
                    "aspect": np.stack(a_rows[begin:end]),
                    "opinion": np.stack(o_rows[begin:end]),
                    "null": np.asarray(nulls[begin:end], dtype=np.float32),
                    "distance": np.asarray(buckets[begin:end], dtype=np.int64),
                },
            )
            probabilities[begin:end] = softmax(scores.astype(np.float64))
        # per opinion: its best candidate (an aspect or the implicit one) when it passes the
        # threshold, and further aspects only when they pass the (higher) second threshold
        by_opinion: dict[tuple[int, Span], list[int]] = {}
        for k, (index, opinion, _) in enumerate(owners):
            by_opinion.setdefault((index, opinion), []).append(k)
        keep = 1.0 - probabilities[:, 0]
        for (index, _), candidates in by_opinion.items():
            best = max(candidates, key=lambda k: keep[k])
            if keep[best] < self.threshold:
                continue
            kept = [best] + [
                k
                for k in candidates
                if k != best and owners[k][2] is not None and keep[k] >= self.second_threshold
            ]
            if owners[best][2] is None:
                kept = [best]
            for k in kept:
                polar = probabilities[k, 1:]
                polar = polar / max(polar.sum(), 1e-12)
                results[index].append(
                    RawOpinion(
                        aspect_span=owners[k][2],
                        opinion_span=owners[k][1],
                        probabilities=(float(polar[0]), float(polar[1]), float(polar[2])),
                        score=float(keep[k]),
                    )
                )
        for found in results:
            found.sort(key=lambda r: (r.opinion_span, r.aspect_span or (-1, -1)))
        return results

    # -- polarity of a named aspect ---------------------------------------------------------
    def locate(self, text: str, aspect: str) -> Span | None:
        """Where ``aspect`` first occurs in ``text`` (folded alike), or ``None``."""
        return find(fold(text), fold(aspect))

    def polarity(self, items: Sequence[tuple[str, str]]) -> list[tuple[Span | None, np.ndarray]]:
        """For each (text, aspect): the aspect's span in the text (``None`` when it does not occur:
        then the text as a whole is judged) and probabilities in ``POLARITY_COLUMNS`` order."""
        rows: list[tuple[str, list[int]]] = []
        spans: list[Span | None] = []
        for text, aspect in items:
            folded = fold(text)
            span = find(folded, fold(aspect))
            spans.append(span)
            lead, tail = _trimmed(folded)
            start, end = lead, tail
            if end - start > self.max_len:
                if span is None:
                    end = start + self.max_len
                else:
                    start = max(
                        lead,
                        min(
                            span[0] - (self.max_len - (span[1] - span[0])) // 2, tail - self.max_len
                        ),
                    )
                    end = start + self.max_len
            marks = [0] * (end - start)
            if span is not None:
                for i in range(max(span[0], start), min(span[1], end)):
                    marks[i - start] = 1
            rows.append((folded[start:end], marks))
        out = np.empty((len(rows), len(POLARITY_COLUMNS)), dtype=np.float64)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
        for begin in range(0, len(order), CHUNK):
            chunk = order[begin : begin + CHUNK]
            feeds = self.inputs([rows[i][0] for i in chunk])
            feeds["marks"] = np.zeros_like(feeds["ids"])
            for r, i in enumerate(chunk):
                feeds["marks"][r, : len(rows[i][1])] = rows[i][1]
            (scores,) = self._run(APC_FILE, feeds)
            out[chunk] = softmax(scores.astype(np.float64))
        return list(zip(spans, out, strict=True))
