"""Training of the aspect model (:mod:`qinggan.absa.model`) with PyTorch, exported to ONNX.

Recipe: ``configs/aspects.toml``; ``qinggan train aspects --config configs/aspects.toml --output
src/qinggan/resources/models/aspects`` reproduces the shipped model.

* Extraction (tagger + pair scorer) learns from aste-shaped rows: BIO tags for aspect terms and
  opinion terms over characters, and for every (gold aspect or none, gold opinion) pair of a
  sentence the class ``none / positive / negative / neutral``. The epoch with the best dev triplet
  F1 is kept and the pair threshold is then chosen on dev.
* Aspect polarity learns from apc-shaped rows (and, weighted, the explicit aspects of the aste
  rows); its dev set is the project's fixed 10% carve of the apc rows
  (:func:`qinggan.training.splits.is_dev`), as for every corpus without a dev split. A few rows are
  also seen with no aspect marked, which is how the model answers an aspect missing from its text.

Both networks embed characters (initialised from the shared encoder's unit embeddings when
``init_from`` names it) and character bigrams (which stand in for word boundaries: no segmenter is
needed at run time), run a stack of masked convolutions and a bidirectional GRU whose backward
half reads each text over its own length, so padding never changes a text's states.
"""

from __future__ import annotations

import io
import json
import random
import time
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.absa.chars import fold
from qinggan.absa.model import (
    APC_FILE,
    ARCHITECTURE,
    EXTRACT_FILE,
    N_DISTANCE,
    PAIR_FILE,
    PAIR_LABELS,
    POLARITY_COLUMNS,
    TASK,
    AspectModel,
    distance_bucket,
    reverse_index,
)
from qinggan.errors import ConfigError, DataError
from qinggan.models.io import ModelMeta
from qinggan.models.neural import VOCAB_FILE, read_vocab
from qinggan.models.shared import ENCODER_FILE
from qinggan.training.aspects_eval import (
    Triplet,
    parse_aspect_row,
    parse_triplet_row,
    score_polarities,
    score_triplets,
)
from qinggan.training.corpora import read_records
from qinggan.training.splits import is_dev

Progress = Callable[[str, int, int], None]
Span = tuple[int, int]


@dataclass
class AspectRecipe:
    """What ``configs/aspects.toml`` holds (paths already resolved)."""

    name: str = "aspects"
    seed: int = 0
    max_len: int = 200
    extract_train: list[Path] = field(default_factory=list)
    extract_dev: list[Path] = field(default_factory=list)
    apc_train: list[Path] = field(default_factory=list)
    apc_dev: list[Path] = field(default_factory=list)  # empty: carve 10% of apc_train
    apc_extra: list[Path] = field(default_factory=list)  # aste-shaped rows for aspect polarity
    apc_extra_weight: float = 0.5
    apc_extra_limit: int = 8000  # at most this many aspects from apc_extra (a random sample)
    apc_unmarked_share: float = 0.1
    vocab_min_count: int = 2
    vocab_size: int = 6000
    #: character bigrams (a character and the next) with an embedding of their own; 0: none
    bigram_vocab_size: int = 0
    bigram_min_count: int = 3
    bigram_dim: int = 32
    init_from: Path | None = None  # a unit-cnn model directory (vocab.tsv + cnn.onnx)
    embedding_dim: int = 128
    channels: int = 128
    dilations: tuple[int, ...] = (1, 2, 4)
    rnn_hidden: int = 64
    dropout: float = 0.25
    pair_hidden: int = 256
    extract_epochs: int = 8
    apc_epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 2e-3
    thresholds: tuple[float, ...] = (0.35, 0.45, 0.55, 0.65)
    #: a second aspect for the same opinion needs this much (above 1: never)
    second_thresholds: tuple[float, ...] = (0.7, 0.9, 1.01)
    #: score every epoch on dev and keep the best (else only the last epoch is exported)
    select_on_dev: bool = True
    #: store the embedding and linear-layer weights as int8 (dynamic quantisation of Gather and
    #: MatMul: a third of the size, as fast; convolutions and the GRU stay float)
    quantize: bool = True
    #: a trained model directory whose aspect-polarity network is reused instead of training one
    #: (experiments on extraction only; its vocabulary must be the same)
    apc_from: Path | None = None
    threads: int = 1

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "max_len": self.max_len,
            "embedding_dim": self.embedding_dim,
            "bigram_dim": self.bigram_dim if self.bigram_vocab_size else 0,
            "channels": self.channels,
            "dilations": list(self.dilations),
            "rnn_hidden": self.rnn_hidden,
            "dropout": self.dropout,
            "pair_hidden": self.pair_hidden,
            "extract_epochs": self.extract_epochs,
            "apc_epochs": self.apc_epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "apc_extra_weight": self.apc_extra_weight,
            "apc_extra_limit": self.apc_extra_limit,
            "apc_unmarked_share": self.apc_unmarked_share,
            "seed": self.seed,
        }


