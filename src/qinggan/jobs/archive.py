"""The message archive: one JSON object per line, checked, then stored per organisation.

Two shapes of a line are accepted. The flat one::

    {"msgid": "M1", "msgtype": "text", "content": "谢谢，问题解决了",
     "conversation_id": "c1", "sender": "zhangsan", "msgtime": 1700000000}

and WeCom's own session-archive shape (a decrypted ``chatdata`` message), where the content sits
in an object named after the type and the people in ``from`` / ``roomid``::

    {"msgid": "M1", "action": "send", "from": "zhangsan", "tolist": ["lisi"], "roomid": "",
     "msgtime": 1547087894783, "msgtype": "text", "text": {"content": "谢谢，问题解决了"}}

``msgid`` (at most 256 characters) and ``msgtype`` (at most 32) are required. What is analysed:

* ``text``: ``content`` or ``encrypted_content`` (see :mod:`qinggan.jobs.crypto`), exactly one of
  them, flat or inside ``"text": {...}``; a ``mixed`` message's text parts (``"mixed": {"item":
  [{"type": "text", "content": "{\\"content\\": ...}"}]}``) are analysed as one text message;
* ``voice`` and ``audio``, and WeCom's ``meeting_voice_call`` (its audio archive message, stored
  as ``audio``): the ``transcript`` (plaintext) or ``encrypted_transcript``, flat or inside the
  type's object; the archive itself carries no text for them, so without a transcript the message
  is stored and a task item asking for it fails with ``no_transcript``.

Optional: ``conversation_id`` (WeCom ``roomid``, when not empty) and ``sender`` (WeCom ``from``),
strings of at most 256 characters; ``msgtime`` (an integer that fits 64 bits). Other fields
(``tolist``, ``action``, ``seq`` ...) are ignored. Any other ``msgtype`` (``image``, ``link``,
``file``, ``emotion``, ``card``, ``revoke``, WeCom's ``switch`` action ...) is reported with its
line number as ``unsupported``, and its msgid is remembered, so that a task item asking for it
fails with ``unsupported_type`` rather than ``unknown_message``.

Every string is checked before anything is stored: a lone surrogate (``"\\ud800"``), a NUL
character or an over-long field makes that message ``bad``; it is reported with its line number
(or its index over HTTP) and skipped, and every good message is still imported. Importing a msgid
again replaces the stored message when anything changed and does nothing otherwise, so a
re-import of the same file is a no-op. Keys are never stored here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qinggan.jobs.crypto import decode_blob
from qinggan.jobs.model import MAX_MSGID_CHARS, MSGTYPES, SPOKEN

if TYPE_CHECKING:
    from qinggan.jobs.store import JobStore

CHUNK = 500
#: longest ``msgtype`` (the archive's column width)
MAX_MSGTYPE_CHARS = 32
#: longest ``conversation_id`` and ``sender`` (the archive's column widths)
MAX_NAME_CHARS = 256
#: ``msgtime`` is stored as a signed 64-bit integer
MSGTIME_RANGE = (-(2**63), 2**63 - 1)
#: WeCom message types stored under one of ours
MSGTYPE_ALIASES: Mapping[str, str] = {"meeting_voice_call": "audio"}


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

    @property
    def stored(self) -> int:
        """Messages now in the archive from this import (new, updated or already there)."""
        return self.inserted + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad": self.bad,
            "problems": [p.to_dict() for p in self.problems],
        }


def check_string(value: str, name: str, max_chars: int | None = None) -> str:
    """``value`` when it can be stored as it is: no lone surrogate, no NUL, not too long."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadLine(f"{name} holds a lone surrogate at character {exc.start}") from None
    if "\x00" in value:
        raise BadLine(f"{name} holds a NUL character at character {value.index(chr(0))}")
    if max_chars is not None and len(value) > max_chars:
        raise BadLine(f"{name} is longer than {max_chars} characters ({len(value)})")
    return value


def _optional_str(
    obj: Mapping[str, Any], name: str, max_chars: int | None = None, *, label: str | None = None
) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLine(f"{label or name} must be a string, got {type(value).__name__}")
    return check_string(value, label or name, max_chars)


