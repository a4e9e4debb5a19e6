"""Database plumbing shared by the app store (``service.store``) and the job store
(``jobs.store``): URLs, engines, transactions and the one ordered migration log.

SQLite (a file, WAL mode, zero set-up) or PostgreSQL (psycopg 3) through SQLAlchemy Core. On
SQLite every writing transaction starts with ``BEGIN IMMEDIATE`` (writers take the lock up front:
no upgrade deadlocks, counting is serialised) and reads with a plain ``BEGIN``; open a reading
connection with the execution option ``qinggan_readonly=True`` (:func:`reading`).

Migrations of every store are recorded in one table, ``qinggan_migrations`` (name, applied_at),
applied in order under one PostgreSQL advisory lock so that several processes may start at once.
Each store keeps its own ordered tuple and a name prefix (``service_``, ``jobs_``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from qinggan.errors import ConfigError

Migration = tuple[str, Callable[[Connection], None]]

migrations_table = Table(
    "qinggan_migrations",
    MetaData(),
    Column("name", String(200), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
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


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine for ``url``: pooled on PostgreSQL; on SQLite WAL mode, ``synchronous=NORMAL``,
    a 30 s busy timeout and explicit ``BEGIN [IMMEDIATE]``."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
        )
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
        readonly = conn.get_execution_options().get("qinggan_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A writing transaction (committed on success, rolled back on error)."""
    with engine.begin() as conn:
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A reading transaction (no write lock on SQLite)."""
    with engine.connect().execution_options(qinggan_readonly=True) as conn, conn.begin():
        yield conn


def migrate(engine: Engine, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet recorded, in order; the names applied now."""
    applied_now = []
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        migrations_table.create(conn, checkfirst=True)
        done = set(conn.execute(select(migrations_table.c.name)).scalars())
        for name, apply in migrations:
            if name in done:
                continue
            apply(conn)
            conn.execute(migrations_table.insert().values(name=name, applied_at=datetime.now(UTC)))
            applied_now.append(name)
    return applied_now


def applied_migrations(engine: Engine, prefix: str) -> list[str]:
    """The recorded migrations whose names start with ``prefix``, sorted."""
    with reading(engine) as conn:
        names = conn.execute(select(migrations_table.c.name)).scalars()
        return sorted(name for name in names if name.startswith(prefix))
