"""Model directories: ``meta.json`` plus weights stored as data.

``meta.json`` holds: name, task, architecture, qinggan_version, labels, hyperparameters, metrics
(held-out), training_data (sources and a hash), created_at. Loading checks it and warns when the
model was built by another qinggan version.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qinggan._version import __version__
from qinggan.errors import ModelError

logger = logging.getLogger("qinggan")

META_FILE = "meta.json"
REQUIRED_META = ("name", "task", "architecture", "labels", "hyperparameters", "qinggan_version")


@dataclass
class ModelMeta:
    name: str
    task: str
    architecture: str
    labels: list[str]
    hyperparameters: dict[str, Any]
    qinggan_version: str = __version__
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    components: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def read_meta(directory: Path) -> ModelMeta:
    path = directory / META_FILE
    if not path.is_file():
        raise ModelError(f"{directory} is not a qinggan model directory: it has no {META_FILE}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"{path} must hold a JSON object")
    missing = [key for key in REQUIRED_META if key not in raw]
    if missing:
        raise ModelError(f"{path} lacks the keys: {', '.join(missing)}")
    known = set(ModelMeta.__dataclass_fields__)
    meta = ModelMeta(**{k: v for k, v in raw.items() if k in known})
    if meta.qinggan_version.split(".")[:2] != __version__.split(".")[:2]:
        warnings.warn(
            f"model {directory} was built by qinggan {meta.qinggan_version}; this is {__version__}",
            stacklevel=2,
        )
    return meta


def write_meta(directory: Path, meta: ModelMeta) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META_FILE).write_text(meta.to_json(), encoding="utf-8")
