"""Group commit: the write requests of one process share a transaction and its COMMIT.

Every write serializes on the chain's append lock, so a process's write throughput is one over
the time a write holds it; before this module, each write held it for its own statements and
its own COMMIT (an fsync). Now a request hands its write to :meth:`GroupCommit.submit` as a
*command* and waits. One of the waiting threads at a time is the *leader*: it takes every command
queued so far (at most ``max_batch``), opens ONE write unit of work (the append lock, once),
runs each command in turn, and commits ONCE. Commands queued meanwhile form the next
batch, led by one of their own threads as soon as the leader is done. There is no timer: a
batch is whatever arrived while the previous one was being written, so a lone request is
written at once, as before.

A request of an ``async`` route hands its write over with :meth:`GroupCommit.submit_async`
and awaits it on the event loop instead of blocking a thread of the pool: its command joins the
same queue, and when no batch is being written, the group commit's own writer thread leads
the next one. The event loop then pays one hand-off to a thread per *batch* (and one wake-up
back, which answers every request of the batch of that loop), not per request: the thread hop,
the pool's queue and the wake-up of a thread per request were about a tenth of a write's CPU
(``bench/writes.py``). A batch written by the writer thread that leaves only such commands
queued is followed at once by the next; when a blocked thread's command is queued, leadership
passes to the threads waiting in :meth:`GroupCommit.submit`, as before.

Guarantees, as with one transaction per request:

- **Own result, own problem.** A command that raises (a broken rule, a 403, a value the database
  refuses) is undone alone, and its request gets its exception (its problem+json) while its
  batch-mates go on and commit. A command costs no statement of its own: it runs *tentatively*
  (``SqlAlchemyUnitOfWork.tentative``) while the rows it appends (entries, Merkle nodes, entry
  index, idempotency record) are buffered and sent with the others, one executemany per table,
  at the next read or at the commit. A command that fails before anything of it reached the
  database is forgotten in memory (the log's head, Merkle frontier and buffered rows, the
  projection's cached records and row counts). One that fails after writing (a projection
  update, a flush, a statement the database refused) makes the leader roll the transaction
  back and write the batch again with a SAVEPOINT around each command
  (``SqlAlchemyUnitOfWork.savepoint``), which undoes such a command alone.
- **Acknowledged after the commit.** Results are handed back only once the batch committed; if
  the commit (or the append lock, or a lost connection) fails, every request of the batch gets
  that error and none is acknowledged.
- **One chain.** The batch holds the append lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL the
  advisory lock) for its whole transaction, so processes and replicas sharing a database still
  append one gap-free chain, batch by batch.
- **Order.** Commands run in the order they were queued.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar, cast

from ledger.adapters.sql.uow import (
    SqlAlchemyUnitOfWork,
    SqlStorage,
    TransactionLost,
    WroteBeforeFailing,
)
from ledger.ports import IdempotencyRecord

T = TypeVar("T")

#: Commands in one transaction at most: bounds a batch's time and a refused command's savepoint
#: work, far above the concurrency the database permits allow.
MAX_BATCH = 64


class Batch:
    """What a command sees: the batch's write unit of work, and what the batch reads once for
    all its commands (the append lock is held for the whole batch): the log's extendability,
    the idempotency records stored under the commands' keys, and which of their tokens are
    still valid."""

    def __init__(self, uow: SqlAlchemyUnitOfWork, queued: Sequence[_Queued[object]]) -> None:
        self.uow = uow
        self._queued = queued
        self._refusal: Exception | None = None
        self._checked = False
        self._stored: dict[tuple[str, str], IdempotencyRecord] | None = None
        self._storing: list[IdempotencyRecord] = []
        self._valid_tokens: set[str] | None = None

    def ensure_extendable(self) -> None:
        """Raise unless the log may be appended to (``SqlLedgerLog.check_extendable``): the
        stored log holds the largest signed tree and has no Merkle leaf beyond its end. Checked
        at the first command that needs it; the other commands of the batch get the same
        answer."""
        if not self._checked:
            try:
                self.uow.log.check_extendable()
            except Exception as exc:
                self._refusal = exc
            self._checked = True
        if self._refusal is not None:
            raise self._refusal

    def token_valid(self, token_id: str) -> bool:
        """Whether the token exists and is not revoked, as this transaction sees it (the tokens
        of every command of the batch in one query)."""
        if self._valid_tokens is None:
            ids = {item.token_id for item in self._queued if item.token_id is not None}
            self._valid_tokens = self.uow.tokens.unrevoked(ids | {token_id})
        return token_id in self._valid_tokens

    def stored_response(self, token_id: str, key: str) -> IdempotencyRecord | None:
        """The response stored under the token's ``Idempotency-Key``: by an earlier transaction
        (the keys of every command of the batch in one query) or an earlier command of this
        batch."""
        if self._stored is None:
            keys = {
                (item.token_id, item.idempotency_key)
                for item in self._queued
                if item.token_id is not None and item.idempotency_key is not None
            }
            self._stored = self.uow.idempotency.get_many(keys | {(token_id, key)})
        return self._stored.get((token_id, key))

    def store_response(self, record: IdempotencyRecord) -> None:
        """Store a response under its key, in this command's savepoint."""
        self.uow.idempotency.add(record)
        self._storing.append(record)

    def _settle(self, kept: bool) -> None:
        """After a command's savepoint: remember the responses it stored, or forget them."""
        if kept and self._stored is not None:
            self._stored.update(((r.token_id, r.key), r) for r in self._storing)
        self._storing = []


