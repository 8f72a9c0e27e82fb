"""``GroupCommit.submit_async``: the commands of coroutines (the ``async`` write routes) and of
blocked threads share the queue and its batches, and each gets its own result or its own
error once its batch committed."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Engine

from app.group_commit import Batch, Command, GroupCommit
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, SqlStorage
from ledger.adapters.sql.verify import verify_database
from ledger.errors import InvalidInput

TIMEOUT = 30.0


def note(n: int) -> Command[int]:
    """Append one entry, or (every third) refuse after appending it."""

    def command(batch: Batch) -> int:
        appended = batch.uow.log.append("test.note", {"n": n}, actor="test")
        if n % 3 == 0:
            raise InvalidInput(f"note {n} refused")
        return appended.seq

    return command


def test_coroutines_and_a_blocked_thread_share_a_batch_each_with_its_own_outcome(
    storage: SqlStorage, engine: Engine
) -> None:
    writes = GroupCommit(storage)
    entered, release = threading.Event(), threading.Event()

    def gate(batch: Batch) -> int:
        """Holds the first batch (led by the writer thread) until the others are queued."""
        entered.set()
        if not release.wait(TIMEOUT):
            raise RuntimeError("the gate was never opened")
        return batch.uow.log.append("test.gate", {}, actor="test").seq

    async def scenario() -> list[int | BaseException]:
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(writes.submit_async(gate))
        assert await asyncio.to_thread(entered.wait, TIMEOUT)
        waiting = [asyncio.ensure_future(writes.submit_async(note(n))) for n in range(1, 7)]
        blocked = loop.run_in_executor(None, writes.submit, note(7))
        while writes.queued < 7:
            await asyncio.sleep(0.005)
        release.set()
        return await asyncio.wait_for(
            asyncio.gather(first, *waiting, blocked, return_exceptions=True), TIMEOUT
        )

    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        size = uow.log.size()
    outcomes = asyncio.run(scenario())
    assert outcomes[0] == size
    refused = [outcomes[n] for n in (3, 6)]
    assert all(isinstance(error, InvalidInput) for error in refused), refused
    accepted = sorted(seq for seq in (outcomes[n] for n in (1, 2, 4, 5, 7)) if isinstance(seq, int))
    # The refused notes left no entry: the accepted ones follow the gate's with no gap.
    assert accepted == list(range(size + 1, size + 6)), outcomes
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.log.size() == size + 6
    report = verify_database(engine)
    assert report.ok, report.reason
