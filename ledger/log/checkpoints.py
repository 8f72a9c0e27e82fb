"""Signed checkpoints of the log (C2SP tlog-checkpoint in a C2SP signed note).

A log must never sign two checkpoints that are inconsistent with each other
(verifiable-log.md §2). Every signing goes through :func:`guard_consistency`: the largest tree
the log has signed is remembered in several places (:class:`CheckpointState` layers: the
database's ``signed_checkpoint`` table every replica shares, the signer's own file, the memory of
the process; :class:`LayeredCheckpointState`), and the log refuses to sign anything while its
storage no longer contains the largest tree any of them remembers, e.g. after history was
rewritten behind the service's back or the database was restored from an old backup. The same
guard refuses appends (``app/idempotency.py``), so no write is acknowledged on a history that
can never be signed. docs/architecture.md, "Signed checkpoints across replicas".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from ledger.errors import StoredLogRefused
from ledger.log import note
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.log.witnessed_trees import WitnessedTrees
from ledger.ports import LedgerLog


class InconsistentCheckpointRefused(StoredLogRefused):
    """The log's storage no longer contains the tree it last signed: signing now could publish
    a checkpoint inconsistent with one already published, so the log refuses to sign."""

    problem_type = "inconsistent-checkpoint-refused"
    title = "The log no longer holds the tree it last signed, so it refuses to sign"
    rule = "never-sign-inconsistent-checkpoints"


class CheckpointState(Protocol):
    """The largest tree the log has signed, kept where the database administrators cannot rewrite
    it (``ledger.adapters.checkpoint_state.FileCheckpointState`` keeps it in a file)."""

    def last_signed(self) -> tuple[int, bytes] | None:
        """Size and root of the largest tree signed so far, or ``None`` before the first."""
        ...

    def record_signed(self, size: int, root: bytes) -> None:
        """Remember the tree of ``size`` with ``root`` if it is the largest signed so far."""
        ...


class MemoryCheckpointState:
    """The largest tree this process signed: lost at exit, but no database restore can hide it
    from the running process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[int, bytes] | None = None

    def last_signed(self) -> tuple[int, bytes] | None:
        return self._last

    def record_signed(self, size: int, root: bytes) -> None:
        with self._lock:
            if self._last is None or self._last[0] < size:
                self._last = (size, root)


class LayeredCheckpointState:
    """Several memories of the largest signed tree, each kept where a different failure cannot
    erase it. ``last_signed`` is the largest any layer remembers; :func:`guard_consistency`
    checks the stored log against every layer; ``record_signed`` records in each, in order (the
    first that refuses stops the signature)."""

    def __init__(self, *layers: CheckpointState) -> None:
        self.layers: Sequence[CheckpointState] = layers

    def last_signed(self) -> tuple[int, bytes] | None:
        remembered = [last for layer in self.layers if (last := layer.last_signed()) is not None]
        return max(remembered, key=lambda last: last[0], default=None)

    def record_signed(self, size: int, root: bytes) -> None:
        for layer in self.layers:
            layer.record_signed(size, root)


def _remembered(state: CheckpointState) -> list[tuple[int, bytes]]:
    if isinstance(state, LayeredCheckpointState):
        return [tree for layer in state.layers for tree in _remembered(layer)]
    last = state.last_signed()
    return [] if last is None else [last]


def _layers(state: CheckpointState) -> list[CheckpointState]:
    if isinstance(state, LayeredCheckpointState):
        return [leaf for layer in state.layers for leaf in _layers(layer)]
    return [state]


def guard_consistency(log: LedgerLog, state: CheckpointState | None) -> None:
    """Refuse to sign (or append) unless the storage still holds the largest tree signed so far,
    as every layer of ``state`` remembers it, and every tree a partner witness cosigned
    (:class:`~ledger.log.witnessed_trees.WitnessedTrees`)."""
    if state is None:
        return
    checked: set[tuple[int, bytes]] = set()
    for size, root in sorted(_remembered(state), reverse=True):
        if (size, root) in checked:
            continue
        checked.add((size, root))
        if log.size() < size or log.root(size) != root:
            raise InconsistentCheckpointRefused(
                f"the stored log no longer contains the signed tree of size {size}: refusing to "
                "sign or append; run `a6ledger verify-db`",
                signed_size=size,
            )
    for layer in _layers(state):
        if isinstance(layer, WitnessedTrees):
            layer.check(log)


def checkpoint_of(log: LedgerLog, origin: str, size: int | None = None) -> Checkpoint:
    tree_size = log.size() if size is None else size
    return Checkpoint(origin=origin, size=tree_size, root_hash=log.root(tree_size))


def signed_checkpoint(
    log: LedgerLog,
    signer: note.Signer,
    origin: str,
    size: int | None = None,
    state: CheckpointState | None = None,
) -> tuple[Checkpoint, str]:
    """The checkpoint at ``size`` (default: the current size) and its signed note.

    Ed25519 is deterministic and the log is append-only, so signing the same size twice gives the
    same note; ``state`` makes sure the storage still extends every tree signed before.
    """
    guard_consistency(log, state)
    checkpoint = checkpoint_of(log, origin, size)
    signed = note.sign_note(checkpoint.body(), [signer])
    if state is not None:
        state.record_signed(checkpoint.size, checkpoint.root_hash)
    return checkpoint, signed
