"""Reconciliation's verification of a counterpart (ledger/accounting/reconciliation.py) on
in-memory storage: a counterpart that serves entries other than the ones it signed, fewer of
them, or a checkpoint inconsistent with the one this instance witnessed, is not compared."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from ledger.accounting.reconciliation import reconcile
from ledger.errors import PartyNotFound
from ledger.log import keys, note
from ledger.log.checkpoints import checkpoint_of
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.ports import WitnessedCheckpoint
from tests.fakes import FakeUnitOfWork

ORIGIN = "registry.example.th/log"
LOG = note.Signer(keys.generate_signer(ORIGIN)[0])


class FakeCounterpart:
    """A counterpart log on a fake unit of work, serving pages of ``page`` entries, with
    ``served`` replacing what it serves when set."""

    def __init__(self, entries: int, page: int = 3) -> None:
        self.uow = FakeUnitOfWork()
        self.page = page
        self.served: list[bytes] | None = None
        self.checkpoint_size: int | None = None
        with self.uow as uow:
            for number in range(entries):
                uow.log.append("test.note", {"n": number}, "test")
            uow.commit()

    def checkpoint(self) -> str:
        return sign_checkpoint(checkpoint_of(self.uow.log, ORIGIN, self.checkpoint_size), [LOG])

    def entries(self, start: int, end: int) -> list[bytes]:
        bodies = self.served if self.served is not None else self.uow.log.read_entries(0, end)
        return bodies[start : min(end, start + self.page)]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return self.uow.log.consistency_proof(first, second)


def run(counterpart: FakeCounterpart, own: FakeUnitOfWork | None = None) -> str | None:
    outcome = reconcile(
        own or FakeUnitOfWork(), "JPN", "THA", 2026, counterpart, [note.Verifier(LOG.vkey)]
    )
    assert not outcome.matches
    return outcome.failure


def witnessed(size: int, root: bytes) -> FakeUnitOfWork:
    own = FakeUnitOfWork()
    signed = sign_checkpoint(Checkpoint(ORIGIN, size, root), [LOG])
    with own as uow:
        uow.witnessed.add(WitnessedCheckpoint(ORIGIN, size, root, signed, datetime.now(UTC)))
        uow.commit()
    return own


def test_entries_other_than_the_signed_ones_are_not_compared() -> None:
    counterpart = FakeCounterpart(7)
    bodies = counterpart.uow.log.read_entries(0, 7)
    counterpart.served = [*bodies[:3], bodies[4], bodies[3], *bodies[5:]]
    failure = run(counterpart)
    assert failure is not None
    assert "do not hash to the root of its checkpoint of tree size 7" in failure
    counterpart.served = bodies[:5]
    failure = run(counterpart)
    assert failure is not None
    assert "served no entry at seq 5" in failure


def test_a_checkpoint_inconsistent_with_the_witnessed_one_is_not_compared() -> None:
    counterpart = FakeCounterpart(7)
    other_root = hashlib.sha256(b"another history").digest()
    failure = run(counterpart, witnessed(7, other_root))
    assert failure is not None
    assert "its log forked" in failure
    failure = run(counterpart, witnessed(4, other_root))
    assert failure is not None
    assert "not proven consistent with the one of size 4" in failure


def test_a_consistent_counterpart_reaches_the_reports() -> None:
    counterpart = FakeCounterpart(7)
    log = counterpart.uow.log
    # Ahead of the size witnessed, or behind it (a checkpoint it served before): both are
    # proven consistent with it, and the reconciliation gets as far as this ledger's reports
    # (where no Party is registered).
    for own, size in ((witnessed(4, log.root(4)), None), (witnessed(7, log.root(7)), 5)):
        counterpart.checkpoint_size = size
        with pytest.raises(PartyNotFound):
            reconcile(own, "JPN", "THA", 2026, counterpart, [note.Verifier(LOG.vkey)])
