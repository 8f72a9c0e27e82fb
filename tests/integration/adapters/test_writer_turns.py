"""Writers of one process take turns on a SQLite database (``take_writer_turn``): concurrent
units of work all commit, in one gap-free chain; a turn ends however its unit of work ends; a
writer that waited too long for its turn goes on to SQLite's own lock. PostgreSQL has no turns
(its advisory lock queues writers)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from ledger.adapters.sql import db
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log.chain import Entry

WRITERS = 8
APPENDS = 5


def test_concurrent_writers_all_commit_in_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(APPENDS):
                with SqlAlchemyUnitOfWork(engine, write=True) as uow:
                    uow.log.append("test.note", {"writer": n, "i": i}, actor="test")
                    uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.log.size() == WRITERS * APPENDS
        entries = [Entry.from_canonical(body) for body in uow.log.read_entries(0, uow.log.size())]
    assert [entry.seq for entry in entries] == list(range(WRITERS * APPENDS))
    for earlier, later in zip(entries, entries[1:], strict=False):
        assert later.prev_hash == earlier.entry_hash()


def failing_write(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        uow.log.append("test.note", {"n": 1}, actor="test")
        raise RuntimeError("the operation failed")


def test_a_turn_ends_when_its_unit_of_work_fails(engine: Engine, backend: str) -> None:
    with pytest.raises(RuntimeError):
        failing_write(engine)
    end = db.take_writer_turn(engine)  # would wait WRITER_TURN_TIMEOUT if the turn were held
    end()
    if backend == "sqlite":
        assert not db._WRITER_TURNS[engine].locked()
    else:
        assert engine not in db._WRITER_TURNS


def test_a_writer_goes_on_without_its_turn_after_the_timeout(
    engine: Engine, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("turns exist on SQLite only")
    monkeypatch.setattr(db, "WRITER_TURN_TIMEOUT", 0.05)
    held = db.take_writer_turn(engine)
    try:
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            uow.log.append("test.note", {"n": 1}, actor="test")
            uow.commit()
    finally:
        held()
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.log.size() == 1
