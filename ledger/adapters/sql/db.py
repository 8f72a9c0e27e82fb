"""Engines for SQLite (default, WAL) and PostgreSQL, with write serialization.

Appends to the single hash chain must be serialized across processes:
- SQLite: write transactions open with ``BEGIN IMMEDIATE`` (the database write lock is taken at
  the start, so two writers never read the same head);
- PostgreSQL: write transactions take ``pg_advisory_xact_lock`` first; the lock is released by
  the commit or rollback itself.
``UNIQUE(seq)``, ``UNIQUE(prev_hash)`` and the insert trigger remain as the second line of defence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ledger.adapters.sql import guard

APPEND_LOCK_KEY = 0x6A6C6564676572  # "jledger": constant advisory-lock key for the chain head
_SQLITE_BEGIN = "a6_sqlite_begin"


def normalize_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and select the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass(frozen=True)
class PoolLimits:
    """The connection pool of a file or server database: ``size`` connections kept open,
    ``overflow`` more opened under load, and ``timeout`` seconds to wait for one before
    ``sqlalchemy.exc.TimeoutError``."""

    size: int = 10
    overflow: int = 5
    timeout: float = 10.0

    @property
    def capacity(self) -> int:
        """The most connections the pool hands out at once."""
        return self.size + self.overflow


def create_ledger_engine(url: str, *, pool: PoolLimits | None = None, **kwargs: Any) -> Engine:
    url = normalize_database_url(url)
    parsed = make_url(url)
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if pool is not None and not in_memory:
        kwargs.update(pool_size=pool.size, max_overflow=pool.overflow, pool_timeout=pool.timeout)
    if parsed.get_backend_name() == "sqlite":
        if not in_memory:
            # Zero set-up: the default ./var/a6ledger.db works on a fresh checkout.
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    guard.install(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: a commit the service acknowledged survives a power loss (NORMAL in WAL mode
        # may lose the last transactions, after checkpoints over them were published).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def begin_write(engine: Engine) -> Connection:
    """Open a connection whose transaction holds the chain's append lock and may write the
    guarded tables (``guard``)."""
    if is_sqlite(engine):
        # Options on the connection, not an option engine: ``conn.engine`` stays ``engine``,
        # which per-database state (frontier, counts, turns) is keyed by.
        conn = engine.connect().execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        conn.begin()
    else:
        conn = engine.connect()
        conn.begin()
        # The append lock and the writer flag in one statement: one round trip.
        guard.mark_writer(conn, also="pg_advisory_xact_lock(:key)", key=APPEND_LOCK_KEY)
        return conn
    guard.mark_writer(conn)
    return conn


# SQLite: one lock per engine (per process) that writers of the process queue on, see
# ``take_writer_turn``.
_WRITER_TURNS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()
WRITER_TURN_TIMEOUT = 30.0  # seconds; then the writer goes on to SQLite's own lock


def take_writer_turn(engine: Engine) -> Callable[[], None]:
    """Wait for this process's turn to write to a SQLite database; returns the function that
    ends the turn (call it after the write transaction ended). On PostgreSQL: nothing to wait
    for (the advisory lock queues and wakes waiters itself).

    SQLite's own write lock (``BEGIN IMMEDIATE``) is taken by polling: its busy handler sleeps
    up to 100 ms between attempts, so under concurrent requests the lock sat free while the
    waiters slept (90 % of a loaded server's time was spent in ``BEGIN IMMEDIATE``). Threads of
    one process now queue on a Python lock, which wakes the next writer as soon as the last
    one is done; only writers of other processes still meet at SQLite's lock. The lock is not
    what makes writes safe (SQLite's is): a writer that waited ``WRITER_TURN_TIMEOUT`` seconds
    goes on without its turn."""
    if not is_sqlite(engine):
        return _nothing
    with _TURNS_LOCK:
        turn = _WRITER_TURNS.setdefault(engine, threading.Lock())
    if not turn.acquire(timeout=WRITER_TURN_TIMEOUT):
        return _nothing
    return turn.release


def _nothing() -> None:
    return None


def begin_read(engine: Engine) -> Connection:
    conn = engine.connect()
    conn.begin()
    if not is_sqlite(engine):
        # One consistent snapshot for multi-statement reads (reports, proofs, pages).
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    return conn
