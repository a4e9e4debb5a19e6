"""Per-message encryption of archived content: AES-256-GCM from the ``cryptography`` package.

Stored form (``encrypted_content`` / ``encrypted_transcript`` in an archive line): base64 of
``nonce (12 bytes) || ciphertext || tag (16 bytes)``, no associated data. The key is the task
item's ``encrypt_info.secret_key``: 32 bytes written as 64 hex digits or as base64 (standard or
URL-safe alphabet, padding optional). A key that is malformed or fails the GCM tag is a wrong key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from qinggan.errors import QingganError

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


class WrongKey(QingganError):
    """The key is malformed or does not decrypt the message."""


class NotText(QingganError):
    """The message decrypted but is not UTF-8 text."""


def _aesgcm(key: bytes):  # type: ignore[no-untyped-def]
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise QingganError(
            "encrypted archive messages need the 'cryptography' package: pip install cryptography"
        ) from exc
    return AESGCM(key)


def parse_key(secret_key: str) -> bytes:
    """The 32 key bytes of ``secret_key`` (hex or base64); raises :class:`WrongKey`."""
    text = secret_key.strip()
    if _HEX_KEY.fullmatch(text):
        return bytes.fromhex(text)
    try:
        padded = text + "=" * (-len(text) % 4)
        altchars = b"-_" if ("-" in text or "_" in text) else None
        key = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise WrongKey("secret_key is neither 64 hex digits nor base64") from None
    if len(key) != KEY_BYTES:
        raise WrongKey(f"secret_key must hold {KEY_BYTES} bytes, it holds {len(key)}")
    return key


def new_key() -> str:
    """A fresh random key, base64."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def encrypt(secret_key: str, plaintext: str, *, nonce: bytes | None = None) -> str:
    """``plaintext`` encrypted under ``secret_key``, in the stored (base64) form."""
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"the nonce must be {NONCE_BYTES} bytes")
    sealed = _aesgcm(parse_key(secret_key)).encrypt(nonce, plaintext.encode("utf-8"), None)
    return base64.b64encode(nonce + sealed).decode("ascii")


def decode_blob(stored: str) -> bytes:
    """The raw bytes of a stored (base64) ciphertext; ValueError when it cannot be one."""
    try:
        blob = base64.b64decode(stored.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise ValueError(f"too short for nonce + tag ({len(blob)} bytes)")
    return blob


def decrypt(secret_key: str, blob: bytes) -> str:
    """The text sealed in ``blob`` (raw bytes); :class:`WrongKey` or :class:`NotText`."""
    from cryptography.exceptions import InvalidTag

    aesgcm = _aesgcm(parse_key(secret_key))
    try:
        plain = aesgcm.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
    except InvalidTag:
        raise WrongKey("the GCM tag does not match: wrong key or altered content") from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("the decrypted content is not UTF-8 text") from None
