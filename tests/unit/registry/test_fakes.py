"""The in-memory fakes of the storage ports keep the real hash chain and Merkle tree, and roll back
as the SQL unit of work does."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from ledger.log import merkle
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash, verify_chain
from ledger.log.merkle_store import TreeSizeOutOfRange
from ledger.ports import LedgerLog, UnitOfWork
from ledger.registry.model import Party
from ledger.registry.projection import InMemoryProjection, ProjectionRepository
from tests.fakes import FakeLedgerLog, FakeUnitOfWork

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def ticking() -> FakeLedgerLog:
    """A log whose clock moves one second per entry."""
    seconds = count()
    return FakeLedgerLog(lambda: START + timedelta(seconds=next(seconds)))


def filled(n: int) -> FakeLedgerLog:
    log = ticking()
    for i in range(n):
        log.append("test.note", {"n": i}, f"actor-{i % 3}")
    return log


def leaves(log: FakeLedgerLog, size: int) -> list[bytes]:
    return [merkle.leaf_hash(body) for body in log.read_entries(0, size)]


class TestFakeLedgerLog:
    def test_appends_a_hash_chain(self) -> None:
        log = filled(9)
        bodies = log.read_entries(0, log.size())
        assert verify_chain(bodies) is None
        first = Entry.from_canonical(bodies[0])
        assert first.prev_hash == GENESIS_PREV_HASH
        assert first.timestamp == START
        assert log.head_hash() == entry_hash(bodies[-1])

    def test_append_reports_the_entry_and_the_tree_that_includes_it(self) -> None:
        log = filled(4)
        appended = log.append("test.note", {"n": 4}, "actor")
        assert (appended.seq, appended.kind, appended.tree_size) == (4, "test.note", 5)
        assert appended.entry_hash == entry_hash(log.read_entries(4, 5)[0])

    def test_root_is_the_rfc_9162_tree_hash_at_every_size(self) -> None:
        log = filled(33)
        for size in range(34):
            assert log.root(size) == merkle.root_from_leaf_hashes(leaves(log, size))

    def test_inclusion_proofs_verify(self) -> None:
        log = filled(21)
        for size in (1, 2, 7, 8, 21):
            root = log.root(size)
            for index in range(size):
                proof = log.inclusion_proof(index, size)
                merkle.verify_inclusion(leaves(log, size)[index], index, size, proof, root)

    def test_consistency_proofs_verify(self) -> None:
        log = filled(21)
        for size2 in (1, 5, 8, 16, 21):
            for size1 in range(1, size2 + 1):
                proof = log.consistency_proof(size1, size2)
                merkle.verify_consistency(size1, size2, proof, log.root(size1), log.root(size2))

    def test_reads_select_by_seq_range_like_the_sql_query(self) -> None:
        log = filled(5)
        bodies = log.read_entries(0, 5)
        assert log.read_entries(-3, 2) == bodies[:2]
        assert log.read_entries(3, 99) == bodies[3:]
        assert log.read_entries(4, 2) == []
        assert log.read_entries(0, -1) == []

    @pytest.mark.parametrize(
        "call",
        [
            lambda log: log.root(6),
            lambda log: log.root(-1),
            lambda log: log.inclusion_proof(5, 5),
            lambda log: log.inclusion_proof(-1, 5),
            lambda log: log.inclusion_proof(0, 6),
            lambda log: log.consistency_proof(0, 5),
            lambda log: log.consistency_proof(4, 3),
            lambda log: log.consistency_proof(1, 6),
        ],
    )
    def test_refuses_sizes_and_indexes_outside_the_log(
        self, call: Callable[[FakeLedgerLog], object]
    ) -> None:
        log = filled(5)
        with pytest.raises(TreeSizeOutOfRange) as caught:
            call(log)
        assert caught.value.rule == "tree-size"

    def test_truncate_leaves_the_log_it_had_at_that_size(self) -> None:
        log = filled(13)
        kept = log.read_entries(0, 6)
        roots = [log.root(size) for size in range(7)]
        log.truncate(6)
        assert log.size() == 6
        assert log.read_entries(0, 99) == kept
        assert [log.root(size) for size in range(7)] == roots
        assert log.head_hash() == entry_hash(kept[-1])
        log.append("test.note", {"n": "again"}, "actor")
        assert verify_chain(log.read_entries(0, 7)) is None
        assert log.root(7) == merkle.root_from_leaf_hashes(leaves(log, 7))


def party(code: str) -> Party:
    return Party(code, f"Party {code}")


def record_party(uow: FakeUnitOfWork, code: str) -> None:
    uow.log.append("party.registered", {"party": {"code": code}}, "test")
    uow.projection.put_party(party(code))


class TestFakeUnitOfWork:
    def test_commit_keeps_what_was_recorded(self) -> None:
        uow = FakeUnitOfWork(lambda: START)
        with uow:
            record_party(uow, "JPN")
            uow.commit()
        assert uow.log.size() == 1
        assert uow.projection.parties() == [party("JPN")]
        assert uow.commits == 1

    def test_rollback_discards_everything_since_the_last_commit(self) -> None:
        uow = FakeUnitOfWork(lambda: START)
        with uow:
            record_party(uow, "JPN")
            uow.commit()
            root = uow.log.root(1)
            record_party(uow, "THA")
            record_party(uow, "MNG")
            uow.rollback()
            assert uow.log.size() == 1
            assert uow.log.root(1) == root
            assert uow.projection.parties() == [party("JPN")]

    def test_an_exception_discards_the_unit_of_work(self) -> None:
        uow = FakeUnitOfWork(lambda: START)

        def refused_action() -> None:
            with uow:
                record_party(uow, "JPN")
                raise RuntimeError("refused")

        with pytest.raises(RuntimeError):
            refused_action()
        assert uow.log.size() == 0
        assert uow.projection.parties() == []

    def test_leaving_without_commit_discards_like_the_sql_unit_of_work(self) -> None:
        uow = FakeUnitOfWork(lambda: START)
        with uow:
            record_party(uow, "JPN")
        assert uow.log.size() == 0
        assert uow.projection.get_party("JPN") is None

    def test_appends_after_a_rollback_continue_the_committed_chain(self) -> None:
        kept, discarded = FakeUnitOfWork(lambda: START), FakeUnitOfWork(lambda: START)
        with kept:
            record_party(kept, "JPN")
            record_party(kept, "THA")
            kept.commit()
        with discarded:
            record_party(discarded, "JPN")
            discarded.commit()
            record_party(discarded, "MNG")
            discarded.rollback()
            record_party(discarded, "THA")
            discarded.commit()
        assert discarded.log.read_entries(0, 2) == kept.log.read_entries(0, 2)
        assert discarded.log.root(2) == kept.log.root(2)

    def test_now_is_the_clock_of_the_entries(self) -> None:
        uow = FakeUnitOfWork(lambda: START)
        uow.clock = lambda: START + timedelta(days=1)
        with uow:
            record_party(uow, "JPN")
            uow.commit()
        assert uow.now() == START + timedelta(days=1)
        assert Entry.from_canonical(uow.log.read_entries(0, 1)[0]).timestamp == uow.now()


def public_members(cls: type) -> dict[str, inspect.Signature | None]:
    return {
        name: inspect.signature(member) if callable(member) else None
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("port", "fake"),
    [
        (ProjectionRepository, InMemoryProjection),
        (LedgerLog, FakeLedgerLog),
        (UnitOfWork, FakeUnitOfWork),
    ],
)
def test_fakes_have_every_member_of_their_port(port: type, fake: type) -> None:
    """mypy checks the types (``FakeUnitOfWork.projection`` is typed as the port); this checks
    the names and parameters even where the tests are not type-checked."""
    fake_members = public_members(fake)
    for name, signature in public_members(port).items():
        assert name in fake_members, f"{fake.__name__} lacks {name}"
        fake_signature = fake_members[name]
        if signature is not None and fake_signature is not None:
            assert list(signature.parameters) == list(fake_signature.parameters), name
