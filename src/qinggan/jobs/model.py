"""What the job system is made of: statuses with their allowed transitions, per-item problems,
the values the store hands out, the job errors, and every default in one place.

Job life cycle (a job is created ``running``; WeCom shows it as status 0 until it ends)::

    running ──► done      every item resolved, none by an internal failure
       └──────► failed    every item resolved, at least one gave up after ``max_attempts``

Item life cycle (``pending`` items, and ``leased`` items whose lease has run out, can be
claimed; the first result written wins, later writes change nothing)::

    pending ──► leased ──► done       a sentiment
       │          │ ▲
       │          └─┘ (lease ran out: claimed again, attempts + 1)
       │          └──► error          a per-item problem (wrong key, empty text, internal, ...)
       └─────────────► error          known at submission (unknown msgid, unsupported type,
                                      voice/audio without a transcript)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qinggan.errors import ConfigError, QingganError
from qinggan.labels import Polarity

# -- defaults (the documentation of every knob; QINGGAN_JOBS_<NAME> overrides) ----------------
#: most messages in one job (WeCom's limit)
MAX_MESSAGES = 1000
#: messages an organisation may submit per UTC day (WeCom's limit); 0 = unlimited
DAILY_QUOTA = 100_000
#: days a job and its results are kept after submission (WeCom keeps 7); then purged
RETENTION_DAYS = 7.0
#: seconds a worker owns the items it claimed; after that another worker may take them
LEASE_S = 30.0
#: items a worker claims (and analyses in one engine call) at a time
BATCH_SIZE = 256
#: seconds an idle worker waits before looking for work again
POLL_S = 0.5
#: claims of one item before it is given up as an internal failure (a poison message)
MAX_ATTEMPTS = 3
#: seconds between two retention purges run by a worker
PURGE_EVERY_S = 3600.0
#: longest msgid accepted
MAX_MSGID_CHARS = 256
#: message types the archive analyses; others are recorded as unsupported
MSGTYPES = ("text", "voice", "audio")
#: message types analysed through their transcript
SPOKEN = ("voice", "audio")


class JobStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    def can_become(self, other: JobStatus) -> bool:
        return other in JOB_TRANSITIONS[self]

    @classmethod
    def sources(cls, target: JobStatus) -> tuple[JobStatus, ...]:
        """The statuses allowed to move to ``target``."""
        return tuple(s for s in cls if target in JOB_TRANSITIONS[s])

    @property
    def finished(self) -> bool:
        return not JOB_TRANSITIONS[self]


JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = {
    JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.FAILED}),
    JobStatus.DONE: frozenset(),
    JobStatus.FAILED: frozenset(),
}


class ItemState(StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    ERROR = "error"

    def can_become(self, other: ItemState) -> bool:
        return other in ITEM_TRANSITIONS[self]

    @classmethod
    def sources(cls, target: ItemState) -> tuple[ItemState, ...]:
        return tuple(s for s in cls if target in ITEM_TRANSITIONS[s])

    @property
    def open(self) -> bool:
        return bool(ITEM_TRANSITIONS[self])


ITEM_TRANSITIONS: Mapping[ItemState, frozenset[ItemState]] = {
    ItemState.PENDING: frozenset({ItemState.LEASED, ItemState.ERROR}),
    ItemState.LEASED: frozenset({ItemState.LEASED, ItemState.DONE, ItemState.ERROR}),
    ItemState.DONE: frozenset(),
    ItemState.ERROR: frozenset(),
}


class ItemProblem(StrEnum):
    """Why one message of a job has no sentiment (each door maps these to its own codes)."""

    UNKNOWN_MESSAGE = "unknown_message"
    WRONG_KEY = "wrong_key"
    UNSUPPORTED_TYPE = "unsupported_type"
    NO_TRANSCRIPT = "no_transcript"
    UNUSABLE_CONTENT = "unusable_content"
    INTERNAL = "internal"


PROBLEM_MESSAGES: Mapping[ItemProblem, str] = {
    ItemProblem.UNKNOWN_MESSAGE: "message not found in the archive",
    ItemProblem.WRONG_KEY: "secret_key does not decrypt this message",
    ItemProblem.UNSUPPORTED_TYPE: "message type is not analysed (text, voice, audio only)",
    ItemProblem.NO_TRANSCRIPT: "voice or audio message without a transcript",
    ItemProblem.UNUSABLE_CONTENT: "message text is empty or cannot be analysed",
    ItemProblem.INTERNAL: "analysis failed repeatedly; submit the message again",
}


# -- errors -----------------------------------------------------------------------------------
class JobError(QingganError):
    """A job request the job system refuses."""


class InvalidTask(JobError, ValueError):
    """A task that cannot be accepted: empty, too many messages, a malformed item."""


class JobQuotaExceeded(JobError):
    """The organisation's daily message quota would be exceeded; nothing was counted."""

    def __init__(self, org: str, quota: int, used: int, wanted: int) -> None:
        super().__init__(
            f"the daily quota of {quota} messages is used up for {org!r} "
            f"({used} used today, this job needs {wanted})"
        )
        self.org, self.quota, self.used, self.wanted = org, quota, used, wanted