def load_recipe(path: str | Path, data_root: str | Path | None = None) -> AspectRecipe:
    """Read an aspect recipe; relative paths are under ``data_root`` (default: the recipe's
    ``data_root``, relative to the recipe file)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the recipe {path}: {exc}") from None
    root = Path(data_root) if data_root else (path.parent / raw.get("data_root", ".")).resolve()
    recipe = AspectRecipe(name=raw.get("name", "aspects"), seed=int(raw.get("seed", 0)))

    def paths(value: Any, what: str) -> list[Path]:
        items = [value] if isinstance(value, str) else list(value or [])
        out = [root / item for item in items]
        for item in out:
            if not item.is_file():
                raise ConfigError(f"{path}: {what} file {item} does not exist")
        return out

    extract = raw.get("extract", {})
    apc = raw.get("apc", {})
    model = raw.get("model", {})
    recipe.extract_train = paths(extract.get("train"), "extract.train")
    recipe.extract_dev = paths(extract.get("dev"), "extract.dev")
    recipe.apc_train = paths(apc.get("train"), "apc.train")
    recipe.apc_dev = paths(apc.get("dev"), "apc.dev")
    recipe.apc_extra = paths(apc.get("extra"), "apc.extra")
    if not recipe.extract_train or not recipe.apc_train:
        raise ConfigError(f"{path}: [extract] train and [apc] train are required")
    for key in ("extra_weight", "unmarked_share"):
        if key in apc:
            setattr(recipe, f"apc_{key}", float(apc[key]))
    if "extra_limit" in apc:
        recipe.apc_extra_limit = int(apc["extra_limit"])
    if "epochs" in extract:
        recipe.extract_epochs = int(extract["epochs"])
    if "epochs" in apc:
        recipe.apc_epochs = int(apc["epochs"])
    if "init_from" in model:
        recipe.init_from = (path.parent / model["init_from"]).resolve()
    known = set(AspectRecipe.__dataclass_fields__)
    for key, value in model.items():
        if key == "init_from":
            continue
        if key not in known:
            raise ConfigError(f"{path}: unknown [model] setting {key!r}")
        setattr(recipe, key, tuple(value) if isinstance(value, list) else value)
    return recipe


# -- data ------------------------------------------------------------------------------------
def read_triplet_rows(paths: Sequence[Path]) -> list[tuple[str, list[Triplet]]]:
    rows = []
    for path in paths:
        for number, record in read_records(path):
            try:
                rows.append(parse_triplet_row(record))
            except ValueError as exc:
                raise DataError(str(exc), path=str(path), line=number) from None
    return rows


def read_apc_rows(paths: Sequence[Path]) -> list[tuple[str, list[tuple[Span, str]]]]:
    """``(text, [(span, polarity), ...])``; a record without a span uses the term's first
    occurrence."""
    rows = []
    for path in paths:
        for number, record in read_records(path):
            try:
                text, aspects = parse_aspect_row(record)
                items = []
                for (term, polarity), item in zip(aspects, record["aspects"], strict=True):
                    span = item.get("span")
                    if span is None:
                        at = text.find(term)
                        if at < 0:
                            raise ValueError(f"aspect {term!r} does not occur in the text")
                        span = [at, at + len(term)]
                    items.append(((int(span[0]), int(span[1])), polarity))
            except (ValueError, TypeError, IndexError) as exc:
                raise DataError(str(exc), path=str(path), line=number) from None
            rows.append((text, items))
    return rows


def build_vocab(texts: Sequence[str], recipe: AspectRecipe, extra: Sequence[str] = ()) -> list[str]:
    counts = Counter(ch for text in texts for ch in fold(text))
    chars = [ch for ch, n in counts.most_common() if n >= recipe.vocab_min_count]
    seen = set(chars)
    for ch in extra:
        if len(chars) >= recipe.vocab_size:
            break
        if ch not in seen:
            seen.add(ch)
            chars.append(ch)
    return chars[: recipe.vocab_size]


def pretrained_units(directory: Path) -> tuple[dict[str, int], np.ndarray]:
    """Unit -> row of the embedding table of the shared encoder (or of a unit-CNN model)."""
    import onnx
    from onnx import numpy_helper

    vocab = read_vocab(directory / VOCAB_FILE)
    network = directory / ENCODER_FILE
    if not network.is_file():
        network = directory / "cnn.onnx"
    graph = onnx.load(str(network)).graph
    table = next(
        numpy_helper.to_array(init) for init in graph.initializer if init.name.startswith("embed")
    )
    return vocab, table


# -- networks --------------------------------------------------------------------------------
def _networks(recipe: AspectRecipe, vocab_size: int, bigram_size: int):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self, marks: bool) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, recipe.embedding_dim, padding_idx=0)
            self.marks = nn.Embedding(2, recipe.embedding_dim) if marks else None
            self.bigrams = (
                nn.Embedding(bigram_size, recipe.bigram_dim, padding_idx=0) if bigram_size else None
            )
            width = recipe.embedding_dim + (recipe.bigram_dim if bigram_size else 0)
            self.dropout = nn.Dropout(recipe.dropout)
            self.project = nn.Conv1d(width, recipe.channels, 3, padding=1)
            self.convs = nn.ModuleList(
                nn.Conv1d(recipe.channels, recipe.channels, 3, padding=d, dilation=d)
                for d in recipe.dilations
            )
            hidden = recipe.rnn_hidden
            self.forward_rnn = nn.GRU(recipe.channels, hidden, batch_first=True) if hidden else None
            self.backward_rnn = (
                nn.GRU(recipe.channels, hidden, batch_first=True) if hidden else None
            )
            self.dim = recipe.channels + 2 * hidden

        def forward(self, ids, rev, bigrams, marks=None):  # type: ignore[no-untyped-def]
            mask = (ids != 0).to(torch.float32).unsqueeze(-1)
            x = self.embedding(ids)
            if self.marks is not None and marks is not None:
                x = x + self.marks(marks)
            if self.bigrams is not None:
                x = torch.cat([x, self.bigrams(bigrams)], dim=-1)
            x = self.dropout(x) * mask
            h = torch.relu(self.project(x.transpose(1, 2))).transpose(1, 2) * mask
            for conv in self.convs:
                step = torch.relu(conv(self.dropout(h).transpose(1, 2))).transpose(1, 2)
                h = (h + step) * mask
            if self.forward_rnn is not None:
                index = rev.unsqueeze(-1).expand(-1, -1, h.shape[-1])
                ahead, _ = self.forward_rnn(h)
                back, _ = self.backward_rnn(torch.gather(h, 1, index))
                index = rev.unsqueeze(-1).expand(-1, -1, back.shape[-1])
                back = torch.gather(back, 1, index)
                h = torch.cat([h, ahead, back], dim=-1) * mask
            return h

    class Extractor(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder(marks=False)
            self.aspect_tags = nn.Linear(self.encoder.dim, 3)
            self.opinion_tags = nn.Linear(self.encoder.dim, 3)

        def forward(self, ids, rev, bigrams):  # type: ignore[no-untyped-def]
            h = self.encoder(ids, rev, bigrams)
            return h, self.aspect_tags(h), self.opinion_tags(h)

    class PairScorer(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.null = nn.Parameter(torch.zeros(3 * dim))
            self.distance = nn.Embedding(N_DISTANCE, 32)
            self.mlp = nn.Sequential(
                nn.Linear(9 * dim + 32, recipe.pair_hidden),
                nn.ReLU(),
                nn.Dropout(recipe.dropout),
                nn.Linear(recipe.pair_hidden, len(PAIR_LABELS)),
            )

        def forward(self, aspect, opinion, null, distance):  # type: ignore[no-untyped-def]
            gate = null.unsqueeze(-1)
            a = aspect * (1.0 - gate) + self.null * gate
            x = torch.cat([a, opinion, a * opinion, self.distance(distance)], dim=-1)
            return self.mlp(x)

    class Polarity(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder(marks=True)
            dim = self.encoder.dim
            self.head = nn.Sequential(
                nn.Dropout(recipe.dropout),
                nn.Linear(3 * dim, 128),
                nn.ReLU(),
                nn.Linear(128, len(POLARITY_COLUMNS)),
            )

        def forward(self, ids, rev, bigrams, marks):  # type: ignore[no-untyped-def]
            h = self.encoder(ids, rev, bigrams, marks)
            mask = (ids != 0).to(torch.float32).unsqueeze(-1)
            m = marks.to(torch.float32).unsqueeze(-1)
            count = m.sum(1)
            everything = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            marked = (h * m).sum(1) / count.clamp(min=1.0)
            aspect = torch.where(count > 0, marked, everything)
            peak = (h + (mask - 1.0) * 1e4).max(dim=1).values
            return self.head(torch.cat([aspect, peak, everything], dim=-1))

    return Extractor, PairScorer, Polarity


def _init_embeddings(module, vocab: Sequence[str], recipe: AspectRecipe) -> int:  # type: ignore[no-untyped-def]
    if recipe.init_from is None:
        return 0
    import torch

    units, table = pretrained_units(recipe.init_from)
    if table.shape[1] != recipe.embedding_dim:
        raise ConfigError(
            f"init_from {recipe.init_from} has {table.shape[1]}-dim embeddings; the recipe asks "
            f"for {recipe.embedding_dim}"
        )
    hits = 0
    with torch.no_grad():
        for i, ch in enumerate(vocab):
            row = units.get("0" if ch == "0" else ch)
            if row is not None and row < table.shape[0]:
                module.embedding.weight[i + 2] = torch.tensor(table[row])
                hits += 1
    return hits


def _export(module, inputs: tuple, names: list[str], outputs: list[str], dynamic: dict) -> bytes:  # type: ignore[no-untyped-def]

    buffer = io.BytesIO()
    module.eval()
    with warnings.catch_warnings():
        # the GRU's initial state is built inside the graph, for any batch size
        warnings.simplefilter("ignore")
        _export_to(module, inputs, buffer, names, outputs, dynamic)
    return buffer.getvalue()


def _export_to(module, inputs, buffer, names, outputs, dynamic) -> None:  # type: ignore[no-untyped-def]
    import torch

    torch.onnx.export(
        module,
        inputs,
        buffer,
        input_names=names,
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )


def _batches(
    order: list[int], size: int, rng: random.Random, lengths: Sequence[int]
) -> list[list[int]]:
    """Batches of similar lengths, in random order."""
    shuffled = sorted(order, key=lambda i: (lengths[i], rng.random()))
    batches = [shuffled[i : i + size] for i in range(0, len(shuffled), size)]
    rng.shuffle(batches)
    return batches


def _bio(length: int, spans: Sequence[Span]) -> list[int]:
    tags = [0] * length
    for start, end in sorted(spans, key=lambda s: s[1] - s[0]):
        if end > length:
            continue
        tags[start] = 1
        for i in range(start + 1, end):
            tags[i] = 2
    return tags


@dataclass
class _Sentence:
    folded: str
    aspect_tags: list[int]
    opinion_tags: list[int]
    pairs: list[tuple[Span | None, Span, int]]  # (aspect, opinion, PAIR_LABELS index)


def _extract_examples(rows: Sequence[tuple[str, list[Triplet]]], max_len: int) -> list[_Sentence]:
    out = []
    for text, triplets in rows:
        folded = fold(text)[:max_len]
        n = len(folded)
        kept = [t for t in triplets if t[1][1] <= n and (t[0] is None or t[0][1] <= n)]
        aspects = sorted({t[0] for t in kept if t[0] is not None})
        opinions = sorted({t[1] for t in kept})
        gold = {(t[0], t[1]): PAIR_LABELS.index(t[2]) for t in kept}
        pairs = [(a, o, gold.get((a, o), 0)) for o in opinions for a in [*aspects, None]]
        out.append(
            _Sentence(
                folded=folded,
                aspect_tags=_bio(n, aspects),
                opinion_tags=_bio(n, opinions),
                pairs=pairs,
            )
        )
    return out


def _feeds(coder: AspectModel, folded: Sequence[str]):  # type: ignore[no-untyped-def]
    """Padded ``ids``, ``rev``, ``bigrams`` tensors (the runtime's encoding) and the lengths."""
    import torch

    arrays = coder.inputs(folded)
    return (
        torch.from_numpy(arrays["ids"]),
        torch.from_numpy(arrays["rev"]),
        torch.from_numpy(arrays["bigrams"]),
        [len(text) for text in folded],
    )


def _span_reps(h, rows: list[int], spans: list[Span]):  # type: ignore[no-untyped-def]
    import torch

    batch = torch.tensor(rows, dtype=torch.long)
    start = torch.tensor([s for s, _ in spans], dtype=torch.long)
    end = torch.tensor([e for _, e in spans], dtype=torch.long)
    cumulative = torch.cat([torch.zeros_like(h[:, :1]), h.cumsum(1)], dim=1)
    mean = (cumulative[batch, end] - cumulative[batch, start]) / (end - start).unsqueeze(-1)
    return torch.cat([h[batch, start], h[batch, end - 1], mean], dim=-1)


# -- the model -------------------------------------------------------------------------------
@dataclass
class AspectTrainingReport:
    output: Path
    meta: ModelMeta
    n_extract: int
    n_apc: int
    seconds: float


def _log(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def train_aspects(
    recipe: AspectRecipe, output: str | Path, progress: Progress | None = None
) -> AspectTrainingReport:
    """Train, pick epochs and the pair threshold on dev, write the model directory."""
    import torch
    from torch import nn

    started = time.time()
    torch.set_num_threads(max(1, recipe.threads))
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    output = Path(output)

    extract_rows = read_triplet_rows(recipe.extract_train)
    extract_dev = read_triplet_rows(recipe.extract_dev) if recipe.extract_dev else extract_rows
    apc_all = read_apc_rows(recipe.apc_train)
    if recipe.apc_dev:
        apc_rows, apc_dev = apc_all, read_apc_rows(recipe.apc_dev)
    else:
        apc_rows = [r for r in apc_all if not is_dev(r[0])]
        apc_dev = [r for r in apc_all if is_dev(r[0])] or apc_all
    extra_rows = read_triplet_rows(recipe.apc_extra) if recipe.apc_extra else []
    if not extract_rows or not apc_rows:
        raise DataError("the recipe's training files hold no rows")

    extra_chars: list[str] = []
    if recipe.init_from is not None:
        units, _ = pretrained_units(recipe.init_from)
        extra_chars = [u for u, _ in sorted(units.items(), key=lambda kv: kv[1]) if len(u) == 1]
    vocab = build_vocab(
        [t for t, _ in extract_rows] + [t for t, _ in apc_rows] + [t for t, _ in extra_rows],
        recipe,
        extra_chars,
    )
    bigrams = build_bigrams([t for t, _ in extract_rows] + [t for t, _ in apc_rows], recipe)
    coder = AspectModel(
        vocab, {n: b"" for n in (EXTRACT_FILE, PAIR_FILE, APC_FILE)}, {}, None, bigrams
    )
    Extractor, PairScorer, PolarityNet = _networks(
        recipe, len(vocab) + 2, len(bigrams) + 2 if bigrams else 0
    )

    # ---- extraction ----
    extractor = Extractor()
    hits = _init_embeddings(extractor.encoder, vocab, recipe)
    scorer = PairScorer(extractor.encoder.dim)
    examples = _extract_examples(extract_rows, recipe.max_len)
    lengths = [len(e.folded) for e in examples]
    params = list(extractor.parameters()) + list(scorer.parameters())
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=1e-4)
    steps = recipe.extract_epochs * ((len(examples) + recipe.batch_size - 1) // recipe.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.learning_rate, total_steps=max(steps, 1), pct_start=0.1
    )
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    best: tuple[float, dict[str, bytes], dict[str, Any]] | None = None
    placeholder_apc = b""
    for epoch in range(recipe.extract_epochs):
        extractor.train()
        scorer.train()
        batches = _batches(
            [i for i in range(len(examples)) if lengths[i] > 0], recipe.batch_size, rng, lengths
        )
        for done, batch in enumerate(batches):
            sentences = [examples[i] for i in batch]
            ids_t, rev_t, bigrams_t, lens = _feeds(coder, [s.folded for s in sentences])
            h, a_scores, o_scores = extractor(ids_t, rev_t, bigrams_t)
            width = ids_t.shape[1]
            a_gold = torch.full((len(batch), width), -100, dtype=torch.long)
            o_gold = torch.full((len(batch), width), -100, dtype=torch.long)
            for r, s in enumerate(sentences):
                a_gold[r, : lens[r]] = torch.tensor(s.aspect_tags)
                o_gold[r, : lens[r]] = torch.tensor(s.opinion_tags)
            tokens = max(sum(lens), 1)
            loss = (
                loss_fn(a_scores.reshape(-1, 3), a_gold.reshape(-1))
                + loss_fn(o_scores.reshape(-1, 3), o_gold.reshape(-1))
            ) / tokens
            rows_a, spans_a, rows_o, spans_o, nulls, dists, labels = [], [], [], [], [], [], []
            for r, s in enumerate(sentences):
                for a, o, label in s.pairs:
                    rows_a.append(r)
                    spans_a.append(a or (0, 1))
                    rows_o.append(r)
                    spans_o.append(o)
                    nulls.append(1.0 if a is None else 0.0)
                    dists.append(distance_bucket(a, o))
                    labels.append(label)
            if labels:
                null_t = torch.tensor(nulls)
                a_rep = _span_reps(h, rows_a, spans_a) * (1.0 - null_t).unsqueeze(-1)
                o_rep = _span_reps(h, rows_o, spans_o)
                pair_scores = scorer(a_rep, o_rep, null_t, torch.tensor(dists, dtype=torch.long))
                loss = loss + loss_fn(pair_scores, torch.tensor(labels)) / len(batch)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            optimizer.step()
            schedule.step()
            if done % 50 == 0:
                _log(
                    progress,
                    f"extract epoch {epoch + 1}/{recipe.extract_epochs}",
                    done,
                    len(batches),
                )
        if not recipe.select_on_dev and epoch < recipe.extract_epochs - 1:
            continue
        graphs = _export_extraction(extractor, scorer)
        graphs[APC_FILE] = placeholder_apc
        metrics = _score_extraction(coder, graphs, recipe, extract_dev, 0.5)
        _log(
            progress, f"extract epoch {epoch + 1} dev triplet F1 {metrics['triplet_f1']:.4f}", 1, 1
        )
        if best is None or metrics["triplet_f1"] > best[0]:
            best = (metrics["triplet_f1"], graphs, {"epoch": epoch + 1})
    assert best is not None
    extraction_graphs = best[1]
    if recipe.quantize:
        extraction_graphs = {
            name: quantize_graph(graph) for name, graph in extraction_graphs.items() if graph
        } | {APC_FILE: placeholder_apc}
    # the pair thresholds, on dev: one model, its candidates scored once per setting
    threshold, second, extract_metrics = 0.5, 0.9, dict[str, Any]()
    for candidate in recipe.thresholds:
        for candidate_second in recipe.second_thresholds:
            metrics = _score_extraction(
                coder, extraction_graphs, recipe, extract_dev, candidate, candidate_second
            )
            if not extract_metrics or metrics["triplet_f1"] > extract_metrics["triplet_f1"]:
                threshold, second, extract_metrics = candidate, candidate_second, metrics
    extract_metrics["epoch"] = best[2]["epoch"]

    # ---- aspect polarity ----
    apc_examples: list[Any] = []
    best_apc: tuple[float, bytes, dict[str, Any]] | None = None
    if recipe.apc_from is not None:
        reused = AspectModel.load(recipe.apc_from)
        if reused.vocab != vocab or reused.bigrams != bigrams or reused.meta is None:
            raise ConfigError(f"apc_from {recipe.apc_from} was trained on another vocabulary")
        best_apc = (0.0, reused.graphs[APC_FILE], reused.meta.metrics["aspect_polarity_dev"])
    polarity_net = PolarityNet()
    _init_embeddings(polarity_net.encoder, vocab, recipe)
    if best_apc is None:
        apc_examples = _apc_examples(apc_rows, extra_rows, recipe, rng)
    apc_lengths = [len(e[0]) for e in apc_examples]
    optimizer = torch.optim.AdamW(
        polarity_net.parameters(), lr=recipe.learning_rate, weight_decay=1e-4
    )
    steps = recipe.apc_epochs * ((len(apc_examples) + recipe.batch_size - 1) // recipe.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.learning_rate, total_steps=max(steps, 1), pct_start=0.1
    )
    weighted = nn.CrossEntropyLoss(reduction="none")
    for epoch in range(0 if best_apc is not None else recipe.apc_epochs):
        polarity_net.train()
        batches = _batches(list(range(len(apc_examples))), recipe.batch_size, rng, apc_lengths)
        for done, batch in enumerate(batches):
            items = [apc_examples[i] for i in batch]
            ids_t, rev_t, bigrams_t, lens = _feeds(coder, [it[0] for it in items])
            marks = torch.zeros_like(ids_t)
            for r, it in enumerate(items):
                marks[r, : lens[r]] = torch.tensor(it[1])
            scores = polarity_net(ids_t, rev_t, bigrams_t, marks)
            gold = torch.tensor([it[2] for it in items])
            weight = torch.tensor([it[3] for it in items])
            loss = (weighted(scores, gold) * weight).sum() / weight.sum()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(polarity_net.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            if done % 50 == 0:
                _log(progress, f"apc epoch {epoch + 1}/{recipe.apc_epochs}", done, len(batches))
        if not recipe.select_on_dev and epoch < recipe.apc_epochs - 1:
            continue
        graph = _export_polarity(polarity_net)
        metrics = _score_polarity(coder, {**extraction_graphs, APC_FILE: graph}, recipe, apc_dev)
        _log(progress, f"apc epoch {epoch + 1} dev macro-F1 {metrics['macro_f1']:.4f}", 1, 1)
        key = metrics["macro_f1"] + metrics["accuracy"]
        if best_apc is None or key > best_apc[0]:
            best_apc = (key, graph, metrics | {"epoch": epoch + 1})
    assert best_apc is not None
    graphs = {**extraction_graphs, APC_FILE: best_apc[1]}
    if recipe.quantize and recipe.apc_from is None:
        graphs[APC_FILE] = quantize_graph(best_apc[1])
        epoch = best_apc[2]["epoch"]
        best_apc = (0.0, graphs[APC_FILE], _score_polarity(coder, graphs, recipe, apc_dev))
        best_apc[2]["epoch"] = epoch

    hyper = recipe.hyperparameters() | {
        "pair_threshold": threshold,
        "second_pair_threshold": second,
    }
    meta = ModelMeta(
        name=recipe.name,
        task=TASK,
        architecture=ARCHITECTURE,
        labels=list(POLARITY_COLUMNS),
        hyperparameters=hyper,
        metrics={
            "extraction_dev": _rounded(extract_metrics),
            "aspect_polarity_dev": _rounded(best_apc[2]),
        },
        training_data={
            "extract_train": [_describe(p) for p in recipe.extract_train],
            "extract_dev": [_describe(p) for p in recipe.extract_dev],
            "apc_train": [_describe(p) for p in recipe.apc_train],
            "apc_dev": [_describe(p) for p in recipe.apc_dev]
            or "10% of apc_train carved by qinggan.training.splits.is_dev",
            "apc_extra": [_describe(p) for p in recipe.apc_extra],
            "n_extract_train": len(extract_rows),
            "n_apc_train_sentences": len(apc_rows),
            "n_apc_examples": len(apc_examples),
            "vocab_size": len(vocab),
            "bigram_vocab_size": len(bigrams),
            "pretrained_hits": hits,
            "init_from": recipe.init_from.name if recipe.init_from else None,
        },
    )
    model = AspectModel(vocab, graphs, hyper, meta, bigrams)
    output.mkdir(parents=True, exist_ok=True)
    model.save(output, meta)
    seconds = time.time() - started
    (output / "MODEL_CARD.md").write_text(model_card(meta, seconds), encoding="utf-8")
    return AspectTrainingReport(output, meta, len(extract_rows), len(apc_rows), seconds)


def _describe(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def _apc_examples(
    rows: Sequence[tuple[str, list[tuple[Span, str]]]],
    extra: Sequence[tuple[str, list[Triplet]]],
    recipe: AspectRecipe,
    rng: random.Random,
) -> list[tuple[str, list[int], int, float]]:
    """(folded text, marks, polarity index, weight) per aspect; aspects past ``max_len`` are
    windowed."""
    out = []

    def add(text: str, span: Span | None, polarity: str, weight: float) -> None:
        folded = fold(text)
        start, end = 0, len(folded)
        if end > recipe.max_len:
            if span is None:
                end = recipe.max_len
            else:
                start = max(
                    0,
                    min(
                        span[0] - (recipe.max_len - (span[1] - span[0])) // 2,
                        len(folded) - recipe.max_len,
                    ),
                )
                end = start + recipe.max_len
        marks = [0] * (end - start)
        if span is not None:
            for i in range(max(span[0], start), min(span[1], end)):
                marks[i - start] = 1
        out.append(
            (
                folded[start:end],
                marks,
                POLARITY_COLUMNS.index(polarity),
                weight,
            )
        )

    for text, aspects in rows:
        for span, polarity in aspects:
            add(text, span, polarity, 1.0)
        polarities = {p for _, p in aspects}
        if len(polarities) == 1 and rng.random() < recipe.apc_unmarked_share:
            add(text, None, aspects[0][1], 1.0)
    if recipe.apc_extra_weight > 0:
        extra = list(extra)
        if len(extra) > recipe.apc_extra_limit:
            extra = rng.sample(extra, recipe.apc_extra_limit)
        for text, triplets in extra:
            per_aspect: dict[Span, set[str]] = {}
            for aspect, _, polarity in triplets:
                if aspect is not None:
                    per_aspect.setdefault(aspect, set()).add(polarity)
            for span, polarities in per_aspect.items():
                if len(polarities) == 1:
                    add(text, span, next(iter(polarities)), recipe.apc_extra_weight)
    return out


def quantize_graph(graph: bytes, min_size: int = 4096) -> bytes:
    """The graph with its large weights stored as int8 and computed in float.

    Embedding tables (Gather) become int8 rows dequantized after the lookup (onnxruntime's
    ``quantize_dynamic`` for Gather); the weight matrices of MatMul and Gemm become int8 with one
    scale each, dequantized inside the graph. Activations stay float: unlike dynamic quantisation
    of MatMul (whose activation scale depends on the whole batch), a text's answer never depends
    on the other texts of its batch. Convolutions and the GRU stay float.
    """
    import logging
    import tempfile

    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        quiet = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" warnings
        try:
            quantize_dynamic(
                source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"]
            )
        finally:
            logging.getLogger().setLevel(quiet)
        model = onnx.load(str(target))
    nodes = model.graph.node
    users: dict[str, list[tuple[str, int]]] = {}
    for node in nodes:
        for position, name in enumerate(node.input):
            users.setdefault(name, []).append((node.op_type, position))
    for init in list(model.graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        uses = users.get(init.name, [])
        if not uses or any(op not in ("MatMul", "Gemm") or pos != 1 for op, pos in uses):
            continue
        weight = numpy_helper.to_array(init)
        if weight.ndim != 2 or weight.size < min_size:
            continue
        scale = float(np.abs(weight).max()) / 127.0 or 1.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        name = init.name
        model.graph.initializer.remove(init)
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(quantized, f"{name}_int8"),
                numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"),
                numpy_helper.from_array(np.array(0, dtype=np.int8), f"{name}_zero"),
            ]
        )
        nodes.insert(
            0,
            helper.make_node(
                "DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"], [name]
            ),
        )
    return model.SerializeToString()


def _export_extraction(extractor, scorer) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    import torch

    ids = torch.ones((2, 6), dtype=torch.long)
    rev = torch.from_numpy(reverse_index([6, 6], 6))
    extract = _export(
        extractor,
        (ids, rev, torch.ones_like(ids)),
        ["ids", "rev", "bigrams"],
        ["states", "aspect_tags", "opinion_tags"],
        {
            name: {0: "batch", 1: "length"}
            for name in ("ids", "rev", "bigrams", "states", "aspect_tags", "opinion_tags")
        },
    )
    dim = extractor.encoder.dim
    pair = _export(
        scorer,
        (
            torch.zeros((3, 3 * dim)),
            torch.zeros((3, 3 * dim)),
            torch.zeros(3),
            torch.zeros(3, dtype=torch.long),
        ),
        ["aspect", "opinion", "null", "distance"],
        ["scores"],
        {name: {0: "pairs"} for name in ("aspect", "opinion", "null", "distance", "scores")},
    )
    extractor.train()
    scorer.train()
    return {EXTRACT_FILE: extract, PAIR_FILE: pair}


def _export_polarity(network) -> bytes:  # type: ignore[no-untyped-def]
    import torch

    ids = torch.ones((2, 6), dtype=torch.long)
    rev = torch.from_numpy(reverse_index([6, 6], 6))
    marks = torch.zeros((2, 6), dtype=torch.long)
    marks[0, 1] = 1
    graph = _export(
        network,
        (ids, rev, torch.ones_like(ids), marks),
        ["ids", "rev", "bigrams", "marks"],
        ["scores"],
        {
            "ids": {0: "batch", 1: "length"},
            "rev": {0: "batch", 1: "length"},
            "bigrams": {0: "batch", 1: "length"},
            "marks": {0: "batch", 1: "length"},
            "scores": {0: "batch"},
        },
    )
    network.train()
    return graph


def _score_extraction(
    coder: AspectModel,
    graphs: dict[str, bytes],
    recipe: AspectRecipe,
    rows: Sequence[tuple[str, list[Triplet]]],
    threshold: float,
    second: float = 0.9,
) -> dict[str, Any]:
    hyper = {
        "max_len": recipe.max_len,
        "pair_threshold": threshold,
        "second_pair_threshold": second,
    }
    model = AspectModel(coder.vocab, graphs, hyper, None, coder.bigrams)
    found = model.extract([text for text, _ in rows])
    predicted = [
        [
            (r.aspect_span, r.opinion_span, POLARITY_COLUMNS[int(np.argmax(r.probabilities))])
            for r in one
        ]
        for one in found
    ]
    return score_triplets([t for _, t in rows], predicted) | {
        "threshold": threshold,
        "second_threshold": second,
    }


def _score_polarity(
    coder: AspectModel,
    graphs: dict[str, bytes],
    recipe: AspectRecipe,
    rows: Sequence[tuple[str, list[tuple[Span, str]]]],
) -> dict[str, Any]:
    model = AspectModel(coder.vocab, graphs, {"max_len": recipe.max_len}, None, coder.bigrams)
    pairs = [(text, text[span[0] : span[1]]) for text, aspects in rows for span, _ in aspects]
    gold = [p for _, aspects in rows for _, p in aspects]
    predicted = [POLARITY_COLUMNS[int(np.argmax(p))] for _, p in model.polarity(pairs)]
    scores = score_polarities(gold, predicted)
    scores.pop("confusion", None)
    scores.pop("labels", None)
    return scores


def model_card(meta: ModelMeta, seconds: float) -> str:
    ex = meta.metrics.get("extraction_dev", {})
    ap = meta.metrics.get("aspect_polarity_dev", {})
    h = meta.hyperparameters
    data = json.dumps(meta.training_data, ensure_ascii=False, indent=2)
    bigram_dim = h.get("bigram_dim", 0)
    bigrams = f" and character-bigram embeddings ({bigram_dim})" if bigram_dim else ""
    return f"""# Model card: {meta.name} (aspect-level opinions)

Task: aspect-sentiment triplets (aspect term or implicit, opinion term, polarity) with character
spans, and the polarity of a named aspect. Trained by `qinggan train aspects --config
configs/aspects.toml` on this machine's CPU in {seconds / 60:.1f} minutes; runs with onnxruntime.

Architecture ({meta.architecture}): character embeddings ({h["embedding_dim"]}, initialised
from the shipped polarity CNN){bigrams} ->
{1 + len(h["dilations"])} masked convolutions ({h["channels"]} channels, dilations
{h["dilations"]}) -> bidirectional GRU ({h["rnn_hidden"]} per direction); BIO heads for aspect
and opinion terms (Viterbi-decoded); a pair scorer (span start/end/mean states, a learned
"implicit aspect" vector, distance buckets) over none/positive/negative/neutral: each opinion
keeps its best candidate when it scores {h["pair_threshold"]} or more, and a second aspect at
{h.get("second_pair_threshold")} or more (both chosen on dev); a second network of the same
shape with the aspect's characters marked classifies the polarity of a named aspect. Embedding
tables and linear-layer weights are stored as int8 (one scale per table; activations stay float,
so a text's answer never depends on its batch); the dev numbers below are those of the stored
model.

## Dev metrics (exact spans)
| metric | value |
| --- | --- |
| triplet F1 | {ex.get("triplet_f1")} |
| triplet precision / recall | {ex.get("triplet_precision")} / {ex.get("triplet_recall")} |
| aspect-term F1 | {ex.get("aspect_f1")} |
| opinion-term F1 | {ex.get("opinion_f1")} |
| aspect-opinion pair F1 | {ex.get("pair_f1")} |
| sentences | {ex.get("n")} |
| aspect polarity accuracy | {ap.get("accuracy")} |
| aspect polarity macro-F1 | {ap.get("macro_f1")} |
| aspects | {ap.get("n")} |

Extraction dev = aste_zh's official dev split (restaurants, hotels). Aspect-polarity dev = the
fixed 10% of apc_zh train carved by `qinggan.training.splits.is_dev` (apc_zh has no dev split).
The held-out test splits were never used.

## Training data
```json
{data}
```

## Limits
Trained on restaurant/hotel reviews (extraction) and camera/car/notebook/phone/shampoo reviews
(aspect polarity): other domains get fewer and less exact spans. Opinion spans follow the
annotation style of aste_zh (often a whole clause such as 都是肉有点油腻).
"""


def build_bigrams(texts: Sequence[str], recipe: AspectRecipe) -> list[str]:
    """The most frequent character bigrams (and final characters) of the folded texts."""
    if recipe.bigram_vocab_size <= 0:
        return []
    counts: Counter[str] = Counter()
    for text in texts:
        folded = fold(text)
        counts.update(folded[i : i + 2] for i in range(len(folded)))
    common = [b for b, n in counts.most_common(recipe.bigram_vocab_size)]
    return [b for b in common if counts[b] >= recipe.bigram_min_count]