def _body(obj: Mapping[str, Any], msgtype: str, raw_type: str) -> Mapping[str, Any]:
    """Where the content fields are: WeCom's ``{"<type>": {...}}`` object, else the line itself."""
    nested = obj.get(raw_type)
    if isinstance(nested, dict):
        return nested
    if isinstance(nested, str) and msgtype == "text":  # "text": "..." read as the content
        return {"content": nested}
    if nested is not None and msgtype == "text":
        raise BadLine(f'{raw_type} must be an object such as {{"content": ...}}')
    return obj


def _one_of(
    places: Iterable[tuple[Mapping[str, Any], str]], plain: str, sealed: str, *, required: bool
) -> tuple[str | None, bytes | None]:
    text = stored = None
    for where, prefix in places:
        text = text if text is not None else _optional_str(where, plain, label=prefix + plain)
        stored = (
            stored if stored is not None else _optional_str(where, sealed, label=prefix + sealed)
        )
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


def _mixed_text(obj: Mapping[str, Any]) -> str:
    """The text parts of a WeCom ``mixed`` message, joined by newlines."""
    mixed = obj.get("mixed")
    items = mixed.get("item") if isinstance(mixed, dict) else None
    if not isinstance(items, list):
        raise BadLine('a mixed message needs "mixed": {"item": [...]}')
    parts = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type") != "text":
            continue
        content = item.get("content")
        if isinstance(content, str):
            try:  # WeCom puts a JSON string {"content": ...} here
                decoded = json.loads(content)
            except ValueError:
                decoded = content
            if isinstance(decoded, dict):
                decoded = decoded.get("content")
            content = decoded
        if not isinstance(content, str):
            raise BadLine(f"mixed.item[{index}].content holds no text")
        parts.append(check_string(content, f"mixed.item[{index}].content"))
    if not parts:
        raise BadLine("a mixed message without any text part")
    return "\n".join(parts)


def _msgtime(obj: Mapping[str, Any]) -> int | None:
    msgtime = obj.get("msgtime")
    if msgtime is None:
        return None
    if not isinstance(msgtime, int) or isinstance(msgtime, bool):
        raise BadLine("msgtime must be an integer")
    low, high = MSGTIME_RANGE
    if not low <= msgtime <= high:
        raise BadLine("msgtime does not fit in 64 bits")
    return msgtime


def parse_message(obj: Any) -> ArchiveMessage:
    """One archived message from a decoded JSON value (flat or WeCom's shape); raises
    :class:`BadLine` naming the field at fault."""
    if not isinstance(obj, dict):
        raise BadLine("expected a JSON object")
    msgid = obj.get("msgid")
    if not isinstance(msgid, str) or not msgid.strip():
        raise BadLine("msgid is missing or not a non-empty string")
    check_string(msgid, "msgid", MAX_MSGID_CHARS)
    raw_type = obj.get("msgtype")
    if raw_type is None and obj.get("action") == "switch":
        raw_type = "switch"  # WeCom's "user switched enterprise" record: nothing to analyse
    if not isinstance(raw_type, str) or not raw_type.strip():
        raise BadLine("msgtype is missing or not a string")
    check_string(raw_type, "msgtype", MAX_MSGTYPE_CHARS)
    msgtime = _msgtime(obj)
    conversation_id = _optional_str(obj, "conversation_id", MAX_NAME_CHARS)
    if conversation_id is None:
        conversation_id = _optional_str(obj, "roomid", MAX_NAME_CHARS) or None
    sender = _optional_str(obj, "sender", MAX_NAME_CHARS)
    if sender is None:
        sender = _optional_str(obj, "from", MAX_NAME_CHARS)
    msgtype = raw_type.strip().lower()
    msgtype = MSGTYPE_ALIASES.get(msgtype, msgtype)
    text: str | None
    blob: bytes | None
    if msgtype == "text":
        body = _body(obj, msgtype, raw_type)
        prefix = "" if body is obj else f"{raw_type}."
        text, blob = _one_of([(body, prefix)], "content", "encrypted_content", required=True)
    elif msgtype == "mixed":
        msgtype, text, blob = "text", _mixed_text(obj), None
    elif msgtype in SPOKEN:
        body = _body(obj, msgtype, raw_type)
        places = [(obj, "")] if body is obj else [(obj, ""), (body, f"{raw_type}.")]
        text, blob = _one_of(places, "transcript", "encrypted_transcript", required=False)
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
