"""Training recipes: which corpora, which label mapping, which weights, which dev sets.

A recipe is a TOML file (see ``configs/polarity.toml``) or is built in code from a user's files
(:func:`recipe_from_files`). :func:`load_data` turns it into training examples and named dev sets.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qinggan.errors import ConfigError, DataError
from qinggan.training.corpora import Example, read_labelled
from qinggan.training.splits import is_dev

_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")


@dataclass
class Source:
    path: Path
    weight: float = 1.0
    holdout: bool = False
    label_map: dict[str, str | None] | None = None
    default_label: str | None = None
    strip_emoticons: bool = False
    # the field holding the label (our own corpora carry `polarity` and `emotion` side by side)
    label_field: str = "label"
    # our own hand labels: where a public corpus has the same text, this source's label wins
    authoritative: bool = False


@dataclass
class Recipe:
    name: str
    labels: tuple[str, ...]
    model: dict[str, Any]
    sources: list[Source]
    dev: dict[str, Source] = field(default_factory=dict)
    seed: int = 0
    data_root: Path | None = None
    pretrain: dict[str, Any] = field(default_factory=dict)
    # files whose texts never train (our test parts, the behavioural suite), whatever the source
    exclude: list[Path] = field(default_factory=list)


@dataclass
class TrainingData:
    train: list[Example]
    dev: dict[str, list[Example]]
    fingerprint: str
    sources: list[dict[str, Any]]


def load_recipe(path: Path, labels: tuple[str, ...]) -> Recipe:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}") from exc
    root = (path.parent / raw.get("data_root", ".")).resolve()

    def locate(entry: dict[str, Any], what: str) -> Path:
        # `path` is relative to data_root, `local_path` to the recipe file (the repo's own corpora)
        if "local_path" in entry:
            return (path.parent / entry["local_path"]).resolve()
        if "path" not in entry:
            raise ConfigError(f"{path}: every [[{what}]] needs a path or a local_path")
        return root / entry["path"]

    sources = []
    for entry in raw.get("source", []):
        sources.append(
            Source(
                path=locate(entry, "source"),
                weight=float(entry.get("weight", 1.0)),
                holdout=bool(entry.get("holdout", False)),
                label_map=entry.get("map"),
                default_label=entry.get("default_label"),
                strip_emoticons=bool(entry.get("strip_emoticons", False)),
                label_field=str(entry.get("field", "label")),
                authoritative=bool(entry.get("authoritative", False)),
            )
        )
    if not sources:
        raise ConfigError(f"{path}: no [[source]] entries")
    dev = {
        entry["name"]: Source(
            path=locate(entry, "dev"),
            label_map=entry.get("map"),
            label_field=str(entry.get("field", "label")),
        )
        for entry in raw.get("dev", [])
    }
    exclude = [locate(entry, "exclude") for entry in raw.get("exclude", [])]
    return Recipe(
        name=str(raw.get("name", path.stem)),
        labels=labels,
        model=dict(raw.get("model", {})),
        sources=sources,
        dev=dev,
        seed=int(raw.get("seed", 0)),
        data_root=root,
        pretrain=dict(raw.get("pretrain", {})),
        exclude=exclude,
    )


def recipe_from_files(
    name: str,
    labels: tuple[str, ...],
    files: list[Path],
    dev_files: list[Path],
    model: dict[str, Any],
) -> Recipe:
    """A recipe over a user's own files; without dev files, 10% of each file is held out."""
    sources = [Source(path=p, holdout=not dev_files) for p in files]
    dev = {p.stem: Source(path=p) for p in dev_files}
    return Recipe(name=name, labels=labels, model=model, sources=sources, dev=dev)


def _dataset_name(path: Path) -> str:
    return path.parent.name if path.stem in {"all", "train", "dev"} else path.stem


def load_data(recipe: Recipe) -> TrainingData:
    allowed = set(recipe.labels)
    train: list[Example] = []
    dev: dict[str, list[Example]] = {}
    digest = hashlib.sha256()
    summary = []
    hand_labelled = {str(s.path) for s in recipe.sources if s.authoritative}
    for source in recipe.sources:
        if not source.path.is_file():
            raise DataError("training file not found", path=str(source.path))
        label_map = source.label_map
        if label_map is None and source.default_label is None:
            label_map = {label: label for label in recipe.labels}
        if source.default_label is not None:
            examples = _read_unlabelled(source)
        else:
            examples = read_labelled(
                source.path,
                label_map=label_map,
                allowed=allowed,
                weight=source.weight,
                label_field=source.label_field,
            )
        if source.strip_emoticons:
            examples = [
                Example(stripped, ex.label, ex.weight, ex.source)
                for ex in examples
                if (stripped := _EMOTICON.sub("", ex.text).strip())
            ]
        kept = [ex for ex in examples if not (source.holdout and is_dev(ex.text))]
        if source.holdout:
            dev[_dataset_name(source.path)] = [ex for ex in examples if is_dev(ex.text)]
        train.extend(kept)
        digest.update(source.path.name.encode())
        digest.update(str(len(kept)).encode())
        summary.append({"path": _display(source.path), "rows": len(kept), "weight": source.weight})
    for name, source in recipe.dev.items():
        label_map = source.label_map or {label: label for label in recipe.labels}
        dev[name] = read_labelled(source.path, label_map=label_map, label_field=source.label_field)
    dev_texts = {ex.text for examples in dev.values() for ex in examples}
    dev_texts |= texts_of(recipe.exclude)
    # a hand label wins over a public corpus's label for the same text (a relabelled row)
    authoritative = {ex.text for ex in train if ex.source in hand_labelled}
    train = [ex for ex in train if ex.source in hand_labelled or ex.text not in authoritative]
    train = _deduplicate([ex for ex in train if ex.text not in dev_texts])
    for ex in train:
        digest.update(ex.text.encode())
        digest.update(ex.label.encode())
    return TrainingData(train=train, dev=dev, fingerprint=digest.hexdigest()[:16], sources=summary)


def texts_of(paths: list[Path]) -> set[str]:
    from qinggan.training.corpora import read_records

    texts: set[str] = set()
    for path in paths:
        if not path.is_file():
            raise DataError("excluded file not found", path=str(path))
        texts.update(r["text"] for _, r in read_records(path) if isinstance(r.get("text"), str))
    return texts


def _read_unlabelled(source: Source) -> list[Example]:
    from qinggan.training.corpora import read_records

    return [
        Example(
            text=record["text"],
            label=str(source.default_label),
            weight=source.weight,
            source=str(source.path),
        )
        for _, record in read_records(source.path)
        if isinstance(record.get("text"), str) and record["text"].strip()
    ]


def _deduplicate(examples: list[Example]) -> list[Example]:
    """Keep the first of identical texts; drop texts that carry conflicting labels."""
    labels: dict[str, set[str]] = {}
    for ex in examples:
        labels.setdefault(ex.text, set()).add(ex.label)
    seen: set[str] = set()
    kept = []
    for ex in examples:
        if len(labels[ex.text]) == 1 and ex.text not in seen:
            seen.add(ex.text)
            kept.append(ex)
    return kept


def _display(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)
