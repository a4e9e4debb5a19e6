"""PyTorch training of :class:`~qinggan.models.neural.CharCNNClassifier` and its ONNX export.

Only imported by ``fit`` (the ``train`` extra); inference never needs torch.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.models.neural import MIN_LEN, PAD, UNKNOWN, CharCNNClassifier
from qinggan.text.features import units


def _build_network(model: CharCNNClassifier, n_classes: int):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class UnitCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(
                len(model.vocab_) + 2, model.embedding_dim, padding_idx=PAD
            )
            self.convs = nn.ModuleList(
                nn.Conv1d(model.embedding_dim, model.filters, width) for width in model.widths
            )
            self.dropout = nn.Dropout(model.dropout)
            self.output = nn.Linear(2 * model.filters * len(model.widths), n_classes)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            pooled = pooled_convolutions(ids, self.embedding, self.convs, model.widths)
            return self.output(self.dropout(pooled))

    return UnitCNN()


def pooled_convolutions(ids, embedding, convs, widths: Sequence[int]):  # type: ignore[no-untyped-def]
    """Embed unit ids, run each convolution (ReLU) and pool its outputs by max and by mean over
    the real (unpadded) positions: the features of the unit CNN and of the shared encoder."""
    import torch

    mask = (ids != PAD).to(torch.float32)
    x = embedding(ids).transpose(1, 2)
    pooled = []
    for width, conv in zip(widths, convs, strict=True):
        valid = mask[:, width - 1 :].unsqueeze(1)
        h = torch.relu(conv(x)) * valid
        pooled.append(h.max(dim=2).values)
        pooled.append(h.sum(dim=2) / valid.sum(dim=2).clamp(min=1.0))
    return torch.cat(pooled, dim=1)


def build_vocab(texts: Sequence[str], size: int) -> dict[str, int]:
    counts = Counter(unit for text in texts for unit in units(text))
    common = [unit for unit, count in counts.most_common(size) if count >= 2]
    return {unit: index for index, unit in enumerate(common, start=UNKNOWN + 1)}


def train_cnn(
    model: CharCNNClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    sample_weight: Sequence[float] | None,
    pretrained: dict[str, np.ndarray] | None,
    progress: Any,
) -> CharCNNClassifier:
    import torch
    from torch import nn

    torch.manual_seed(model.seed)
    rng = random.Random(model.seed)
    classes = tuple(sorted(set(labels)))
    index = {label: i for i, label in enumerate(classes)}
    model.classes_ = classes
    model.vocab_ = build_vocab(texts, model.vocab_size)
    network = _build_network(model, len(classes))
    if pretrained:
        with torch.no_grad():
            for unit, row in model.vocab_.items():
                vector = pretrained.get(unit)
                if vector is not None and len(vector) == model.embedding_dim:
                    network.embedding.weight[row] = torch.tensor(
                        np.asarray(vector, dtype=np.float32)
                    )
    encoded = model.encode(texts)
    y = np.array([index[label] for label in labels], dtype=np.int64)
    weights = (
        np.ones(len(y), dtype=np.float32)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float32)
    )

    # batches of similar length, shuffled: little padding, still random order
    by_length = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), rng.random()))
    batches = [
        by_length[i : i + model.batch_size] for i in range(0, len(by_length), model.batch_size)
    ]
    optimizer = torch.optim.AdamW(network.parameters(), lr=model.learning_rate, weight_decay=1e-4)
    total_steps = model.epochs * len(batches)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=model.learning_rate, total_steps=total_steps, pct_start=0.1
    )
    loss_fn = nn.CrossEntropyLoss(reduction="none", label_smoothing=0.05)
    network.train()
    for _ in range(model.epochs):
        rng.shuffle(batches)
        for batch in batches:
            ids = torch.from_numpy(model.pad([encoded[i] for i in batch]))
            target = torch.from_numpy(y[batch])
            w = torch.from_numpy(weights[batch])
            loss = (loss_fn(network(ids), target) * w).sum() / w.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            if progress is not None:
                progress(1, float(loss))
    network.eval()
    model.onnx_bytes_ = export_onnx(network, ["scores"])
    return model


def export_onnx(network, output_names: Sequence[str]) -> bytes:  # type: ignore[no-untyped-def]
    """A network over unit ids as ONNX bytes: input ``ids`` (batch x length, both dynamic)."""
    import logging
    import tempfile
    import warnings

    import torch

    # the exporter logs, at warning level, every optional op library it does not find
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)

    batch = torch.export.Dim("batch")
    length = torch.export.Dim("length", min=MIN_LEN, max=65536)
    example = torch.ones((2, 16), dtype=torch.int64)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        # torch.export's own internals warn about their deprecations; not ours to act on
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        program = torch.onnx.export(
            network,
            (example,),
            dynamo=True,
            input_names=["ids"],
            output_names=list(output_names),
            dynamic_shapes={"ids": {0: batch, 1: length}},
            external_data=False,
            verbose=False,
        )
        path = Path(tmp) / "model.onnx"
        if program is None:
            raise RuntimeError("torch.onnx.export returned no program")
        program.save(str(path))
        return path.read_bytes()
