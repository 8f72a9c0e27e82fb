"""SQLAlchemy unit of work: one connection, one transaction, committed explicitly; and the
:class:`SqlStorage` that opens units of work on one engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DataError, DBAPIError

from ledger.adapters.sql.batch import BatchUnitOfWork, SqlBatchProjection
from ledger.adapters.sql.cosignatures import SqlCosignatureRepository
from ledger.adapters.sql.db import (
    begin_read,
    begin_write,
    create_ledger_engine,
    take_writer_turn,
)
from ledger.adapters.sql.idempotency import SqlIdempotencyRepository
from ledger.adapters.sql.listing import SqlProjectionListing
from ledger.adapters.sql.log import SqlLedgerLog
from ledger.adapters.sql.projection import SqlProjection
from ledger.adapters.sql.tokens import SqlTokenRepository
from ledger.adapters.sql.witnessed import SqlWitnessRepository
from ledger.errors import LedgerError
from ledger.log.checkpoints import CheckpointState
from ledger.ports import UnstorableValue

logger = logging.getLogger("a6ledger.storage")


def utc_now() -> datetime:
    return datetime.now(UTC)


class WroteBeforeFailing(Exception):
    """A part of a write transaction failed after it wrote to the database: without a savepoint
    around it (``SqlAlchemyUnitOfWork.tentative``), only a rollback of the whole transaction
    undoes it."""


class TransactionLost(Exception):
    """A write transaction cannot go on (a rollback to a savepoint failed): none of it commits."""


def _unstorable(exc: DataError) -> UnstorableValue:
    logger.warning("the database refused a value: %s", exc.orig)
    return UnstorableValue(
        "a value in the request cannot be stored (control characters such as NUL, or "
        "a value longer than its field)"
    )


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. Leaving the block without commit rolls everything back.

    A writing unit of work holds the chain's append lock from its first statement, so the
    checks a service makes and the entries it appends see the same head.

    A value the database refuses to store (``DataError``: a NUL character PostgreSQL text
    cannot hold, a string longer than its column) leaves the block as :class:`UnstorableValue`,
    a client error, with the transaction rolled back.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool,
        clock: Callable[[], datetime] = utc_now,
        signed_elsewhere: CheckpointState | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._clock = clock
        self._signed_elsewhere = signed_elsewhere
        self._conn: Connection | None = None
        self._end_turn: Callable[[], None] | None = None

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def __enter__(self) -> Self:
        if self._write:
            self._end_turn = take_writer_turn(self._engine)
            try:
                self._conn = begin_write(self._engine)
            except BaseException:
                self._end_of_turn()
                raise
        else:
            self._conn = begin_read(self._engine)
        self.log = SqlLedgerLog(self._conn, self._clock, self._signed_elsewhere)
        # A writer's insert-only index and idempotency rows go with the log's buffered rows:
        # one executemany per table at the next statement or the commit.
        defer = self.log.defer if self._write else None
        self.projection = SqlProjection(self._conn, defer)
        self.listing = SqlProjectionListing(self._conn)
        self.tokens = SqlTokenRepository(self._conn)
        self.idempotency = SqlIdempotencyRepository(self._conn, defer)
        self._writes = 0
        if self._write:
            event.listen(self._conn, "before_cursor_execute", self._count_writes)
        self.cosignatures = SqlCosignatureRepository(self._conn)
        self.witnessed = SqlWitnessRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        try:
            if conn is not None:
                try:
                    if conn.in_transaction():
                        conn.rollback()
                finally:
                    conn.close()
        finally:
            self._end_of_turn()
        if isinstance(exc, DataError):
            raise _unstorable(exc) from exc

    def _end_of_turn(self) -> None:
        end, self._end_turn = self._end_turn, None
        if end is not None:
            end()

    def now(self) -> datetime:
        return self._clock()

    def commit(self) -> None:
        self.log.flush()
        self.connection.commit()
        self.log.committed()

    def rollback(self) -> None:
        self.connection.rollback()

    def _count_writes(self, _conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:6].upper() != "SELECT":
            self._writes += 1

    @contextmanager
    def tentative(self) -> Iterator[None]:
        """A nested part of the write transaction WITHOUT a savepoint (no statement of its
        own): leaving it by an exception after it sent no write to the database (buffered rows
        were not flushed, no statement but SELECTs ran, none failed) forgets what it did in
        what the log and the projection remember, and re-raises; the rest of the transaction
        stays as it was. Otherwise :class:`WroteBeforeFailing` leaves it, from the exception:
        only a rollback of the whole transaction undoes that part."""
        log_mark, projection_mark = self.log.mark(), self.projection.mark()
        writes = self._writes
        try:
            yield
        except BaseException as exc:
            if self._writes != writes or isinstance(exc, DBAPIError):
                raise WroteBeforeFailing("a command failed after writing") from exc
            self.log.reset_to(log_mark)
            self.projection.reset_to(projection_mark)
            raise

    @contextmanager
    def batched(self) -> Iterator[BatchUnitOfWork]:
        """This unit of work with the projection of a batch of actions held in memory and sent
        at the end, one executemany per table (``ledger.adapters.sql.batch``): what a history
        import runs a batch in. Leaving it by an exception forgets the held rows; the caller
        then rolls the transaction back."""
        projection = SqlBatchProjection(self.projection, self.log, self.connection)
        self.log.copy_flushes = True
        try:
            yield BatchUnitOfWork(self, projection)
            projection.flush()
        except LedgerError:
            raise  # a rule refused a row: the caller decides
        except Exception as exc:
            logger.warning("a batch held in memory stopped: %r", exc)
            raise
        finally:
            self.log.copy_flushes = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested part of the write transaction: leaving it by an exception rolls back to
        the savepoint what was done in it, in the database and in what the log and the
        projection remember (head, Merkle frontier, row counts, records read), and re-raises;
        the rest of the transaction stays as it was. A value the database refuses leaves it as
        :class:`UnstorableValue`. If the rollback to the savepoint itself fails (the connection
        was lost), :class:`TransactionLost` leaves it: nothing of the transaction can commit."""
        conn = self.connection
        self.log.flush()  # what is buffered so far is not part of the savepoint
        log_mark, projection_mark = self.log.mark(), self.projection.mark()
        nested = conn.begin_nested()
        try:
            yield
            self.log.flush()
        except BaseException as exc:
            try:
                if nested.is_active:
                    nested.rollback()
            except BaseException as lost:
                raise TransactionLost(
                    "the write transaction could not be rolled back to a savepoint"
                ) from lost
            self.log.reset_to(log_mark)
            self.projection.reset_to(projection_mark)
            if isinstance(exc, DataError):
                raise _unstorable(exc) from exc
            raise
        nested.commit()


class SqlStorage:
    """The service's database: opens units of work on one engine (``ledger.ports.Storage``).

    ``signed_elsewhere``: the signed trees remembered outside the database (the signer's file);
    no write appends while the stored log does not hold them (``SqlLedgerLog.check_extendable``).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        signed_elsewhere: CheckpointState | None = None,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self.signed_elsewhere = signed_elsewhere

    @classmethod
    def open(
        cls, database_url: str, *, signed_elsewhere: CheckpointState | None = None
    ) -> SqlStorage:
        """Storage on a new engine for ``database_url`` (SQLite or PostgreSQL)."""
        return cls(create_ledger_engine(database_url), signed_elsewhere=signed_elsewhere)

    def unit_of_work(self, *, write: bool) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self.engine, write=write, clock=self._clock, signed_elsewhere=self.signed_elsewhere
        )

    def check(self) -> None:
        """Raise unless the database answers a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def describe(self) -> str:
        """The database URL without its password, for logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()
