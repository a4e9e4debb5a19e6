"""A compact convolutional network over text units, run by onnxruntime.

Units (see :func:`qinggan.text.features.units`) map to ids through ``vocab.tsv``; the network
embeds them, runs convolutions of widths 2, 3 and 4, pools the ReLU outputs by max and by mean
over the real (unpadded) positions, and a linear layer gives class scores. Training (PyTorch,
the ``train`` extra) exports the network to ``cnn.onnx``; inference needs only onnxruntime.
Texts longer than ``max_len`` units keep their head and tail halves, where reviews state their
verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.models.base import NotFittedError, softmax
from qinggan.text.features import units

ONNX_FILE = "cnn.onnx"
VOCAB_FILE = "vocab.tsv"
PAD, UNKNOWN = 0, 1
MIN_LEN = 8  # at least the widest convolution


def read_vocab(path: Path) -> dict[str, int]:
    """``unit<TAB>id`` lines (``vocab.tsv``) as a mapping."""
    vocab = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        unit, _, index = line.rpartition("\t")
        vocab[unit] = int(index)
    return vocab


def write_vocab(path: Path, vocab: dict[str, int]) -> None:
    lines = [f"{unit}\t{index}" for unit, index in sorted(vocab.items(), key=lambda kv: kv[1])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def encode_units(texts: Sequence[str], vocab: dict[str, int], max_len: int) -> list[list[int]]:
    """Unit ids of each text; a text longer than ``max_len`` units keeps its head and tail."""
    half = max_len // 2
    encoded = []
    for text in texts:
        cut = units(text)
        if len(cut) > max_len:
            cut = cut[:half] + cut[-(max_len - half) :]
        encoded.append([vocab.get(unit, UNKNOWN) for unit in cut])
    return encoded


def pad_ids(batch: Sequence[list[int]]) -> np.ndarray:
    """A batch of id lists as one array, padded with ``PAD`` to the longest (at least MIN_LEN)."""
    width = max(MIN_LEN, max((len(ids) for ids in batch), default=0))
    out = np.full((len(batch), width), PAD, dtype=np.int64)
    for row, ids in enumerate(batch):
        out[row, : len(ids)] = ids
    return out


def single_thread_session(onnx_bytes: bytes):  # type: ignore[no-untyped-def]
    """An onnxruntime session on one CPU thread (callers keep one per thread)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


class CharCNNClassifier:
    architecture = "unit-cnn-onnx"
    # learned state (set by fit or load)
    classes_: tuple[str, ...]
    vocab_: dict[str, int]
    onnx_bytes_: bytes

    def __init__(
        self,
        embedding_dim: int = 128,
        filters: int = 128,
        widths: tuple[int, ...] = (2, 3, 4),
        max_len: int = 256,
        vocab_size: int = 8000,
        epochs: int = 2,
        batch_size: int = 128,
        learning_rate: float = 2e-3,
        dropout: float = 0.3,
        seed: int = 0,
        temperature: float = 1.0,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.filters = filters
        self.widths = tuple(widths)
        self.max_len = max_len
        self.vocab_size = vocab_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.seed = seed
        self.temperature = temperature
        self._local = threading.local()
        if max(self.widths) > MIN_LEN:
            raise ValueError(f"convolution widths must be at most {MIN_LEN}, got {self.widths}")

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "embedding_dim": self.embedding_dim,
            "filters": self.filters,
            "widths": list(self.widths),
            "max_len": self.max_len,
            "vocab_size": self.vocab_size,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "dropout": self.dropout,
            "seed": self.seed,
            "temperature": self.temperature,
        }

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return encode_units(texts, self.vocab_, self.max_len)

    @staticmethod
    def pad(batch: Sequence[list[int]]) -> np.ndarray:
        return pad_ids(batch)

    # -- inference ----------------------------------------------------------------------------
    def _session(self):  # type: ignore[no-untyped-def]
        session = getattr(self._local, "session", None)
        if session is None:
            if not hasattr(self, "onnx_bytes_"):
                raise NotFittedError("this CharCNNClassifier is not fitted or loaded yet")
            session = self._local.session = single_thread_session(self.onnx_bytes_)
        return session

    def decision_function(self, texts: Sequence[str], chunk: int = 64) -> np.ndarray:
        """Class scores; texts run in chunks of similar length, so little work goes to padding."""
        session = self._session()
        encoded = self.encode(texts)
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        scores = np.empty((len(texts), len(self.classes_)), dtype=np.float32)
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            ids = self.pad([encoded[i] for i in rows])
            scores[rows] = session.run(None, {"ids": ids})[0]
        return scores.astype(np.float64)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision_function(texts) / self.temperature)

    # -- training (needs the `train` extra) ---------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        sample_weight: Sequence[float] | None = None,
        pretrained: dict[str, np.ndarray] | None = None,
        progress: Any = None,
    ) -> CharCNNClassifier:
        from qinggan.training.torch_cnn import train_cnn

        return train_cnn(self, texts, labels, sample_weight, pretrained, progress)

    # -- persistence --------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        (directory / ONNX_FILE).write_bytes(self.onnx_bytes_)
        write_vocab(directory / VOCAB_FILE, self.vocab_)

    @classmethod
    def load(
        cls, directory: Path, hyperparameters: dict[str, Any], classes: Sequence[str]
    ) -> CharCNNClassifier:
        params = dict(hyperparameters)
        params["widths"] = tuple(params.get("widths", (2, 3, 4)))
        model = cls(**params)
        model.onnx_bytes_ = (directory / ONNX_FILE).read_bytes()
        model.vocab_ = read_vocab(directory / VOCAB_FILE)
        model.classes_ = tuple(classes)
        return model
