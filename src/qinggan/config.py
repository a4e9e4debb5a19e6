"""One typed settings object for the service and the commands that touch its database.

Every field is read from a ``QINGGAN_<FIELD>`` environment variable (``QINGGAN_DB_URL``,
``QINGGAN_PORT``, ...) by :meth:`Settings.from_env`, and a command-line flag overrides it with
:meth:`Settings.with_overrides`. The object is built once, at the edge, and passed in: nothing
deeper reads ``os.environ``.

Defaults (the table is the documentation):

===================  ==========================  ===============================================
field                default                     meaning
===================  ==========================  ===============================================
db_url               ``sqlite:///qinggan.db``    apps, quotas (and jobs) database: a SQLite file
                                                 ``qinggan.db`` in the current directory, or a
                                                 ``postgresql+psycopg://`` URL
host                 ``127.0.0.1``               address ``qinggan serve`` listens on
port                 ``8000``                    its port
workers              ``1``                       server processes (they share the database)
threads              ``2``                       inference threads per process
max_batch            ``100``                     most texts (or turns) in one native request
max_text_bytes       ``10000``                   longest native text, in UTF-8 bytes
max_body_bytes       ``1048576``                 largest request body; larger gets 413
timestamp_window_s   ``300``                     signed requests older or newer are refused
batch_wait_ms        ``0`` (off)                 micro-batching window of single-text polarity
                                                 requests, in ms (off by default: it did not
                                                 raise throughput on 2 cores with the linear
                                                 model; try 1-3 with a heavier model)
admin_key            none                        key of the native admin routes (off when unset)
log_level            ``info``                    ``debug``, ``info``, ``warning`` or ``error``
polarity_model       none (the shipped model)    a model directory to serve instead
emotion_model        none (the shipped model)    idem, customer-service emotions
talk_model           none (the shipped model)    idem, chit-chat dialogue emotions
===================  ==========================  ===============================================

A value that cannot be read raises :class:`~qinggan.errors.ConfigError` naming the variable and
the value, e.g. ``QINGGAN_PORT='eighty': expected an integer``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qinggan.errors import ConfigError

ENV_PREFIX = "QINGGAN_"
DEFAULT_DB_URL = "sqlite:///qinggan.db"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 2
    max_batch: int = 100
    max_text_bytes: int = 10_000
    max_body_bytes: int = 1 << 20
    timestamp_window_s: float = 300.0
    batch_wait_ms: float = 0.0
    admin_key: str | None = None
    log_level: str = "info"
    polarity_model: str | None = None
    emotion_model: str | None = None
    talk_model: str | None = None

    def __post_init__(self) -> None:
        for name in ("port", "workers", "threads", "max_batch", "max_text_bytes", "max_body_bytes"):
            value = getattr(self, name)
            if value < 1 or (name == "port" and value > 65535):
                raise ConfigError(f"{env_name(name)}={value!r}: out of range")
        for name in ("timestamp_window_s", "batch_wait_ms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{env_name(name)}={getattr(self, name)!r}: must not be negative")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"{env_name('log_level')}={self.log_level!r}: "
                f"expected one of {', '.join(LOG_LEVELS)}"
            )
        if not self.db_url:
            raise ConfigError(f"{env_name('db_url')}='': expected a database URL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``QINGGAN_*`` variables of ``environ`` (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            key = env_name(field.name)
            if key in env:
                cast = _FIELD_CASTS.get(field.name) or _CASTS[str(field.type)]
                values[field.name] = cast(key, env[key])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; ``None`` means "not given" and keeps the value."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **given)

    def to_env(self) -> dict[str, str]:
        """The ``QINGGAN_*`` variables that rebuild these settings (for worker processes)."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                out[env_name(field.name)] = str(value)
        return out


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _cast_int(key: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected an integer") from None


def _cast_float(key: str, raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{key}={raw!r}: expected a finite number")
    return value


def _cast_str(key: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ConfigError(f"{key}={raw!r}: expected a non-empty value")
    return value


def _cast_optional_str(key: str, raw: str) -> str | None:
    return raw.strip() or None


def _cast_level(key: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in LOG_LEVELS:
        raise ConfigError(f"{key}={raw!r}: expected one of {', '.join(LOG_LEVELS)}")
    return value


_CASTS: dict[str, Callable[[str, str], Any]] = {
    "int": _cast_int,
    "float": _cast_float,
    "str": _cast_str,
    "str | None": _cast_optional_str,
}

_FIELD_CASTS: dict[str, Callable[[str, str], Any]] = {"log_level": _cast_level}
