"""Run actions on the registry world in a ``FakeUnitOfWork`` and inspect its ledger: the in-memory
counterparts of ``tests.integration.registry.world``'s ``write`` and ``assert_nothing_changed``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import pytest

from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    Party,
    Registry,
    UnitBlock,
)
from tests.fakes import FakeUnitOfWork
from tests.registry_world import NOW, at

T = TypeVar("T")


def act(uow: FakeUnitOfWork, action: Callable[[UnitOfWork], T], *, when: datetime = NOW) -> T:
    """Run ``action`` in the unit of work at ``when`` and commit it."""
    uow.clock = at(when)
    with uow:
        result = action(uow)
        uow.commit()
    return result


@dataclass(frozen=True)
class State:
    """Everything a refused action must leave as it was: the log and the whole projection."""

    entries: tuple[bytes, ...]
    root: bytes
    parties: tuple[Party, ...]
    registries: tuple[Registry, ...]
    approaches: tuple[CooperativeApproach, ...]
    authorizations: tuple[Authorization, ...]
    entities: tuple[AuthorizedEntity, ...]
    accounts: tuple[Account, ...]
    blocks: tuple[UnitBlock, ...]


def state(uow: FakeUnitOfWork) -> State:
    p = uow.projection
    return State(
        tuple(uow.log.read_entries(0, uow.log.size())),
        uow.log.root(uow.log.size()),
        tuple(p.parties()),
        tuple(p.registries()),
        tuple(p.cooperative_approaches()),
        tuple(p.authorizations()),
        tuple(p.entities()),
        tuple(p.accounts()),
        tuple(p.active_blocks()),
    )


def assert_refused(
    uow: FakeUnitOfWork,
    action: Callable[[UnitOfWork], object],
    error: type[LedgerError],
    rule: str,
    *,
    when: datetime = NOW,
) -> LedgerError:
    """``action`` raises exactly ``error`` (whose ``rule`` is ``rule``), and the log and the
    projection are as they were."""
    before = state(uow)
    with pytest.raises(LedgerError) as caught:
        act(uow, action, when=when)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    assert caught.value.rule == rule
    assert state(uow) == before
    return caught.value


def entries(uow: FakeUnitOfWork, start: int = 0) -> list[Entry]:
    return [Entry.from_canonical(b) for b in uow.log.read_entries(start, uow.log.size())]


def kinds_since(uow: FakeUnitOfWork, start: int) -> list[str]:
    return [e.kind for e in entries(uow, start)]


def holdings(uow: FakeUnitOfWork) -> dict[str, list[tuple[int, int, bool]]]:
    """Per account: the (first, last, retired) ranges of its active blocks, sorted."""
    out: dict[str, list[tuple[int, int, bool]]] = {}
    for block in uow.projection.active_blocks():
        out.setdefault(block.account_id, []).append((block.first, block.last, block.retired))
    return {k: sorted(v) for k, v in sorted(out.items())}
