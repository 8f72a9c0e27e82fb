"""Run actions on the registry world in a database (``SqlAlchemyUnitOfWork``) and inspect the
ledger there. The world itself and the builders of actions are in ``tests.registry_world``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.log.checkpoints import checkpoint_of
from ledger.ports import UnitOfWork
from ledger.registry.model import UnitBlock
from tests.registry_world import NOW, ORIGIN, at

T = TypeVar("T")


# --- running actions -----------------------------------------------------------------------------


def write(engine: Engine, action: Callable[[UnitOfWork], T], *, when: datetime = NOW) -> T:
    """Run ``action`` in a writing unit of work and commit it."""
    with SqlAlchemyUnitOfWork(engine, write=True, clock=at(when)) as uow:
        result = action(uow)
        uow.commit()
    return result


def read(engine: Engine, query: Callable[[UnitOfWork], T]) -> T:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return query(uow)


@dataclass(frozen=True)
class Snapshot:
    size: int
    root: bytes
    blocks: tuple[UnitBlock, ...]


def snapshot(engine: Engine) -> Snapshot:
    def take(uow: UnitOfWork) -> Snapshot:
        checkpoint = checkpoint_of(uow.log, ORIGIN)
        return Snapshot(
            checkpoint.size, checkpoint.root_hash, tuple(uow.projection.active_blocks())
        )

    return read(engine, take)


def assert_nothing_changed(
    engine: Engine,
    action: Callable[[UnitOfWork], object],
    error: type[LedgerError],
    rule: str,
    *,
    when: datetime = NOW,
) -> LedgerError:
    """``action`` raises exactly ``error`` (whose ``rule`` is ``rule``) and the ledger size, its
    checkpoint root and the holdings projection are the same afterwards."""
    before = snapshot(engine)
    with (
        SqlAlchemyUnitOfWork(engine, write=True, clock=at(when)) as uow,
        pytest.raises(LedgerError) as caught,
    ):
        action(uow)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    assert caught.value.rule == rule
    after = snapshot(engine)
    assert after.size == before.size
    assert after.root == before.root
    assert after.blocks == before.blocks
    return caught.value


# --- reading the ledger --------------------------------------------------------------------------


def entries(engine: Engine, start: int = 0) -> list[Entry]:
    def load(uow: UnitOfWork) -> list[Entry]:
        return [Entry.from_canonical(b) for b in uow.log.read_entries(start, uow.log.size())]

    return read(engine, load)


def size(engine: Engine) -> int:
    return read(engine, lambda uow: uow.log.size())


def kinds_since(engine: Engine, start: int) -> list[str]:
    return [e.kind for e in entries(engine, start)]


def holdings(engine: Engine) -> dict[str, list[tuple[int, int, bool]]]:
    """Per account: the (first, last, retired) ranges of its active blocks, sorted."""

    def collect(uow: UnitOfWork) -> dict[str, list[tuple[int, int, bool]]]:
        out: dict[str, list[tuple[int, int, bool]]] = {}
        for block in uow.projection.active_blocks():
            out.setdefault(block.account_id, []).append((block.first, block.last, block.retired))
        return {k: sorted(v) for k, v in sorted(out.items())}

    return read(engine, collect)


def held_quantity(engine: Engine) -> dict[str, int]:
    return {
        account: sum(last - first + 1 for first, last, _ in ranges)
        for account, ranges in holdings(engine).items()
    }


def blocks_in(engine: Engine, account_id: str) -> list[UnitBlock]:
    return read(
        engine,
        lambda uow: [b for b in uow.projection.active_blocks() if b.account_id == account_id],
    )
