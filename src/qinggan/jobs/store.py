"""The job store: every SQL statement of the archive, jobs, items, quotas and retention
(SQLAlchemy Core; the same code on SQLite and PostgreSQL).

SQLite (a file, WAL mode) is the default; PostgreSQL by a ``postgresql+psycopg://`` URL
(``postgresql://`` is read as that). Migrations are ordered and named (``jobs_0001_...``) and
recorded in the ``qinggan_migrations`` table the app store also uses (its names start with
``service_``; each runner applies only its own, under the same PostgreSQL advisory lock).

Concurrency
-----------
* Submission: one transaction adds the job's distinct messages to today's (UTC) counter of the
  organisation only while it stays within the quota (``INSERT .. ON CONFLICT DO UPDATE .. WHERE``),
  then inserts the job and its items; a refusal or any error rolls everything back, so nothing is
  half-counted.
* Claims: one ``UPDATE .. WHERE id IN (SELECT .. WHERE open AND lease ran out ORDER BY id LIMIT n
  FOR UPDATE SKIP LOCKED) RETURNING`` moves items to ``leased`` with a lease and attempts + 1. On
  SQLite the transaction is ``BEGIN IMMEDIATE`` (one writer at a time), so the same statement is
  an atomic claim.
* Results: ``UPDATE .. WHERE id = :id AND open``: the first result of an item wins and a late
  duplicate (a worker whose lease ran out) changes nothing. The job rows are locked first
  (``SELECT .. FOR UPDATE``, in jobid order), so the worker writing a job's last item sees every
  other result and marks the job finished; locks are always taken jobs first, then items.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from qinggan.database import (
    Migration,
    applied_migrations,
    make_engine,
    migrate,
    normalize_url,
    reading,
    writing,
)
from qinggan.jobs.archive import ArchiveMessage
from qinggan.jobs.model import (
    MAX_MESSAGES,
    SPOKEN,
    CreatedJob,
    InvalidTask,
    ItemProblem,
    ItemResult,
    ItemState,
    JobQuotaExceeded,
    JobSettings,
    JobStatus,
    JobSummary,
    JobView,
    PurgeReport,
    TaskItem,
)
from qinggan.labels import Polarity

metadata = MetaData()
_Id = BigInteger().with_variant(Integer, "sqlite")  # an INTEGER PRIMARY KEY is SQLite's rowid

archive_table = Table(
    "archive_messages",
    metadata,
    Column("org", String(64), nullable=False),
    Column("msgid", String(256), nullable=False),
    Column("msgtype", String(32), nullable=False),
    Column("text", Text, nullable=True),
    Column("encrypted", LargeBinary, nullable=True),
    Column("conversation_id", String(256), nullable=True),
    Column("sender", String(256), nullable=True),
    Column("msgtime", BigInteger, nullable=True),
    Column("imported_at", Float, nullable=False),
    PrimaryKeyConstraint("org", "msgid"),
)
jobs_table = Table(
    "jobs",
    metadata,
    Column("jobid", String(64), primary_key=True),
    Column("org", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Index("ix_jobs_org_created", "org", "created_at"),
    Index("ix_jobs_created", "created_at"),
)
items_table = Table(
    "job_items",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("jobid", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("msgid", String(256), nullable=False),
    #: held only while the item is open and only for encrypted messages; erased with the result
    Column("secret_key", String(256), nullable=True),
    Column("open", SmallInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sentiment", String(16), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("problem", String(32), nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", Float, nullable=True),
    UniqueConstraint("jobid", "seq", name="uq_job_items_job_seq"),
    Index("ix_job_items_open_id", "open", "id"),
)
quota_table = Table(
    "job_quota",
    metadata,
    Column("org", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("messages", BigInteger, nullable=False),
    PrimaryKeyConstraint("org", "day"),
)


def _create_jobs(conn: Connection) -> None:
    for table in (archive_table, jobs_table, items_table, quota_table):
        table.create(conn)


#: ordered, named, never edited once released: append new ones at the end
MIGRATIONS: tuple[Migration, ...] = (("jobs_0001_archive_jobs_items_quota", _create_jobs),)
_PARAMS = 900  # rows per IN (...) list, well under every driver's limit


def _chunks(values: Sequence[Any], size: int = _PARAMS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True, slots=True)
class Claimed:
    """One leased item with what the worker needs to analyse it (the key only in memory)."""

    id: int
    jobid: str
    msgid: str
    secret_key: str | None
    msgtype: str | None
    text: str | None
    encrypted: bytes | None


@dataclass(frozen=True, slots=True)
class OrgActivity:
    """What one organisation did with jobs: messages submitted today, jobs kept, jobs running."""

    messages_today: int
    jobs: int
    running: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one item: a sentiment or a problem."""

    id: int
    sentiment: Polarity | None = None
    confidence: float | None = None
    problem: ItemProblem | None = None


