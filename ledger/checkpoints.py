"""Signed checkpoints of the log (C2SP tlog-checkpoint in a C2SP signed note)."""

from __future__ import annotations

from ledger import note
from ledger.ports import LedgerLog


def checkpoint_of(log: LedgerLog, origin: str, size: int | None = None) -> note.Checkpoint:
    tree_size = log.size() if size is None else size
    return note.Checkpoint(origin=origin, size=tree_size, root_hash=log.root(tree_size))


def signed_checkpoint(
    log: LedgerLog, signer: note.Signer, origin: str, size: int | None = None
) -> tuple[note.Checkpoint, str]:
    """The checkpoint at ``size`` (default: the current size) and its signed note.

    Ed25519 is deterministic and the log is append-only, so signing the same size twice gives the
    same note, and any two notes this log signs are consistent with each other.
    """
    checkpoint = checkpoint_of(log, origin, size)
    return checkpoint, note.sign_note(checkpoint.body(), [signer])
