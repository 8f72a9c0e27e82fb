"""The cost-per-action benchmark's histories: imported on SQLite by the bulk import path and,
for PostgreSQL, copied table by table from that ledger. Both must be ledgers ``verify-db``
accepts, the same log, and ones the service keeps writing to."""

from __future__ import annotations

from pathlib import Path

from bench import actions
from bench.cache import copy_to_postgresql
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database

HISTORY = 9  # history actions: 9 transfers and 2 uses


def test_a_built_history_is_one_verify_db_accepts(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "history.db"
    actions.build_sqlite(source, HISTORY)
    built = create_ledger_engine(f"sqlite:///{source}")
    try:
        with SqlAlchemyUnitOfWork(built, write=False) as uow:
            size = uow.log.size()
            root = uow.log.root(size)
            japan = len(uow.projection.held_blocks("JPN01-GOV"))
    finally:
        built.dispose()
    if backend == "postgresql":
        copy_to_postgresql(source, database_url)
        url = database_url
    else:
        url = f"sqlite:///{source}"
    engine = create_ledger_engine(url)
    try:
        report = verify_database(engine)
        assert (report.ok, report.tree_size) == (True, size), report
        with SqlAlchemyUnitOfWork(engine, write=False) as uow:
            assert uow.log.root(size) == root
            assert len(uow.projection.held_blocks("JPN01-GOV")) == japan >= HISTORY - 2
        for action in ("transfer", "use"):  # the measured actions, by the service path
            actions.one(engine, action)
        assert verify_database(engine).ok
    finally:
        engine.dispose()


def test_the_history_file_holds_a_use_after_every_fourth_transfer() -> None:
    lines = actions.history_file(8).decode().splitlines()
    every_fourth = ["transfer"] * 4 + ["use"]
    assert [line.split('"')[3] for line in lines] == every_fourth * 2
