"""The shared table of signed trees (ledger/adapters/sql/signed_trees.py) on both databases:
only larger trees are recorded, a tree the stored log does not hold is refused and recorded
nowhere, replicas (two states on two engines) see each other's records; and the command-line
writers refuse, in one line, while the signer's file knows a tree the database lost."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.cli import main
from app.settings import get_settings
from ledger.adapters.signing_state import open_signing_state
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.signed_trees import DatabaseCheckpointState
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log.checkpoints import InconsistentCheckpointRefused, guard_consistency
from tests.conftest import DatabaseFactory
from tests.integration.adapters.test_log import append_many


def now() -> datetime:
    return datetime(2026, 12, 7, tzinfo=UTC)


def roots(engine: Engine, *sizes: int) -> list[bytes]:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return [uow.log.root(size) for size in sizes]


@pytest.fixture
def replica_engine(database_url: str) -> Iterator[Engine]:
    engine = create_ledger_engine(database_url)
    yield engine
    engine.dispose()


def test_only_larger_trees_are_recorded_and_every_replica_sees_them(
    engine: Engine, replica_engine: Engine
) -> None:
    append_many(engine, 5)
    root3, root5 = roots(engine, 3, 5)
    first = DatabaseCheckpointState(engine, now)
    second = DatabaseCheckpointState(replica_engine, now)
    assert first.last_signed() is None
    first.record_signed(0, b"")  # the empty tree: nothing to remember
    first.record_signed(3, root3)
    assert second.last_signed() == (3, root3)
    second.record_signed(5, root5)
    first.record_signed(4, roots(engine, 4)[0])  # smaller than the largest: not recorded
    assert first.last_signed() == (5, root5)
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.log.largest_signed() == (5, root5)


def test_a_tree_the_stored_log_does_not_hold_is_refused_and_recorded_nowhere(
    engine: Engine,
) -> None:
    append_many(engine, 3)
    state = DatabaseCheckpointState(engine, now)
    with pytest.raises(InconsistentCheckpointRefused, match="size 2"):
        state.record_signed(2, bytes(32))
    with pytest.raises(InconsistentCheckpointRefused, match="size 4"):
        state.record_signed(4, bytes(32))
    assert state.last_signed() is None


def test_the_layers_together_remember_the_largest_tree(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    append_many(engine, 4)
    signing = open_signing_state(database_url, tmp_path / "state", now)
    try:
        (root4,) = roots(engine, 4)
        signing.everywhere.record_signed(4, root4)
        assert signing.database.last_signed() == (4, root4)
        assert signing.outside_database.last_signed() == (4, root4)
        assert (tmp_path / "state").read_text().split()[0] == "4"
        with SqlAlchemyUnitOfWork(engine, write=False) as uow:
            guard_consistency(uow.log, signing.everywhere)
    finally:
        signing.dispose()


def test_command_line_writers_refuse_while_the_signers_file_knows_a_lost_tree(
    database_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory.empty_url()
    state = tmp_path / "last-signed-checkpoint"
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", url)
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(tmp_path / "signer.key"))
    monkeypatch.setenv("A6LEDGER_CHECKPOINT_STATE_PATH", str(state))
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 0
        assert main(["tokens", "create", "--name", "first", "--role", "admin"]) == 0
        capsys.readouterr()
        # The signer signed a tree of 5 entries this database never held (a restored backup).
        state.write_text(f"5 {base64.b64encode(bytes(32)).decode()}\n")
        assert main(["tokens", "create", "--name", "second", "--role", "admin"]) == 1
        opened, refused = capsys.readouterr().err.splitlines()  # the database, one refusal
        assert opened.startswith("a6ledger: database ")
        assert "no longer contains the signed tree of size 5" in refused
    finally:
        get_settings.cache_clear()
        database_factory.drop(url)
