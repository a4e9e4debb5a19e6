"""Readers for labelled text files: JSONL (``{"text", "label"}`` per line) and CSV/TSV.

Every malformed line raises :class:`DataError` naming the file and line number, so a user who
trains on their own data learns exactly which line to fix.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qinggan.errors import DataError


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    weight: float = 1.0
    source: str = ""


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` from a JSONL, CSV or TSV file."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".tsv"}:
            yield from _read_delimited(path, "\t" if suffix == ".tsv" else ",")
        else:
            yield from _read_jsonl(path)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path=str(path)
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", path=str(path)) from None


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError("line is not valid UTF-8", path=str(path), line=number) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"not valid JSON ({exc.msg})", path=str(path), line=number
                ) from None
            if not isinstance(record, dict):
                raise DataError("expected a JSON object per line", path=str(path), line=number)
            yield number, record


def _read_delimited(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if reader.fieldnames is None:
            return
        for record in reader:
            yield reader.line_num, dict(record)


def read_labelled(
    path: Path,
    *,
    label_map: dict[str, str | None] | None = None,
    allowed: set[str] | None = None,
    weight: float = 1.0,
    text_field: str = "text",
    label_field: str = "label",
) -> list[Example]:
    """Read ``{"text", "label"}`` rows; map labels (``None`` drops the row); check them."""
    examples = []
    for number, record in read_records(path):
        text = record.get(text_field)
        label = record.get(label_field)
        if not isinstance(text, str) or not text.strip():
            raise DataError(
                f"'{text_field}' must be a non-empty string", path=str(path), line=number
            )
        if label is None and label_map is not None:
            continue
        if not isinstance(label, str | int) or isinstance(label, bool):
            raise DataError(
                f"'{label_field}' must be a string, got {label!r}", path=str(path), line=number
            )
        label = str(label).strip().lower()
        if label_map is not None:
            if label not in label_map:
                continue
            mapped = label_map[label]
            if mapped is None:
                continue
            label = mapped
        if allowed is not None and label not in allowed:
            expected = ", ".join(sorted(allowed))
            raise DataError(
                f"unknown label {label!r}; expected one of: {expected}", path=str(path), line=number
            )
        examples.append(Example(text=text, label=label, weight=weight, source=str(path)))
    return examples