# -- values -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TaskItem:
    """One submitted message: its msgid and the key of its archived content (never logged)."""

    msgid: str
    secret_key: str = ""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One message of a job: its sentiment once known, or why there is none (or neither yet)."""

    msgid: str
    sentiment: Polarity | None = None
    confidence: float | None = None
    problem: ItemProblem | None = None

    @property
    def resolved(self) -> bool:
        return self.sentiment is not None or self.problem is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"msgid": self.msgid}
        if self.sentiment is not None:
            out["sentiment"] = self.sentiment.value
            out["confidence"] = None if self.confidence is None else round(self.confidence, 6)
        if self.problem is not None:
            out["problem"] = self.problem.value
            out["message"] = PROBLEM_MESSAGES[self.problem]
        return out


@dataclass(frozen=True, slots=True)
class JobSummary:
    jobid: str
    org: str
    status: JobStatus
    total: int
    resolved: int
    created_at: float
    finished_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def missing_hint(org: str) -> str:
    """What to do when none of a job's messages is in ``org``'s archive (the usual cause: they
    were imported under another organisation)."""
    return (
        f"no message of this job is in the archive of {org!r}; import them with "
        f"`qinggan archive import FILE --app {org}` (or POST /api/v1/archive/import as that app)"
    )


@dataclass(frozen=True, slots=True)
class JobView:
    """A job with every submitted message, in submission order."""

    summary: JobSummary
    items: tuple[ItemResult, ...]

    @property
    def status(self) -> JobStatus:
        return self.summary.status

    @property
    def hint(self) -> str | None:
        """How to fix a job none of whose messages is in the archive; None otherwise."""
        if self.items and all(i.problem is ItemProblem.UNKNOWN_MESSAGE for i in self.items):
            return missing_hint(self.summary.org)
        return None

    def to_dict(self) -> dict[str, Any]:
        out = {**self.summary.to_dict(), "items": [item.to_dict() for item in self.items]}
        hint = self.hint
        if hint is not None:
            out["hint"] = hint
        return out


@dataclass(frozen=True, slots=True)
class CreatedJob:
    jobid: str
    total: int
    #: items resolved at submission (unknown msgid, unsupported type, no transcript)
    resolved: int
    quota_used: int


@dataclass(frozen=True, slots=True)
class PurgeReport:
    jobs: int
    items: int


# -- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JobSettings:
    """Knobs of the job system; :meth:`from_env` reads ``QINGGAN_JOBS_<FIELD>``."""

    daily_quota: int = DAILY_QUOTA
    retention_days: float = RETENTION_DAYS
    lease_s: float = LEASE_S
    batch_size: int = BATCH_SIZE
    poll_s: float = POLL_S
    max_attempts: int = MAX_ATTEMPTS
    purge_every_s: float = PURGE_EVERY_S
    #: ``qinggan serve`` runs a worker thread in each server process
    in_process_worker: bool = True

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_attempts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{env_name(name)}={getattr(self, name)!r}: must be at least 1")
        for name in ("retention_days", "lease_s", "poll_s", "purge_every_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{env_name(name)}={getattr(self, name)!r}: must be positive")
        if self.daily_quota < 0:
            raise ConfigError(f"{env_name('daily_quota')}={self.daily_quota!r}: must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> JobSettings:
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            key = env_name(field.name)
            if key not in environ:
                continue
            raw = environ[key].strip()
            try:
                if field.type == "bool":
                    if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(raw)
                    values[field.name] = raw.lower() in ("1", "true", "yes", "on")
                elif field.type == "int":
                    values[field.name] = int(raw)
                else:
                    values[field.name] = float(raw)
            except ValueError:
                raise ConfigError(f"{key}={raw!r}: expected a {field.type}") from None
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> JobSettings:
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        return {
            env_name(f.name): str(int(v) if isinstance(v, bool) else v)
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }


def env_name(field: str) -> str:
    return "QINGGAN_JOBS_" + field.upper()
