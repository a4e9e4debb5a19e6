"""The app store: every SQL statement of apps, quotas and rate limits (SQLAlchemy Core).

The same code runs on SQLite (a file, WAL mode, the default) and on PostgreSQL
(``postgresql+psycopg://`` URL; ``postgresql://`` is read as that). Schema changes are ordered,
named migrations recorded in ``qinggan_migrations``; :meth:`AppStore.migrate` applies the missing
ones under a lock, so several server processes may start at once.

Counting is atomic across processes sharing one database. :meth:`AppStore.charge` runs one
transaction (``BEGIN IMMEDIATE`` on SQLite; row locks of ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE`` on PostgreSQL) that

1. reads the app (unknown or disabled: refused);
2. bumps the app's one-row per-second window only while it stays within ``rps``;
3. adds the calls to today's (UTC) counter only while it stays within ``daily_quota``;

and rolls everything back on a refusal, so a refused request costs nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
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
    case,
    create_engine,
    delete,
    event,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

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

migrations_table = Table(
    "qinggan_migrations",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
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


def _create_apps(conn: Connection) -> None:
    for table in (apps_table, usage_table, rate_table):
        table.create(conn)


#: ordered, named, never edited once released: append new ones at the end
MIGRATIONS: tuple[tuple[str, Callable[[Connection], None]], ...] = (
    ("service_0001_apps_usage_rate", _create_apps),
)
_MIGRATION_LOCK = zlib.crc32(b"qinggan_migrations")


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; SQLite and PostgreSQL only."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        backend = make_url(url).get_backend_name()
    except Exception:
        raise ConfigError(f"not a database URL: {url!r}") from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {backend!r} in the URL; expected sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions begin where we say, see below
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # writers take the lock up front: no upgrade deadlocks, counting is serialised
        readonly = conn.get_execution_options().get("qinggan_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


class AppStore:
    """Apps and their counters in one database. Thread-safe; open once per process."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = engine if engine is not None else make_engine(self.url)
        self.backend = self.engine.dialect.name
        self._insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert

    @classmethod
    def open(cls, url: str) -> AppStore:
        """A store on ``url`` with every migration applied."""
        store = cls(url)
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(qinggan_readonly=True) as conn, conn.begin():
            yield conn

    # -- migrations ----------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the missing migrations in order; returns the names applied now."""
        applied_now = []
        with self._write() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            migrations_table.create(conn, checkfirst=True)
            done = set(conn.execute(select(migrations_table.c.name)).scalars())
            for name, apply in MIGRATIONS:
                if name in done:
                    continue
                apply(conn)
                conn.execute(
                    migrations_table.insert().values(name=name, applied_at=datetime.now(UTC))
                )
                applied_now.append(name)
        return applied_now

    def applied_migrations(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(migrations_table.c.name)).scalars())

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
        app = App(
            app_id=new_app_id(),
            name=name.strip(),
            secret=new_secret(),
            dialects=parse_dialects(dialects),
            daily_quota=check_limit("daily quota", daily_quota),
            rps=check_limit("requests per second", rps),
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
        with self._read() as conn:
            row = conn.execute(select(apps_table).where(apps_table.c.app_id == app_id)).first()
        return _app(row) if row is not None else None

    def list_apps(self) -> list[App]:
        with self._read() as conn:
            rows = conn.execute(select(apps_table).order_by(apps_table.c.created_at, "app_id"))
            return [_app(row) for row in rows]

    def remove_app(self, app_id: str) -> bool:
        """Delete an app and its counters; False when there was none."""
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
            values["daily_quota"] = check_limit("daily quota", daily_quota)
        if rps is not None:
            values["rps"] = check_limit("requests per second", rps)
        return self._update(app_id, values)

    def set_enabled(self, app_id: str, enabled: bool) -> App:
        return self._update(app_id, {"enabled": enabled})

    def _update(self, app_id: str, values: dict[str, Any]) -> App:
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
        is unknown or disabled, over its requests per second or over today's quota."""
        if calls < 0:
            raise ValueError(f"calls must not be negative, got {calls}")
        now = now or datetime.now(UTC)
        day, second = now.astimezone(UTC).date().isoformat(), int(now.timestamp())
        with self._write() as conn:
            row = conn.execute(
                select(apps_table.c.enabled, apps_table.c.daily_quota, apps_table.c.rps).where(
                    apps_table.c.app_id == app_id
                )
            ).first()
            if row is None:
                raise UnknownApp(f"no app with id {app_id!r}", app_id=app_id)
            if not row.enabled:
                raise AppDisabled("this app is disabled", app_id=app_id)
            if row.rps is not None and not self._bump_rate(conn, app_id, second, row.rps):
                raise RateLimited(
                    f"more than {row.rps} requests in one second; slow down", app_id=app_id
                )
            used = self._add_usage(conn, app_id, day, calls, row.daily_quota)
            if used is None:
                raise QuotaExceeded(
                    f"the daily quota of {row.daily_quota} calls is used up "
                    f"(this request needs {calls})",
                    app_id=app_id,
                )
        remain = None if row.daily_quota is None else row.daily_quota - used
        return Charge(app_id=app_id, calls=calls, used=used, remain=remain)

    def _bump_rate(self, conn: Connection, app_id: str, second: int, rps: int) -> bool:
        t = rate_table
        stmt = (
            self._insert(t)
            .values(app_id=app_id, second=second, calls=1)
            .on_conflict_do_update(
                index_elements=[t.c.app_id],
                set_={
                    "second": second,
                    "calls": case((t.c.second == second, t.c.calls + 1), else_=1),
                },
                where=or_(t.c.second != second, t.c.calls + 1 <= rps),
            )
            .returning(t.c.calls)
        )
        return conn.execute(stmt).first() is not None

    def _add_usage(
        self, conn: Connection, app_id: str, day: str, calls: int, quota: int | None
    ) -> int | None:
        if quota is not None and calls > quota:
            return None
        t = usage_table
        stmt = (
            self._insert(t)
            .values(app_id=app_id, day=day, calls=calls)
            .on_conflict_do_update(
                index_elements=[t.c.app_id, t.c.day],
                set_={"calls": t.c.calls + calls},
                where=(t.c.calls + calls <= quota) if quota is not None else None,
            )
            .returning(t.c.calls)
        )
        got = conn.execute(stmt).first()
        return None if got is None else int(got[0])

    def usage(self, app_id: str, *, now: datetime | None = None) -> int:
        """Calls counted today (UTC) for ``app_id``."""
        day = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
        with self._read() as conn:
            got = conn.execute(
                select(usage_table.c.calls).where(
                    usage_table.c.app_id == app_id, usage_table.c.day == day
                )
            ).scalar()
        return int(got or 0)


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
