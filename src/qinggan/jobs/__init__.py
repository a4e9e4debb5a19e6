"""Batch sentiment jobs over archived chat messages (the WeCom door's engine room).

Layout
------
``model``    statuses with their allowed transitions, per-item problems, values, errors and
             every default (:class:`JobSettings`, ``QINGGAN_JOBS_*``).
``crypto``   AES-256-GCM of archived content (``cryptography``); keys are never stored.
``archive``  the JSONL message archive: checking lines, importing them per organisation.
``store``    :class:`JobStore`: every SQL statement (archive, jobs, items, quotas, retention),
             ordered migrations; SQLite (WAL) or PostgreSQL.
``worker``   :class:`Worker` (claim with a lease, analyse, write results) and
             :class:`WorkerThread`.

Importing ``qinggan.jobs`` imports neither SQLAlchemy nor ``cryptography``; import the modules.
"""

from __future__ import annotations

from qinggan.jobs.model import (
    CreatedJob,
    InvalidTask,
    ItemProblem,
    ItemResult,
    ItemState,
    JobError,
    JobQuotaExceeded,
    JobSettings,
    JobStatus,
    JobSummary,
    JobView,
    TaskItem,
)

__all__ = [
    "CreatedJob",
    "InvalidTask",
    "ItemProblem",
    "ItemResult",
    "ItemState",
    "JobError",
    "JobQuotaExceeded",
    "JobSettings",
    "JobStatus",
    "JobSummary",
    "JobView",
    "TaskItem",
]
