"""The message archive: one JSON object per line, checked, then stored per organisation.

A line::

    {"msgid": "M1", "msgtype": "text", "content": "谢谢，问题解决了",
     "conversation_id": "c1", "sender": "zhangsan", "msgtime": 1700000000}

``msgid`` (string, at most 256 characters) and ``msgtype`` are required. What is analysed:

* ``text``: ``content`` (plaintext) or ``encrypted_content`` (see :mod:`qinggan.jobs.crypto`),
  exactly one of them;
* ``voice`` / ``audio``: the ``transcript`` (plaintext) or ``encrypted_transcript``; without
  either the message is stored, and a task item asking for it fails with ``no_transcript``.

Optional: ``conversation_id``, ``sender`` (strings), ``msgtime`` (integer). Other fields are
ignored. A line with any other ``msgtype`` is rejected (reported with its line number) but its
msgid is remembered, so that a task item asking for it fails with ``unsupported_type`` rather than
``unknown_message``. A malformed line is reported with its line number and skipped; every other
line is imported. Importing a msgid again replaces the stored message when anything changed and
does nothing otherwise, so a re-import of the same file is a no-op. Keys are never stored here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qinggan.jobs.crypto import decode_blob
from qinggan.jobs.model import MAX_MSGID_CHARS, MSGTYPES, SPOKEN

if TYPE_CHECKING:
    from qinggan.jobs.store import JobStore

CHUNK = 500


@dataclass(frozen=True, slots=True)
class ArchiveMessage:
    msgid: str
    msgtype: str
    #: the plaintext to analyse (content, or a transcript), if stored in plaintext
    text: str | None = None
    #: nonce + ciphertext + tag of the text to analyse, if stored encrypted
    encrypted: bytes | None = None
    conversation_id: str | None = None
    sender: str | None = None
    msgtime: int | None = None

    @property
    def supported(self) -> bool:
        return self.msgtype in MSGTYPES


class BadLine(ValueError):
    """A line that cannot be an archived message (the message says why)."""


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    message: str
    #: ``bad`` (skipped) or ``unsupported`` (msgid recorded, never analysed)
    kind: str = "bad"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "kind": self.kind, "error": self.message}


@dataclass(slots=True)
class ImportReport:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return sum(1 for p in self.problems if p.kind == "bad")

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad": self.bad,
            "problems": [p.to_dict() for p in self.problems],
        }


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLine(f"{name} must be a string, got {type(value).__name__}")
    return value


def _one_of(obj: dict[str, Any], plain: str, sealed: str, *, required: bool) -> tuple[Any, Any]:
    text, stored = _optional_str(obj, plain), _optional_str(obj, sealed)
    if text is not None and stored is not None:
        raise BadLine(f"give {plain} or {sealed}, not both")
    if required and text is None and stored is None:
        raise BadLine(f"a text message needs {plain} or {sealed}")
    blob = None
    if stored is not None:
        try:
            blob = decode_blob(stored)
        except ValueError as exc:
            raise BadLine(f"{sealed} is not base64 of nonce + ciphertext + tag: {exc}") from None
    return text, blob


def parse_message(obj: Any) -> ArchiveMessage:
    """One archived message from a decoded JSON value; raises :class:`BadLine`."""
    if not isinstance(obj, dict):
        raise BadLine("expected a JSON object")
    msgid = obj.get("msgid")
    if not isinstance(msgid, str) or not msgid.strip():
        raise BadLine("msgid is missing or not a non-empty string")
    if len(msgid) > MAX_MSGID_CHARS:
        raise BadLine(f"msgid is longer than {MAX_MSGID_CHARS} characters")
    msgtype = obj.get("msgtype")
    if not isinstance(msgtype, str) or not msgtype.strip():
        raise BadLine("msgtype is missing or not a string")
    msgtime = obj.get("msgtime")
    if msgtime is not None and (not isinstance(msgtime, int) or isinstance(msgtime, bool)):
        raise BadLine("msgtime must be an integer")
    conversation_id = _optional_str(obj, "conversation_id")
    sender = _optional_str(obj, "sender")
    msgtype = msgtype.strip().lower()
    if msgtype == "text":
        text, blob = _one_of(obj, "content", "encrypted_content", required=True)
    elif msgtype in SPOKEN:
        text, blob = _one_of(obj, "transcript", "encrypted_transcript", required=False)
    else:
        text, blob = None, None
    return ArchiveMessage(msgid, msgtype, text, blob, conversation_id, sender, msgtime)


def read_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, ArchiveMessage | BadLine]]:
    """``(line number, message or the reason it is bad)`` for every non-blank line."""
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            yield number, BadLine("not UTF-8")
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            yield number, BadLine("not a JSON object")
            continue
        try:
            yield number, parse_message(obj)
        except BadLine as exc:
            yield number, exc


def import_records(
    store: JobStore, org: str, records: Iterable[tuple[int, ArchiveMessage | BadLine]]
) -> ImportReport:
    """Store every good record (numbered lines or indexes) in chunks; report the rest."""
    report = ImportReport()
    chunk: dict[str, ArchiveMessage] = {}

    def flush() -> None:
        inserted, updated, unchanged = store.import_messages(org, list(chunk.values()))
        report.inserted += inserted
        report.updated += updated
        report.unchanged += unchanged
        chunk.clear()

    for number, record in records:
        report.read += 1
        if isinstance(record, BadLine):
            report.problems.append(LineProblem(number, str(record)))
            continue
        if not record.supported:
            report.problems.append(
                LineProblem(
                    number,
                    f"msgtype {record.msgtype!r} is not analysed (expected one of "
                    f"{', '.join(MSGTYPES)}); msgid recorded as unsupported",
                    kind="unsupported",
                )
            )
        if record.msgid in chunk:  # a later line for the same msgid wins
            flush()
        chunk[record.msgid] = record
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return report


def import_lines(store: JobStore, org: str, lines: Iterable[bytes | str]) -> ImportReport:
    return import_records(store, org, read_lines(lines))


def import_file(store: JobStore, org: str, path: str | Path) -> ImportReport:
    """Import a JSONL file of archived messages into ``org``'s archive."""
    with Path(path).open("rb") as handle:
        return import_lines(store, org, handle)
