"""The one exception tree of qinggan.

    QingganError
    ├── InputError        bad text handed to the engine (empty, too long, not a string, bad bytes)
    ├── DataError         a training or evaluation file that cannot be read (names file and line)
    ├── ModelError        a model directory that is missing, malformed or built for another version
    └── ConfigError       a setting or option with an impossible value

The core never raises HTTP errors; each door (CLI, service dialect) maps these to its own codes.
"""

from __future__ import annotations


class QingganError(Exception):
    """Base class of every error qinggan raises on purpose."""


class InputError(QingganError, ValueError):
    """A text handed to the engine is unusable."""


class DataError(QingganError):
    """A data file (training, evaluation) is malformed."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class ModelError(QingganError):
    """A model directory is missing, malformed or incompatible."""


class ConfigError(QingganError, ValueError):
    """A setting has an impossible value."""
