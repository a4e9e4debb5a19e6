"""PyTorch training of the shared encoder (:mod:`qinggan.models.shared`) and its ONNX export.

The network: unit embeddings, convolutions of several widths pooled by max and by mean over the
real positions, one shared dense layer, and a linear head per task. A batch row may carry a gold
label for some heads (cross-entropy, weighted by its source's weight) and a teacher's soft labels
for any head (cross-entropy against the teacher's distribution); heads without either are masked.
Only imported for training (the ``train`` extra); inference needs onnxruntime only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qinggan.models.neural import PAD, encode_units, pad_ids
from qinggan.training.torch_cnn import build_vocab, export_onnx, pooled_convolutions


@dataclass(frozen=True)
class EncoderShape:
    """Hyper-parameters of the shared network and of its training."""

    embedding_dim: int = 128
    filters: int = 160
    widths: tuple[int, ...] = (2, 3, 4)
    hidden: int = 256
    max_len: int = 160
    vocab_size: int = 20000
    epochs: int = 2
    batch_size: int = 128
    learning_rate: float = 2e-3
    dropout: float = 0.3
    label_smoothing: float = 0.05

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EncoderShape:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown encoder settings: {', '.join(sorted(unknown))}")
        params = dict(raw)
        if "widths" in params:
            params["widths"] = tuple(params["widths"])
        return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["widths"] = list(self.widths)
        return out


@dataclass
class HeadTargets:
    """What one head learns from, one entry per training text."""

    labels: tuple[str, ...]
    gold: np.ndarray  # int64 class index, -1 where the text has no gold label for this head
    gold_weight: np.ndarray  # float32
    soft: np.ndarray | None = None  # float32 (n, classes): a teacher's probabilities
    soft_weight: np.ndarray | None = None  # float32, 0 where the text has no soft label
    weight: float = 1.0  # the head's share of the loss


def _network(shape: EncoderShape, vocab_size: int, heads: dict[str, int]):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class SharedNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size + 2, shape.embedding_dim, padding_idx=PAD)
            self.convs = nn.ModuleList(
                nn.Conv1d(shape.embedding_dim, shape.filters, width) for width in shape.widths
            )
            self.dropout = nn.Dropout(shape.dropout)
            self.shared = nn.Linear(2 * shape.filters * len(shape.widths), shape.hidden)
            self.heads = nn.ModuleDict(
                {name: nn.Linear(shape.hidden, n) for name, n in heads.items()}
            )

        def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
            pooled = pooled_convolutions(ids, self.embedding, self.convs, shape.widths)
            z = torch.relu(self.shared(self.dropout(pooled)))
            z = self.dropout(z)
            return tuple(head(z) for head in self.heads.values())

    return SharedNet()


class SharedTrainer:
    """Fits the shared network on texts and per-head targets; scores texts; exports ONNX."""

    def __init__(self, shape: EncoderShape, seed: int = 0) -> None:
        self.shape = shape
        self.seed = seed
        self.vocab: dict[str, int] = {}
        self.network: Any = None
        self.head_names: list[str] = []

    def fit(
        self,
        texts: Sequence[str],
        targets: dict[str, HeadTargets],
        vocab: dict[str, int] | None = None,
        progress: Callable[[int, int, float], None] | None = None,
        pretrained: dict[str, np.ndarray] | None = None,
    ) -> SharedTrainer:
        import torch
        from torch.nn import functional as F

        torch.manual_seed(self.seed)
        rng = random.Random(self.seed)
        self.vocab = vocab if vocab is not None else build_vocab(texts, self.shape.vocab_size)
        self.head_names = list(targets)
        self.network = _network(
            self.shape, len(self.vocab), {name: len(t.labels) for name, t in targets.items()}
        )
        if pretrained:
            # unit vectors learned without labels (word2vec) start the embedding table
            with torch.no_grad():
                table = self.network.embedding.weight
                for unit, row in self.vocab.items():
                    vector = pretrained.get(unit)
                    if vector is not None and len(vector) == table.shape[1]:
                        table[row] = torch.from_numpy(np.asarray(vector, dtype=np.float32))
        encoded = encode_units(texts, self.vocab, self.shape.max_len)
        tensors: dict[str, dict[str, Any]] = {
            name: {
                "gold": torch.from_numpy(t.gold),
                "gold_weight": torch.from_numpy(t.gold_weight),
                "soft": None if t.soft is None else torch.from_numpy(t.soft),
                "soft_weight": None if t.soft_weight is None else torch.from_numpy(t.soft_weight),
            }
            for name, t in targets.items()
        }
        by_length = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), rng.random()))
        size = self.shape.batch_size
        batches = [by_length[i : i + size] for i in range(0, len(by_length), size)]
        optimizer = torch.optim.AdamW(
            self.network.parameters(), lr=self.shape.learning_rate, weight_decay=1e-4
        )
        total = self.shape.epochs * len(batches)
        # warm up and anneal; a handful of steps (a tiny trial) keeps the rate constant
        scheduler = (
            torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=self.shape.learning_rate, total_steps=total, pct_start=0.1
            )
            if total >= 20
            else None
        )
        self.network.train()
        step = 0
        for _ in range(self.shape.epochs):
            rng.shuffle(batches)
            for batch in batches:
                index = torch.tensor(batch)
                outputs = self.network(torch.from_numpy(pad_ids([encoded[i] for i in batch])))
                loss = torch.zeros(())
                for name, scores in zip(self.head_names, outputs, strict=True):
                    t = tensors[name]
                    head_weight = targets[name].weight
                    gold = t["gold"][index]
                    has_gold = gold >= 0
                    if bool(has_gold.any()):
                        ce = F.cross_entropy(
                            scores[has_gold],
                            gold[has_gold],
                            reduction="none",
                            label_smoothing=self.shape.label_smoothing,
                        )
                        loss = loss + head_weight * (
                            ce * t["gold_weight"][index][has_gold]
                        ).sum() / len(batch)
                    if t["soft"] is not None:
                        soft_weight = t["soft_weight"][index]
                        has_soft = soft_weight > 0
                        if bool(has_soft.any()):
                            logp = F.log_softmax(scores[has_soft], dim=1)
                            ce = -(t["soft"][index][has_soft] * logp).sum(dim=1)
                            loss = loss + head_weight * (ce * soft_weight[has_soft]).sum() / len(
                                batch
                            )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                step += 1
                if progress is not None:
                    progress(step, total, float(loss.detach()))
        self.network.eval()
        return self

    def scores(self, texts: Sequence[str], chunk: int = 256) -> dict[str, np.ndarray]:
        """Raw scores of every head (the network in eval mode, in torch)."""
        import torch

        encoded = encode_units(texts, self.vocab, self.shape.max_len)
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = {name: np.empty((len(texts), 0), dtype=np.float32) for name in self.head_names}
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {n: [] for n in self.head_names}
        with torch.inference_mode():
            for start in range(0, len(order), chunk):
                rows = order[start : start + chunk]
                results = self.network(torch.from_numpy(pad_ids([encoded[i] for i in rows])))
                for name, result in zip(self.head_names, results, strict=True):
                    parts[name].append((rows, result.numpy()))
        for name, chunks in parts.items():
            width = chunks[0][1].shape[1] if chunks else 0
            matrix = np.zeros((len(texts), width), dtype=np.float32)
            for rows, values in chunks:
                matrix[rows] = values
            out[name] = matrix
        return out

    def export(self) -> bytes:
        """The network as ONNX bytes: input ``ids``, one output per head."""
        return export_onnx(self.network, self.head_names)
