"""Reconciliation's verification of a counterpart (ledger/accounting/reconciliation.py) on
in-memory storage: a counterpart that serves entries other than the ones it signed (not proven
in its checkpoint's tree, out of order, twice, pages that do not advance), or a checkpoint
inconsistent with the one this instance witnessed, is not compared."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from ledger.accounting.reconciliation import EntriesPage, ProvenEntry, reconcile
from ledger.errors import PartyNotFound
from ledger.log import keys, note
from ledger.log.checkpoints import checkpoint_of
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.ports import WitnessedCheckpoint
from tests.fakes import FakeUnitOfWork

ORIGIN = "registry.example.th/log"
LOG = note.Signer(keys.generate_signer(ORIGIN)[0])


class FakeCounterpart:
    """A counterpart log on a fake unit of work, serving its entries (all of them: the fake
    has no entry index) in pages of ``page``, with ``served`` replacing what it serves when
    set and ``stuck`` making every page point back at its start."""

    def __init__(self, entries: int, page: int = 3) -> None:
        self.uow = FakeUnitOfWork()
        self.page = page
        self.served: list[ProvenEntry] | None = None
        self.checkpoint_size: int | None = None
        self.stuck = False
        with self.uow as uow:
            for number in range(entries):
                uow.log.append("test.note", {"n": number}, "test")
            uow.commit()

    def checkpoint(self) -> str:
        return sign_checkpoint(checkpoint_of(self.uow.log, ORIGIN, self.checkpoint_size), [LOG])

    def proven(self, tree_size: int) -> list[ProvenEntry]:
        log = self.uow.log
        return [
            ProvenEntry(seq, body, tuple(log.inclusion_proof(seq, tree_size)))
            for seq, body in enumerate(log.read_entries(0, tree_size))
        ]

    def party_entries(self, party: str, tree_size: int, start: int) -> EntriesPage:
        assert party == "THA"
        entries = self.served if self.served is not None else self.proven(tree_size)
        position = next((n for n, e in enumerate(entries) if e.index >= start), len(entries))
        page = entries[position : position + self.page]
        more = position + self.page < len(entries)
        next_start = start if self.stuck else (page[-1].index + 1 if more else None)
        return EntriesPage(tuple(page), next_start)

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
    counterpart = FakeCounterpart(7, page=100)  # one page: what is served, as served
    entries = counterpart.proven(7)
    tampered = ProvenEntry(4, entries[4].body.replace(b'"n":4', b'"n":9'), entries[4].audit_path)
    counterpart.served = [*entries[:4], tampered, *entries[5:]]
    failure = run(counterpart)
    assert failure is not None
    assert failure.startswith(
        "entry 4 the counterpart served is not proven in its checkpoint of tree size 7"
    )
    counterpart.served = [*entries[:3], entries[4], entries[3], *entries[5:]]
    failure = run(counterpart)
    assert failure is not None
    assert "served entry 3 after entry 4" in failure
    counterpart.served = [*entries[:3], entries[2], *entries[3:]]
    failure = run(counterpart)
    assert failure is not None
    assert "served entry 2 after entry 2" in failure
    # An entry proven in another (older) tree than the checkpoint's.
    counterpart.served = [*entries[:5], *counterpart.proven(6)[5:6]]
    failure = run(counterpart)
    assert failure is not None
    assert "entry 5 the counterpart served is not proven" in failure


def test_a_counterpart_whose_pages_do_not_advance_is_not_compared() -> None:
    counterpart = FakeCounterpart(7)
    counterpart.stuck = True
    failure = run(counterpart)
    assert failure is not None
    assert "page from 0 does not advance" in failure


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
