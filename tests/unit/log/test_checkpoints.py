"""Layers of the largest signed tree (ledger/log/checkpoints.py): the guard checks every layer,
and signing records in each, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import MerkleTreeAheadOfLog
from ledger.log.checkpoints import (
    InconsistentCheckpointRefused,
    LayeredCheckpointState,
    MemoryCheckpointState,
    guard_consistency,
    signed_checkpoint,
)
from tests.fakes.log import FakeLedgerLog
from tests.unit.log.memory_log import ORIGIN, SIGNER


def log_of(size: int) -> FakeLedgerLog:
    log = FakeLedgerLog(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    for n in range(size):
        log.append("test.note", {"n": n}, "test")
    return log


def test_memory_remembers_only_the_largest_tree() -> None:
    memory = MemoryCheckpointState()
    assert memory.last_signed() is None
    memory.record_signed(5, b"5" * 32)
    memory.record_signed(3, b"3" * 32)
    assert memory.last_signed() == (5, b"5" * 32)


def test_the_guard_checks_every_layer_not_only_the_largest() -> None:
    log = log_of(6)
    small, large = MemoryCheckpointState(), MemoryCheckpointState()
    layered = LayeredCheckpointState(large, small)
    large.record_signed(6, log.root(6))
    small.record_signed(3, log.root(3))
    guard_consistency(log, layered)
    assert layered.last_signed() == (6, log.root(6))
    # A smaller tree one layer remembers, inconsistent with the stored log, is refused too.
    forged = MemoryCheckpointState()
    forged.record_signed(3, bytes(32))
    with pytest.raises(InconsistentCheckpointRefused, match="size 3"):
        guard_consistency(log, LayeredCheckpointState(large, LayeredCheckpointState(forged)))
    # A layer that remembers a larger tree than the log holds stops everything.
    ahead = MemoryCheckpointState()
    ahead.record_signed(7, bytes(32))
    with pytest.raises(InconsistentCheckpointRefused, match="size 7"):
        guard_consistency(log, LayeredCheckpointState(small, ahead))


def test_signing_records_in_every_layer() -> None:
    log = log_of(4)
    first, second = MemoryCheckpointState(), MemoryCheckpointState()
    checkpoint, _note = signed_checkpoint(
        log, SIGNER, ORIGIN, state=LayeredCheckpointState(first, second)
    )
    assert first.last_signed() == second.last_signed() == (4, checkpoint.root_hash)
    assert LayeredCheckpointState().last_signed() is None


def test_the_fake_log_refuses_to_append_over_a_leaf_beyond_its_end() -> None:
    log = log_of(3)
    log._bodies.pop()  # a deleted last entry, its Merkle leaf left behind
    log._hashes.pop()
    with pytest.raises(MerkleTreeAheadOfLog):
        log.append("test.note", {"n": 3}, "test")
