"""SQLAlchemy unit of work: one connection, one transaction, committed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from ledger.adapters.sql.db import begin_read, begin_write
from ledger.adapters.sql.log import SqlLedgerLog
from ledger.adapters.sql.projection import SqlProjection


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. Leaving the block without commit rolls everything back.

    A writing unit of work holds the chain's append lock from its first statement, so the
    checks a service makes and the entries it appends see the same head.
    """

    def __init__(
        self, engine: Engine, *, write: bool, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._engine = engine
        self._write = write
        self._clock = clock
        self._conn: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def __enter__(self) -> Self:
        self._conn = begin_write(self._engine) if self._write else begin_read(self._engine)
        self.log = SqlLedgerLog(self._conn, self._clock)
        self.projection = SqlProjection(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    def now(self) -> datetime:
        return self._clock()

    def commit(self) -> None:
        self.log.flush()
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()