class JobStore:
    """Archive, jobs and quotas in one database. Thread-safe; open once per process.

    ``clock`` gives the time in seconds since the epoch (tests inject one)."""

    def __init__(
        self,
        url: str,
        *,
        settings: JobSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, pool_size=5, max_overflow=10)
        self.backend = self.engine.dialect.name
        self.settings = settings if settings is not None else JobSettings()
        self.clock = clock
        self._insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert

    @classmethod
    def open(
        cls,
        url: str,
        *,
        settings: JobSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> JobStore:
        store = cls(url, settings=settings, clock=clock)
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def _write(self) -> AbstractContextManager[Connection]:
        return writing(self.engine)

    def _read(self) -> AbstractContextManager[Connection]:
        return reading(self.engine)

    # -- migrations ----------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the missing job migrations in order; the names applied now."""
        return migrate(self.engine, MIGRATIONS)

    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.engine, "jobs_")

    # -- archive -------------------------------------------------------------------------------
    def import_messages(self, org: str, messages: Sequence[ArchiveMessage]) -> tuple[int, int, int]:
        """Insert new msgids, replace changed ones; ``(inserted, updated, unchanged)``. Raises
        :class:`ValueError` (before writing anything) for a message the tables cannot hold:
        :func:`qinggan.jobs.archive.parse_message` reports those per line first."""
        for message in messages:
            problem = unstorable(message)
            if problem is not None:
                raise ValueError(f"message {message.msgid!r}: {problem}")
        a = archive_table
        fields = ("msgtype", "text", "encrypted", "conversation_id", "sender", "msgtime")
        now = self.clock()
        inserted = updated = unchanged = 0
        with self._write() as conn:
            for chunk in _chunks(list(messages)):
                rows = conn.execute(
                    select(a.c.msgid, *(a.c[f] for f in fields)).where(
                        a.c.org == org, a.c.msgid.in_([m.msgid for m in chunk])
                    )
                )
                stored = {row.msgid: tuple(row)[1:] for row in rows}
                new, changed = [], []
                for m in chunk:
                    values = {f: getattr(m, f) for f in fields}
                    old = stored.get(m.msgid)
                    if old is None:
                        new.append({"org": org, "msgid": m.msgid, "imported_at": now, **values})
                    elif tuple(bytes(v) if isinstance(v, memoryview) else v for v in old) != tuple(
                        values.values()
                    ):
                        changed.append({"b_msgid": m.msgid, "imported_at": now, **values})
                    else:
                        unchanged += 1
                if new:
                    stmt = self._insert(a).on_conflict_do_nothing(
                        index_elements=[a.c.org, a.c.msgid]
                    )
                    conn.execute(stmt, new)
                    inserted += len(new)
                if changed:
                    replace = update(a).where(a.c.org == org, a.c.msgid == bindparam("b_msgid"))
                    conn.execute(replace, changed)
                    updated += len(changed)
        return inserted, updated, unchanged

    def archived(self, org: str, msgid: str) -> ArchiveMessage | None:
        a = archive_table
        with self._read() as conn:
            row = conn.execute(select(a).where(a.c.org == org, a.c.msgid == msgid)).first()
        if row is None:
            return None
        return ArchiveMessage(
            row.msgid,
            row.msgtype,
            row.text,
            None if row.encrypted is None else bytes(row.encrypted),
            row.conversation_id,
            row.sender,
            row.msgtime,
        )

    # -- submission ----------------------------------------------------------------------------
    def _day(self, now: float) -> str:
        return datetime.fromtimestamp(now, UTC).date().isoformat()

    def create_job(self, org: str, items: Sequence[TaskItem]) -> CreatedJob:
        """A new job over distinct msgids (1 to 1000), counted toward ``org``'s daily quota in
        the same transaction; raises :class:`InvalidTask` or :class:`JobQuotaExceeded`."""
        if not items:
            raise InvalidTask("a job needs at least one message")
        if len(items) > MAX_MESSAGES:
            raise InvalidTask(f"a job holds at most {MAX_MESSAGES} messages, got {len(items)}")
        if len({item.msgid for item in items}) != len(items):
            raise InvalidTask("the msgids of a job must be distinct (drop the repeats first)")
        for index, item in enumerate(items):
            for name, value in (("msgid", item.msgid), ("secret_key", item.secret_key)):
                problem = _string_problem(value or "", _width(items_table.c[name]))
                if problem is not None:
                    raise InvalidTask(f"messages[{index}].{name} {problem}")
        now = self.clock()
        # hex: a job id never starts with "-", so it is always safe as a command-line argument
        jobid = secrets.token_hex(16)
        a, i = archive_table, items_table
        with self._write() as conn:
            used = self._count(conn, org, self._day(now), len(items))
            found: dict[str, Any] = {}
            for chunk in _chunks([item.msgid for item in items]):
                rows = conn.execute(
                    select(
                        a.c.msgid,
                        a.c.msgtype,
                        a.c.text.is_(None).label("no_text"),
                        a.c.encrypted.is_not(None).label("sealed"),
                    ).where(a.c.org == org, a.c.msgid.in_(chunk))
                )
                found.update((row.msgid, row) for row in rows)
            rows_out, resolved = [], 0
            for seq, item in enumerate(items):
                problem = _known_problem(found.get(item.msgid))
                sealed = problem is None and bool(found[item.msgid].sealed)
                resolved += problem is not None
                rows_out.append(
                    {
                        "jobid": jobid,
                        "seq": seq,
                        "msgid": item.msgid,
                        "secret_key": item.secret_key if sealed else None,
                        "open": 0 if problem else 1,
                        "state": (ItemState.ERROR if problem else ItemState.PENDING).value,
                        "lease_until": 0.0,
                        "attempts": 0,
                        "problem": problem.value if problem else None,
                        "resolved_at": now if problem else None,
                    }
                )
            finished = resolved == len(items)
            conn.execute(
                jobs_table.insert().values(
                    jobid=jobid,
                    org=org,
                    status=(JobStatus.DONE if finished else JobStatus.RUNNING).value,
                    total=len(items),
                    created_at=now,
                    finished_at=now if finished else None,
                )
            )
            conn.execute(i.insert(), rows_out)
        return CreatedJob(jobid=jobid, total=len(items), resolved=resolved, quota_used=used)

    def _count(self, conn: Connection, org: str, day: str, messages: int) -> int:
        quota = self.settings.daily_quota or None
        q = quota_table
        if quota is not None and messages > quota:
            raise JobQuotaExceeded(org, quota, self._used(conn, org, day), messages)
        stmt = (
            self._insert(q)
            .values(org=org, day=day, messages=messages)
            .on_conflict_do_update(
                index_elements=[q.c.org, q.c.day],
                set_={"messages": q.c.messages + messages},
                where=(q.c.messages + messages <= quota) if quota is not None else None,
            )
            .returning(q.c.messages)
        )
        got = conn.execute(stmt).first()
        if got is None:
            assert quota is not None
            raise JobQuotaExceeded(org, quota, self._used(conn, org, day), messages)
        return int(got[0])

    def _used(self, conn: Connection, org: str, day: str) -> int:
        q = quota_table
        got = conn.execute(select(q.c.messages).where(q.c.org == org, q.c.day == day)).scalar()
        return int(got or 0)

    def quota_used(self, org: str, *, now: float | None = None) -> int:
        """Messages ``org`` submitted today (UTC)."""
        with self._read() as conn:
            return self._used(conn, org, self._day(self.clock() if now is None else now))

    # -- workers -------------------------------------------------------------------------------
    def claim(self, worker: str, limit: int | None = None) -> list[Claimed]:
        """Lease up to ``limit`` open items whose lease ran out (or that never had one)."""
        limit = limit or self.settings.batch_size
        self._give_up_poison()
        now = self.clock()
        i, j, a = items_table, jobs_table, archive_table
        claimable = (
            select(i.c.id)
            .where(i.c.open == 1, i.c.lease_until <= now)
            .order_by(i.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._write() as conn:
            ids = list(
                conn.execute(
                    update(i)
                    .where(i.c.id.in_(claimable))
                    .values(
                        state=ItemState.LEASED.value,
                        lease_owner=worker,
                        lease_until=now + self.settings.lease_s,
                        attempts=i.c.attempts + 1,
                    )
                    .returning(i.c.id)
                ).scalars()
            )
            if not ids:
                return []
            rows = conn.execute(
                select(
                    i.c.id,
                    i.c.jobid,
                    i.c.msgid,
                    i.c.secret_key,
                    a.c.msgtype,
                    a.c.text,
                    a.c.encrypted,
                )
                .select_from(
                    i.join(j, j.c.jobid == i.c.jobid).outerjoin(
                        a, and_(a.c.org == j.c.org, a.c.msgid == i.c.msgid)
                    )
                )
                .where(i.c.id.in_(ids))
                .order_by(i.c.id)
            ).all()
        return [
            Claimed(
                id=row.id,
                jobid=row.jobid,
                msgid=row.msgid,
                secret_key=row.secret_key,
                msgtype=row.msgtype,
                text=row.text,
                encrypted=None if row.encrypted is None else bytes(row.encrypted),
            )
            for row in rows
        ]

    def _give_up_poison(self) -> None:
        """Items claimed ``max_attempts`` times whose last lease ran out: internal failures."""
        now = self.clock()
        i = items_table
        where = (
            i.c.open == 1,
            i.c.lease_until <= now,
            i.c.attempts >= self.settings.max_attempts,
        )
        with self._read() as conn:
            jobids = sorted(set(conn.execute(select(i.c.jobid).where(*where)).scalars()))
        if not jobids:
            return
        with self._write() as conn:
            self._lock_jobs(conn, jobids)
            poison = select(i.c.id).where(*where).with_for_update(skip_locked=True)
            conn.execute(
                update(i)
                .where(i.c.id.in_(poison))
                .values(
                    open=0,
                    state=ItemState.ERROR.value,
                    problem=ItemProblem.INTERNAL.value,
                    secret_key=None,
                    lease_owner=None,
                    resolved_at=now,
                )
            )
            self._finish(conn, jobids, now)

    def complete(self, worker: str, outcomes: Sequence[Outcome], jobids: Iterable[str]) -> int:
        """Write results (the first one of an item wins); finish jobs with no open item left.
        Returns how many results were written now."""
        now = self.clock()
        i = items_table
        jobs = sorted(set(jobids))
        rows = [
            {
                "b_id": o.id,
                "b_state": (ItemState.ERROR if o.problem else ItemState.DONE).value,
                "b_sentiment": None if o.sentiment is None else o.sentiment.value,
                "b_confidence": o.confidence,
                "b_problem": None if o.problem is None else o.problem.value,
            }
            for o in sorted(outcomes, key=lambda o: o.id)
        ]
        written = 0
        with self._write() as conn:
            self._lock_jobs(conn, jobs)
            if rows:
                # which of them are still open (so the count is exact on every driver)
                open_ids: set[int] = set()
                for chunk in _chunks([r["b_id"] for r in rows]):
                    open_ids.update(
                        conn.execute(
                            select(i.c.id).where(i.c.id.in_(chunk), i.c.open == 1)
                        ).scalars()
                    )
                todo = [r for r in rows if r["b_id"] in open_ids]
                if todo:
                    stmt = (
                        update(i)
                        .where(i.c.id == bindparam("b_id"), i.c.open == 1)
                        .values(
                            open=0,
                            state=bindparam("b_state"),
                            sentiment=bindparam("b_sentiment"),
                            confidence=bindparam("b_confidence"),
                            problem=bindparam("b_problem"),
                            secret_key=None,
                            lease_owner=None,
                            resolved_by=worker,
                            resolved_at=now,
                        )
                    )
                    conn.execute(stmt, todo)
                    written = len(todo)
            self._finish(conn, jobs, now)
        return written

    def release(self, ids: Sequence[int]) -> None:
        """Give leased items back at once (a worker that failed to analyse them)."""
        i = items_table
        with self._write() as conn:
            for chunk in _chunks(list(ids)):
                conn.execute(
                    update(i)
                    .where(i.c.id.in_(chunk), i.c.open == 1)
                    .values(state=ItemState.PENDING.value, lease_owner=None, lease_until=0.0)
                )

    def _lock_jobs(self, conn: Connection, jobids: Sequence[str]) -> None:
        if jobids and self.backend == "postgresql":
            j = jobs_table
            conn.execute(
                select(j.c.jobid).where(j.c.jobid.in_(jobids)).order_by(j.c.jobid).with_for_update()
            ).all()

    def _finish(self, conn: Connection, jobids: Sequence[str], now: float) -> None:
        j, i = jobs_table, items_table
        for jobid in jobids:
            still_open = exists().where(i.c.jobid == jobid, i.c.open == 1)
            gave_up = exists().where(i.c.jobid == jobid, i.c.problem == ItemProblem.INTERNAL.value)
            conn.execute(
                update(j)
                .where(
                    j.c.jobid == jobid,
                    j.c.status.in_([s.value for s in JobStatus.sources(JobStatus.DONE)]),
                    ~still_open,
                )
                .values(
                    status=case((gave_up, JobStatus.FAILED.value), else_=JobStatus.DONE.value),
                    finished_at=now,
                )
            )

    # -- reading -------------------------------------------------------------------------------
    def _summaries(self, conn: Connection, where: Any, limit: int | None = None) -> list[Any]:
        j, i = jobs_table, items_table
        resolved = (
            select(func.count())
            .where(i.c.jobid == j.c.jobid, i.c.open == 0)
            .scalar_subquery()
            .label("resolved")
        )
        stmt = select(j, resolved).where(where).order_by(j.c.created_at.desc(), j.c.jobid)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [
            JobSummary(
                jobid=row.jobid,
                org=row.org,
                status=JobStatus(row.status),
                total=row.total,
                resolved=int(row.resolved),
                created_at=row.created_at,
                finished_at=row.finished_at,
            )
            for row in conn.execute(stmt)
        ]

    def summary(self, jobid: str, *, org: str | None = None) -> JobSummary | None:
        if not _job_id(jobid):
            return None
        j = jobs_table
        where = j.c.jobid == jobid if org is None else and_(j.c.jobid == jobid, j.c.org == org)
        with self._read() as conn:
            found = self._summaries(conn, where)
        return found[0] if found else None

    def get_job(self, jobid: str, *, org: str | None = None) -> JobView | None:
        """The job with every submitted message in order, or None (also for another org's)."""
        if not _job_id(jobid):
            return None
        j, i = jobs_table, items_table
        where = j.c.jobid == jobid if org is None else and_(j.c.jobid == jobid, j.c.org == org)
        with self._read() as conn:
            found = self._summaries(conn, where)
            if not found:
                return None
            rows = conn.execute(
                select(i.c.msgid, i.c.sentiment, i.c.confidence, i.c.problem)
                .where(i.c.jobid == jobid)
                .order_by(i.c.seq)
            ).all()
        items = tuple(
            ItemResult(
                msgid=row.msgid,
                sentiment=None if row.sentiment is None else Polarity(row.sentiment),
                confidence=row.confidence,
                problem=None if row.problem is None else ItemProblem(row.problem),
            )
            for row in rows
        )
        return JobView(found[0], items)

    def list_jobs(self, *, org: str | None = None, limit: int = 50) -> list[JobSummary]:
        j = jobs_table
        where = j.c.org == org if org is not None else j.c.jobid.is_not(None)
        with self._read() as conn:
            return self._summaries(conn, where, limit)

    def activity(self, *, now: float | None = None) -> dict[str, OrgActivity]:
        """Per organisation: messages submitted today (UTC), jobs kept and jobs still running
        (organisations with neither are absent)."""
        j, q = jobs_table, quota_table
        day = self._day(self.clock() if now is None else now)
        out: dict[str, OrgActivity] = {}
        with self._read() as conn:
            running = func.sum(case((j.c.status == JobStatus.RUNNING.value, 1), else_=0))
            for row in conn.execute(
                select(j.c.org, func.count().label("jobs"), running.label("running")).group_by(
                    j.c.org
                )
            ):
                out[row.org] = OrgActivity(0, int(row.jobs), int(row.running or 0))
            for row in conn.execute(select(q.c.org, q.c.messages).where(q.c.day == day)):
                known = out.get(row.org, OrgActivity(0, 0, 0))
                out[row.org] = dataclasses.replace(known, messages_today=int(row.messages))
        return out

    def item_audit(self, jobid: str) -> list[dict[str, Any]]:
        """Per item: msgid, state, attempts, who resolved it (for tests and operators)."""
        i = items_table
        with self._read() as conn:
            rows = conn.execute(
                select(
                    i.c.msgid,
                    i.c.state,
                    i.c.attempts,
                    i.c.resolved_by,
                    i.c.secret_key.is_not(None).label("holds_key"),
                )
                .where(i.c.jobid == jobid)
                .order_by(i.c.seq)
            )
            return [dict(row._mapping) for row in rows]

    def open_items(self) -> int:
        with self._read() as conn:
            count = conn.execute(
                select(func.count()).select_from(items_table).where(items_table.c.open == 1)
            ).scalar()
        return int(count or 0)

    # -- retention -----------------------------------------------------------------------------
    def purge(self, *, now: float | None = None) -> PurgeReport:
        """Delete jobs (and their items) older than the retention, and old quota counters."""
        now = self.clock() if now is None else now
        cutoff = now - self.settings.retention_days * 86400
        j, i, q = jobs_table, items_table, quota_table
        jobs = items = 0
        with self._read() as conn:
            old = list(conn.execute(select(j.c.jobid).where(j.c.created_at < cutoff)).scalars())
        for chunk in _chunks(sorted(old), 200):
            with self._write() as conn:
                self._lock_jobs(conn, chunk)
                items += conn.execute(delete(i).where(i.c.jobid.in_(chunk))).rowcount or 0
                jobs += conn.execute(delete(j).where(j.c.jobid.in_(chunk))).rowcount or 0
        with self._write() as conn:
            conn.execute(delete(q).where(q.c.day < self._day(cutoff - 86400)))
        return PurgeReport(jobs=jobs, items=items)


#: what a BIGINT column holds on both stores
INT64 = (-(2**63), 2**63 - 1)


def _width(column: Any) -> int | None:
    """The declared length of a string column (None for TEXT)."""
    return getattr(column.type, "length", None)


def _string_problem(value: str, max_chars: int | None) -> str | None:
    """Why ``value`` cannot be stored in a column of ``max_chars`` on *both* stores, if it
    cannot: a NUL (PostgreSQL refuses it), an unpaired surrogate (not UTF-8), or too long
    (PostgreSQL enforces the width, SQLite would not: one limit for both)."""
    if "\x00" in value:
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds an unpaired surrogate"
    if max_chars is not None and len(value) > max_chars:
        return f"is longer than {max_chars} characters"
    return None


def unstorable(message: ArchiveMessage) -> str | None:
    """Why the archive table cannot hold ``message`` (the same answer on SQLite and
    PostgreSQL), or None when it can."""
    a = archive_table
    for name in ("msgid", "msgtype", "text", "conversation_id", "sender"):
        value = getattr(message, name)
        if value is not None:
            problem = _string_problem(value, _width(a.c[name]))
            if problem is not None:
                return f"{name} {problem}"
    if message.msgtime is not None and not INT64[0] <= message.msgtime <= INT64[1]:
        return "msgtime does not fit 64 bits"
    return None


def _job_id(jobid: str) -> bool:
    """Whether ``jobid`` could name a job (else no lookup: PostgreSQL refuses a NUL)."""
    return _string_problem(jobid, _width(jobs_table.c.jobid)) is None


def _known_problem(row: Any) -> ItemProblem | None:
    """What is wrong with a message before any key or text is looked at, if anything."""
    if row is None:
        return ItemProblem.UNKNOWN_MESSAGE
    if row.msgtype == "text":
        return None
    if row.msgtype in SPOKEN:
        return ItemProblem.NO_TRANSCRIPT if row.no_text and not row.sealed else None
    return ItemProblem.UNSUPPORTED_TYPE
