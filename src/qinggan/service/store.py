"""The app store: every SQL statement of apps, quotas and rate limits (SQLAlchemy Core).

The same code runs on SQLite (a file, WAL mode, the default) and on PostgreSQL
(``postgresql+psycopg://`` URL; ``postgresql://`` is read as that). Schema changes are ordered,
named migrations recorded in ``qinggan_migrations``; :meth:`AppStore.migrate` applies the missing
ones under a lock, so several server processes may start at once.

Counting is atomic across processes sharing one database. :meth:`AppStore.charge` runs one
short transaction (``BEGIN IMMEDIATE`` on SQLite; row locks of ``INSERT ... ON CONFLICT DO UPDATE
... WHERE`` on PostgreSQL) of three statements written once as driver SQL (no per-call statement
building: the charge costs some 30 µs of CPU on SQLite) that

1. reads the app (unknown or disabled: refused), so limits, disabling and removal take effect
   at once whatever the callers cache;
2. bumps the app's one-row per-second window only while it stays within ``rps``;
3. adds the calls to today's (UTC) counter only while it stays within ``daily_quota``;

and rolls everything back on a refusal, so a refused request costs nothing.

SQLite specifics (the hot path): the file is in WAL mode with ``synchronous=NORMAL`` (a commit
writes the WAL, no fsync; a power loss may lose the last few counts, never corrupt them). Each
process charges on one connection of its own, behind a mutex, so its threads hand over at once
instead of sleeping in SQLite's busy handler (1, 2, 5, ... 100 ms); while another process holds
the write lock it retries every 0.2-5 ms (for at most :data:`SQLITE_BUSY_TIMEOUT_S`). That
connection does not checkpoint on commit; :meth:`AppStore.charge` runs a passive checkpoint
every :data:`CHECKPOINT_EVERY` charges. :meth:`AppStore.try_charge_now` is the same charge for
the event loop: done at once when the mutex and the write lock are free and no checkpoint is
due, else ``None`` (then the caller runs :meth:`AppStore.charge` in a thread).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)

from qinggan.database import (
    Migration,
    applied_migrations,
    make_engine,
    migrate,
    normalize_url,
    reading,
    writing,
)
from qinggan.errors import ConfigError
from qinggan.service.apps import (
    DEFAULT_DAILY_QUOTA,
    DEFAULT_RPS,
    App,
    Charge,
    check_limit,
    new_app_id,
    new_secret,
    parse_dialects,
    parse_networks,
)
from qinggan.service.errors import AppDisabled, QuotaExceeded, RateLimited, UnknownApp

metadata = MetaData()

apps_table = Table(
    "apps",
    metadata,
    Column("app_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("dialects", String(200), nullable=False),
    Column("daily_quota", BigInteger, nullable=True),
    Column("rps", Integer, nullable=True),
    Column("allow_ips", Text, nullable=False, default=""),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
usage_table = Table(
    "app_usage",
    metadata,
    Column("app_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("calls", BigInteger, nullable=False),
    PrimaryKeyConstraint("app_id", "day"),
)
rate_table = Table(
    "app_rate",
    metadata,
    Column("app_id", String(64), primary_key=True),
    Column("second", BigInteger, nullable=False),
    Column("calls", Integer, nullable=False),
)


@dataclass(frozen=True, slots=True)
class _CountingSql:
    """The statements of :meth:`AppStore.charge`, written once as driver SQL (named ``:param``
    placeholders, turned into ``%(param)s`` for psycopg)."""

    app: str
    rate: str
    usage: str
    usage_capped: str

    @classmethod
    def for_backend(cls, backend: str) -> _CountingSql:
        usage = (
            "INSERT INTO app_usage (app_id, day, calls) VALUES (:app_id, :day, :calls) "
            "ON CONFLICT (app_id, day) DO UPDATE SET calls = app_usage.calls + excluded.calls "
        )
        statements = {
            "app": "SELECT enabled, daily_quota, rps FROM apps WHERE app_id = :app_id",
            # the one-row window of the app: a new second restarts it at 1, the same second
            # counts on only while it stays within the rate (else no row comes back)
            "rate": (
                "INSERT INTO app_rate (app_id, second, calls) VALUES (:app_id, :second, 1) "
                "ON CONFLICT (app_id) DO UPDATE SET second = excluded.second, calls = CASE "
                "WHEN app_rate.second = excluded.second THEN app_rate.calls + 1 ELSE 1 END "
                "WHERE app_rate.second <> excluded.second OR app_rate.calls + 1 <= :rps "
                "RETURNING calls"
            ),
            "usage": usage + "RETURNING calls",
            "usage_capped": (
                usage + "WHERE app_usage.calls + excluded.calls <= :quota RETURNING calls"
            ),
        }
        if backend == "postgresql":
            statements = {
                name: re.sub(r":(\w+)", r"%(\1)s", sql) for name, sql in statements.items()
            }
        return cls(**statements)


def _when(calls: int, now: datetime | None) -> tuple[str, int]:
    """The UTC day and the second of a charge at ``now`` (default: the clock)."""
    if calls < 0:
        raise ValueError(f"calls must not be negative, got {calls}")
    if now is None:
        stamp = time.time()
        return time.strftime("%Y-%m-%d", time.gmtime(stamp)), int(stamp)
    return now.astimezone(UTC).date().isoformat(), int(now.timestamp())


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (another connection holds the lock)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(exc) or "busy" in str(exc)


def _create_apps(conn: Connection) -> None:
    for table in (apps_table, usage_table, rate_table):
        table.create(conn)


#: ordered, named, never edited once released: append new ones at the end
MIGRATIONS: tuple[Migration, ...] = (("service_0001_apps_usage_rate", _create_apps),)
#: the largest daily quota (a 64-bit column) and rate (a 32-bit column) both stores hold
MAX_DAILY_QUOTA = 2**63 - 1
MAX_RPS = 2**31 - 1
#: the longest app name (the ``apps.name`` column)
MAX_NAME_CHARS = 200
#: how long a SQLite charge waits for another process's write lock before giving up
SQLITE_BUSY_TIMEOUT_S = 30.0
#: SQLite charges between two WAL checkpoints of a process (a few pages each: the WAL stays
#: within some megabytes)
CHECKPOINT_EVERY = 300


class AppStore:
    """Apps and their counters in one database. Thread-safe; open once per process."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = engine if engine is not None else make_engine(self.url)
        self.backend = self.engine.dialect.name
        self._sql = _CountingSql.for_backend(self.backend)
        # SQLite has one writer at a time: the threads of this process queue on a mutex (fair,
        # instant hand-over) instead of meeting in SQLite's busy handler, which sleeps for
        # 1, 2, 5, ... 100 ms between attempts; other processes still wait on the file lock
        self._lock = threading.Lock()
        self._charging: AbstractContextManager[Any] = (
            self._lock if self.backend == "sqlite" else nullcontext()
        )
        self._counter: sqlite3.Connection | None = None
        self._since_checkpoint = 0

    @classmethod
    def open(cls, url: str) -> AppStore:
        """A store on ``url`` with every migration applied."""
        store = cls(url)
        store.migrate()
        return store

    def close(self) -> None:
        with self._charging:
            if self._counter is not None:
                self._counter.close()
                self._counter = None
        self.engine.dispose()

    def _write(self) -> AbstractContextManager[Connection]:
        return writing(self.engine)

    def _read(self) -> AbstractContextManager[Connection]:
        return reading(self.engine)

    # -- migrations ----------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the missing migrations in order; returns the names applied now."""
        return migrate(self.engine, MIGRATIONS)

    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.engine, "service_")

    # -- apps ----------------------------------------------------------------------------------
    def add_app(
        self,
        name: str,
        *,
        dialects: Sequence[str] = ("native",),
        daily_quota: int | None = DEFAULT_DAILY_QUOTA,
        rps: int | None = DEFAULT_RPS,
        allow_ips: Sequence[str] = (),
        now: datetime | None = None,
    ) -> App:
        """A new enabled app with fresh credentials; quota or rate ``0``/``None`` = unlimited."""
        if not name.strip():
            raise ConfigError("an app needs a name")
        if len(name.strip()) > MAX_NAME_CHARS or not _storable(name):
            raise ConfigError(
                f"an app name is at most {MAX_NAME_CHARS} characters, without NUL or unpaired "
                "surrogates"
            )
        app = App(
            app_id=new_app_id(),
            name=name.strip(),
            secret=new_secret(),
            dialects=parse_dialects(dialects),
            daily_quota=_limit("daily quota", daily_quota, MAX_DAILY_QUOTA),
            rps=_limit("requests per second", rps, MAX_RPS),
            allow_ips=parse_networks(allow_ips),
            enabled=True,
            created_at=(now or datetime.now(UTC)).replace(microsecond=0),
        )
        with self._write() as conn:
            conn.execute(
                apps_table.insert().values(
                    app_id=app.app_id,
                    name=app.name,
                    secret=app.secret,
                    dialects=",".join(sorted(app.dialects)),
                    daily_quota=app.daily_quota,
                    rps=app.rps,
                    allow_ips=",".join(app.allow_ips),
                    enabled=True,
                    created_at=app.created_at,
                )
            )
        return app

    def get_app(self, app_id: str) -> App | None:
        if not _storable(app_id):  # no app has such an id (and PostgreSQL refuses a NUL)
            return None
        with self._read() as conn:
            row = conn.execute(select(apps_table).where(apps_table.c.app_id == app_id)).first()
        return _app(row) if row is not None else None

    def list_apps(self) -> list[App]:
        with self._read() as conn:
            rows = conn.execute(select(apps_table).order_by(apps_table.c.created_at, "app_id"))
            return [_app(row) for row in rows]

    def remove_app(self, app_id: str) -> bool:
        """Delete an app and its counters; False when there was none."""
        if not _storable(app_id):
            return False
        with self._write() as conn:
            gone = conn.execute(delete(apps_table).where(apps_table.c.app_id == app_id)).rowcount
            conn.execute(delete(usage_table).where(usage_table.c.app_id == app_id))
            conn.execute(delete(rate_table).where(rate_table.c.app_id == app_id))
        return bool(gone)

    def set_limits(
        self, app_id: str, *, daily_quota: int | None = None, rps: int | None = None
    ) -> App:
        """Change the daily quota and/or the rate (``None`` keeps it, ``0`` = unlimited)."""
        values: dict[str, Any] = {}
        if daily_quota is not None:
            values["daily_quota"] = _limit("daily quota", daily_quota, MAX_DAILY_QUOTA)
        if rps is not None:
            values["rps"] = _limit("requests per second", rps, MAX_RPS)
        return self._update(app_id, values)

    def set_enabled(self, app_id: str, enabled: bool) -> App:
        return self._update(app_id, {"enabled": enabled})

    def _update(self, app_id: str, values: dict[str, Any]) -> App:
        if not _storable(app_id):
            raise UnknownApp(f"no app with id {app_id!r}", app_id=None)
        with self._write() as conn:
            if values:
                stmt = update(apps_table).where(apps_table.c.app_id == app_id).values(**values)
                conn.execute(stmt)
            row = conn.execute(select(apps_table).where(apps_table.c.app_id == app_id)).first()
        if row is None:
            raise UnknownApp(f"no app with id {app_id!r}", app_id=app_id)
        return _app(row)

    # -- counting ------------------------------------------------------------------------------
    def charge(self, app_id: str, calls: int = 1, *, now: datetime | None = None) -> Charge:
        """Count one request of ``calls`` calls, atomically; raise a refusal instead if the app
        is unknown or disabled, over its requests per second or over today's quota.

        One short transaction of three statements written once as driver SQL (nothing is built
        or compiled per call): read the app's ``enabled``, quota and rate; bump the per-second
        window; add to today's usage. A refusal rolls it all back. Blocks while another
        connection holds the lock (at most :data:`SQLITE_BUSY_TIMEOUT_S` on SQLite)."""
        day, second = _when(calls, now)
        if not _storable(app_id):
            raise UnknownApp("unknown app id")
        if self.backend == "sqlite":
            with self._charging:
                return self._charge_sqlite(app_id, calls, day, second)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                charge = self._count(cursor, app_id, calls, day, second)
            except BaseException:
                raw.rollback()
                raise
            finally:
                cursor.close()
            raw.commit()
            return charge
        finally:
            raw.close()  # back to the pool

    def try_charge_now(self, app_id: str, calls: int = 1) -> Charge | None:
        """:meth:`charge`, if it can be done at once, else ``None`` (then call :meth:`charge`
        from a thread). Made for the event loop: it never waits. SQLite only (elsewhere always
        ``None``): ``None`` when this process's counting connection is busy or not open yet,
        another process holds the write lock, or a WAL checkpoint is due (that is for
        :meth:`charge` to do, off the loop); otherwise one transaction of some 30 µs."""
        if self._counter is None or self._since_checkpoint >= CHECKPOINT_EVERY:
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            conn = self._counter
            if conn is None:  # closed meanwhile
                return None
            day, second = _when(calls, None)
            if not _storable(app_id):
                raise UnknownApp("unknown app id")
            return self._attempt(conn, app_id, calls, day, second)
        finally:
            self._lock.release()

    def _charge_sqlite(self, app_id: str, calls: int, day: str, second: int) -> Charge:
        """The SQLite charge, under ``self._charging``, on this process's counting connection.
        ``BEGIN IMMEDIATE`` takes the write lock up front; while another process holds it, retry
        after 0.2 ms, doubling up to 5 ms, for at most :data:`SQLITE_BUSY_TIMEOUT_S` (SQLite's
        own busy handler would sleep 1, 2, 5, ... 100 ms). Every :data:`CHECKPOINT_EVERY`
        charges, a passive WAL checkpoint (the counting connection does not checkpoint on its
        own, so that :meth:`try_charge_now` never does on the event loop)."""
        conn = self._counter if self._counter is not None else self._open_counter()
        delay, deadline = 0.0002, time.monotonic() + SQLITE_BUSY_TIMEOUT_S
        while True:
            charge = self._attempt(conn, app_id, calls, day, second)
            if charge is not None:
                break
            if time.monotonic() + delay > deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(delay)
            delay = min(delay * 2, 0.005)
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return charge

    def _attempt(
        self, conn: sqlite3.Connection, app_id: str, calls: int, day: str, second: int
    ) -> Charge | None:
        """One try of the SQLite charge transaction; None when the lock is taken elsewhere."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                charge = self._count(conn.cursor(), app_id, calls, day, second)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise
        self._since_checkpoint += 1
        return charge

    def _open_counter(self) -> sqlite3.Connection:
        """The connection of the SQLite charges: the engine's (same file, same pragmas), taken
        out of the pool for good, without a busy timeout (we retry ourselves) and without
        automatic checkpoints (we checkpoint ourselves)."""
        raw = self.engine.raw_connection()
        conn: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        raw.detach()
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        self._counter = conn
        return conn

    def _count(self, cursor: Any, app_id: str, calls: int, day: str, second: int) -> Charge:
        """The statements of one charge, inside the caller's transaction."""
        sql = self._sql
        cursor.execute(sql.app, {"app_id": app_id})
        row = cursor.fetchone()
        if row is None:
            raise UnknownApp(f"no app with id {app_id!r}", app_id=app_id)
        enabled, quota, rps = bool(row[0]), row[1], row[2]
        if not enabled:
            raise AppDisabled("this app is disabled", app_id=app_id)
        if rps is not None:
            cursor.execute(sql.rate, {"app_id": app_id, "second": second, "rps": rps})
            if cursor.fetchone() is None:
                message = f"more than {rps} requests in one second; slow down"
                raise RateLimited(message, app_id=app_id)
        used = None
        if quota is None or calls <= quota:
            params = {"app_id": app_id, "day": day, "calls": calls, "quota": quota}
            cursor.execute(sql.usage if quota is None else sql.usage_capped, params)
            got = cursor.fetchone()
            used = None if got is None else int(got[0])
        if used is None:
            raise QuotaExceeded(
                f"the daily quota of {quota} calls is used up (this request needs {calls})",
                app_id=app_id,
            )
        return Charge(
            app_id=app_id,
            calls=calls,
            used=used,
            remain=None if quota is None else quota - used,
            day=day,
        )

    def refund(self, app_id: str, calls: int, day: str) -> None:
        """Give back ``calls`` counted on ``day`` (UTC) to ``app_id``: a charged request that
        still ended in an error. Never below zero; the per-second window is left as it is."""
        if calls <= 0 or not _storable(app_id):
            return
        u = usage_table
        stmt = (
            update(u)
            .where(u.c.app_id == app_id, u.c.day == day, u.c.calls >= calls)
            .values(calls=u.c.calls - calls)
        )
        with self._charging, self._write() as conn:
            conn.execute(stmt)

    def usage(self, app_id: str, *, now: datetime | None = None) -> int:
        """Calls counted today (UTC) for ``app_id``."""
        day = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
        if not _storable(app_id):
            return 0
        with self._read() as conn:
            got = conn.execute(
                select(usage_table.c.calls).where(
                    usage_table.c.app_id == app_id, usage_table.c.day == day
                )
            ).scalar()
        return int(got or 0)

    def usage_by_day(
        self, *, days: int = 7, now: datetime | None = None
    ) -> dict[str, dict[str, int]]:
        """Calls per app and UTC day over the last ``days`` days up to today: ``{app_id: {day:
        calls}}`` (days without a call are absent)."""
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        first = (today - timedelta(days=days - 1)).isoformat()
        u = usage_table
        with self._read() as conn:
            rows = conn.execute(
                select(u.c.app_id, u.c.day, u.c.calls).where(
                    u.c.day >= first, u.c.day <= today.isoformat()
                )
            )
            out: dict[str, dict[str, int]] = {}
            for row in rows:
                out.setdefault(row.app_id, {})[row.day] = int(row.calls)
        return out


def _storable(value: str) -> bool:
    """Whether both stores can hold and compare ``value``: no NUL (PostgreSQL refuses it in
    text) and no unpaired surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _limit(name: str, value: int | None, most: int) -> int | None:
    """A quota or rate as stored (:func:`check_limit`), within what its column holds."""
    checked = check_limit(name, value)
    if checked is not None and checked > most:
        raise ConfigError(f"{name} must be at most {most} (0 for unlimited), got {checked}")
    return checked


def _app(row: Any) -> App:
    created = row.created_at
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return App(
        app_id=row.app_id,
        name=row.name,
        secret=row.secret,
        dialects=frozenset(d for d in row.dialects.split(",") if d),
        daily_quota=row.daily_quota,
        rps=row.rps,
        allow_ips=tuple(ip for ip in (row.allow_ips or "").split(",") if ip),
        enabled=bool(row.enabled),
        created_at=created,
    )