Command = Callable[[Batch], T]


class _Queued(Generic[T]):
    __slots__ = ("command", "done", "error", "idempotency_key", "result", "token_id", "waiter")

    def __init__(
        self,
        command: Command[T],
        token_id: str | None,
        idempotency_key: str | None,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        self.command = command
        self.token_id = token_id
        self.idempotency_key = idempotency_key
        self.waiter = waiter
        """Resolved on its event loop once the command is done (:meth:`GroupCommit.submit_async`);
        ``None`` for a thread blocked in :meth:`GroupCommit.submit`."""
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return cast(T, self.result)


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    """On the waiters' event loop: wake the requests whose commands are done."""
    for waiter in waiters:
        if not waiter.done():  # not cancelled meanwhile
            waiter.set_result(None)


class GroupCommit:
    """The write queue of one storage, in one process (module docstring)."""

    def __init__(self, storage: SqlStorage, *, max_batch: int = MAX_BATCH) -> None:
        self._storage = storage
        self._max_batch = max_batch
        self._queue: list[_Queued[object]] = []
        self._state = threading.Condition()
        self._leading = False
        self._writer: ThreadPoolExecutor | None = None

    @property
    def queued(self) -> int:
        """Commands waiting for a batch (not counting those of the batch being written)."""
        with self._state:
            return len(self._queue)

    def submit(
        self,
        command: Command[T],
        *,
        token_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Run ``command`` in a batch's transaction and return its result once that transaction
        committed; raise what the command raised (nothing of it was kept), or what made the
        batch fail (nothing of the batch was kept). ``token_id`` and ``idempotency_key``: what
        the command will ask the batch about (read for all commands at once)."""
        queued = _Queued(command, token_id, idempotency_key)
        with self._state:
            self._queue.append(cast(_Queued[object], queued))
        while True:
            with self._state:
                while self._leading and not queued.done:
                    self._state.wait()
                if queued.done:
                    break
                self._leading = True
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            try:
                self._write(batch)
            finally:
                self._hand_over()
        return queued.outcome()

    async def submit_async(
        self,
        command: Command[T],
        *,
        token_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """:meth:`submit` for a coroutine: the command runs in a batch written by a thread
        (the writer thread, or a thread blocked in :meth:`submit`) while the caller awaits it
        without holding a thread."""
        waiter = asyncio.get_running_loop().create_future()
        queued = _Queued(command, token_id, idempotency_key, waiter)
        with self._state:
            self._queue.append(cast(_Queued[object], queued))
            lead = not self._leading
            self._leading = True
        if lead:
            self._start_writer()
        await waiter
        return queued.outcome()

    def _start_writer(self) -> None:
        """Have the writer thread write the next batch (the caller made this the leader)."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        self._writer.submit(self._lead)

    def _lead(self) -> None:
        """On the writer thread, as the leader: write the next batch, then hand over."""
        try:
            with self._state:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            if batch:
                self._write(batch)
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        """After the leader wrote a batch (whose requests ``_write`` woke), pass the lead on:
        to the threads blocked in :meth:`submit` when one of their commands is queued (one of
        them leads next), else to the writer thread while commands are queued."""
        with self._state:
            if self._queue and all(item.waiter is not None for item in self._queue):
                self._start_writer()
            else:
                self._leading = False
            self._state.notify_all()

    @staticmethod
    def _wake_awaiting(queued: list[_Queued[object]]) -> None:
        """Wake the coroutines awaiting these (done) commands: one call per event loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for item in queued:
            if item.waiter is not None:
                by_loop.setdefault(item.waiter.get_loop(), []).append(item.waiter)
        for loop, waiters in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, waiters)
            except RuntimeError:  # the loop closed: nobody awaits these any more
                pass

    def _write(self, queued: list[_Queued[object]]) -> None:
        """One transaction for the batch, one commit. Marks every command done (its result or
        its error); the caller wakes the waiters.

        First without savepoints (``tentative``: a command costs no statement of its own, and
        rows are sent one executemany per table); if a command fails after it wrote to the
        database, that transaction is rolled back and the batch written again with a savepoint
        around each command."""
        try:
            try:
                self._attempt(queued, savepoints=False)
            except WroteBeforeFailing:
                self._attempt(queued, savepoints=True)
        except BaseException as exc:
            # The lock, the commit or the connection failed: nothing of the batch is kept.
            for item in queued:
                item.result, item.error, item.done = None, exc, True
            self._wake_awaiting(queued)
            if not isinstance(exc, Exception):
                raise
            return
        for item in queued:
            item.done = True
        self._wake_awaiting(queued)

    def _attempt(self, queued: list[_Queued[object]], *, savepoints: bool) -> None:
        with self._storage.unit_of_work(write=True) as uow:
            batch = Batch(uow, queued)
            for item in queued:
                item.result, item.error = None, None
                try:
                    with uow.savepoint() if savepoints else uow.tentative():
                        item.result = item.command(batch)
                except (TransactionLost, WroteBeforeFailing):
                    raise
                except Exception as exc:
                    item.error = exc
                    batch._settle(kept=False)
                else:
                    batch._settle(kept=True)
            uow.commit()
