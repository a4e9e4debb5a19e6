"""One encoder, many heads: a network over text units shared by every judgement, run by onnxruntime.

The shared model's directory (``resources/models/shared``) holds ``encoder.onnx`` (one input,
``ids``; one output per head: ``polarity``, ``emotion``, ``talk_emotion``, ``sarcasm``),
``vocab.tsv`` and ``meta.json`` (``architecture`` = ``shared-encoder``, the heads and their labels
in ``hyperparameters.heads``). It is trained multi-task and distilled by
:mod:`qinggan.training.shared`.

A task model uses one head as an ensemble member, ``architecture`` = ``shared-encoder-head``
with ``encoder`` (the shared directory, a sibling of the task model's directory), ``head`` and the
encoder's ``fingerprint``: a task model calibrated against another encoder refuses to load.
Every head of one batch comes from one run of the network, and the last batch's scores are kept
per thread: a second head asked about the same batch reuses them. (Behind a cascade each task
sends only the texts its linear member is unsure of, which differ between tasks, so there the
encoder usually runs once per task.)
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.errors import ModelError
from qinggan.models.base import softmax
from qinggan.models.io import read_meta
from qinggan.models.neural import (
    VOCAB_FILE,
    encode_units,
    pad_ids,
    read_vocab,
    single_thread_session,
)

ENCODER_FILE = "encoder.onnx"
ENCODER_ARCHITECTURE = "shared-encoder"


class SharedEncoder:
    """The shared network of one directory: every head's raw scores for a batch of texts."""

    def __init__(self, directory: Path) -> None:
        meta = read_meta(directory)
        if meta.architecture != ENCODER_ARCHITECTURE:
            raise ModelError(
                f"{directory} holds a {meta.architecture}, not a {ENCODER_ARCHITECTURE}"
            )
        try:
            self.onnx_bytes = (directory / ENCODER_FILE).read_bytes()
            self.vocab = read_vocab(directory / VOCAB_FILE)
            self.heads: dict[str, tuple[str, ...]] = {
                name: tuple(labels) for name, labels in meta.hyperparameters["heads"].items()
            }
            self.max_len = int(meta.hyperparameters["max_len"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"cannot load the shared encoder in {directory}: {exc}") from exc
        self.directory = directory
        self.meta = meta
        self.fingerprint = hashlib.sha256(self.onnx_bytes).hexdigest()[:16]
        self._local = threading.local()

    def _session(self):  # type: ignore[no-untyped-def]
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = single_thread_session(self.onnx_bytes)
            self._local.outputs = [o.name for o in session.get_outputs()]
        return session

    def scores(self, texts: Sequence[str], chunk: int = 64) -> dict[str, np.ndarray]:
        """Raw scores of every head, one row per text (the last batch's are reused)."""
        last = getattr(self._local, "last", None)
        if last is not None and last[0] == list(texts):
            return last[1]
        session = self._session()
        names: list[str] = self._local.outputs
        encoded = encode_units(texts, self.vocab, self.max_len)
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = {
            name: np.empty((len(texts), len(self.heads[name])), dtype=np.float32) for name in names
        }
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            results = session.run(None, {"ids": pad_ids([encoded[i] for i in rows])})
            for name, result in zip(names, results, strict=True):
                out[name][rows] = result
        self._local.last = (list(texts), out)
        return out


def shared_encoder(directory: str) -> SharedEncoder:
    """One loaded encoder per directory for the whole process (its heads share it); an encoder
    replaced on disk (another size or time of ``encoder.onnx``) is read again, so the fingerprint
    check sees the new one."""
    try:
        stat = (Path(directory) / ENCODER_FILE).stat()
        stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    return _shared_encoder(directory, stamp)


@lru_cache(maxsize=8)
def _shared_encoder(directory: str, stamp: tuple[int, int] | None) -> SharedEncoder:
    return SharedEncoder(Path(directory))


class SharedEncoderHead:
    """One head of a :class:`SharedEncoder` as a classifier (an ensemble member)."""

    architecture = "shared-encoder-head"
    classes_: tuple[str, ...]

    def __init__(
        self,
        encoder: str = "shared",
        head: str = "polarity",
        fingerprint: str | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.encoder = encoder
        self.head = head
        self.fingerprint = fingerprint
        self.temperature = temperature
        self._network: SharedEncoder | None = None

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "head": self.head,
            "fingerprint": self.fingerprint,
            "temperature": self.temperature,
        }

    def attach(self, model_directory: Path) -> SharedEncoderHead:
        """Bind to the encoder beside ``model_directory``; check the head and the fingerprint."""
        location = (model_directory.resolve().parent / self.encoder).resolve()
        if not (location / ENCODER_FILE).is_file():
            raise ModelError(
                f"{model_directory} uses the shared encoder {location}, which is missing: copy "
                f"the `{self.encoder}` model directory beside it"
            )
        network = shared_encoder(str(location))
        if self.head not in network.heads:
            raise ModelError(f"the shared encoder {network.directory} has no head {self.head!r}")
        if self.fingerprint is not None and self.fingerprint != network.fingerprint:
            raise ModelError(
                f"{model_directory} was calibrated against shared encoder {self.fingerprint}, "
                f"but {network.directory} holds {network.fingerprint}: retrain the task model"
            )
        self.fingerprint = network.fingerprint
        self._network = network
        self.classes_ = network.heads[self.head]
        return self

    @classmethod
    def beside(cls, output: Path, spec: dict[str, Any]) -> SharedEncoderHead:
        """The head a recipe names, bound to the encoder beside the model being written (the
        recipe's seed is not the head's: the encoder was trained with its own)."""
        params = {k: v for k, v in spec.items() if k not in {"architecture", "weight", "seed"}}
        return cls(**params).attach(output)

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        if self._network is None:
            raise ModelError("this shared-encoder head is not attached to an encoder")
        return self._network.scores(texts)[self.head].astype(np.float64)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision_function(texts) / self.temperature)

    def fit(self, *args: Any, **kwargs: Any) -> SharedEncoderHead:
        raise ModelError("a shared-encoder head is trained with its encoder: qinggan train shared")

    def save(self, directory: Path) -> None:
        """Nothing to write: the weights live in the shared encoder's directory."""

    @classmethod
    def load(
        cls, directory: Path, hyperparameters: dict[str, Any], classes: Sequence[str]
    ) -> SharedEncoderHead:
        head = cls(**hyperparameters).attach(directory)
        if tuple(head.classes_) != tuple(classes):
            raise ModelError(
                f"{directory}: head {head.head!r} has labels {head.classes_}, meta.json says "
                f"{list(classes)}"
            )
        return head
