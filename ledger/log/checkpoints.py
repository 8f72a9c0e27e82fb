"""Signed checkpoints of the log (C2SP tlog-checkpoint in a C2SP signed note).

A log must never sign two checkpoints that are inconsistent with each other
(verifiable-log.md §2). Every signing goes through :func:`guard_consistency`: the largest tree
the log has signed is remembered outside the database (:class:`CheckpointState`), and the log
refuses to sign anything while its storage no longer contains that tree, e.g. after history was
rewritten behind the service's back.
"""

from __future__ import annotations

from typing import Protocol

from ledger.errors import IntegrityError
from ledger.log import note
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.ports import LedgerLog


class InconsistentCheckpointRefused(IntegrityError):
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


def guard_consistency(log: LedgerLog, state: CheckpointState | None) -> None:
    """Refuse to sign unless the storage still holds the largest tree signed so far."""
    if state is None:
        return
    last = state.last_signed()
    if last is None:
        return
    size, root = last
    if log.size() < size or log.root(size) != root:
        raise InconsistentCheckpointRefused(
            f"the stored log no longer contains the signed tree of size {size}: refusing to "
            "sign; run `a6ledger verify-db`",
            signed_size=size,
        )


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
