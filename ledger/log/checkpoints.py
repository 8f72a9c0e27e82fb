"""Signed checkpoints of the log (C2SP tlog-checkpoint in a C2SP signed note).

A log must never sign two checkpoints that are inconsistent with each other
(verifiable-log.md §2). Every signing goes through :func:`guard_consistency`: the largest tree
the log has signed is remembered outside the database (:class:`CheckpointState`), and the log
refuses to sign anything while its storage no longer contains that tree, e.g. after history was
rewritten behind the service's back.
"""

from __future__ import annotations

import base64
import fcntl
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from ledger.errors import IntegrityError
from ledger.log import note
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.ports import LedgerLog

_THREAD_LOCKS: dict[str, threading.Lock] = {}


class InconsistentCheckpointRefused(IntegrityError):
    """The log's storage no longer contains the tree it last signed: signing now could publish
    a checkpoint inconsistent with one already published, so the log refuses to sign."""

    rule = "never-sign-inconsistent-checkpoints"


class CheckpointState(Protocol):
    def last_signed(self) -> tuple[int, bytes] | None: ...

    def record_signed(self, size: int, root: bytes) -> None: ...


class FileCheckpointState:
    """The largest signed tree (size and root), in a small file beside the signer key, written
    atomically. Keep it on storage the database administrators cannot rewrite."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def last_signed(self) -> tuple[int, bytes] | None:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        try:
            size_text, root_text = text.split()
            size, root = int(size_text), base64.b64decode(root_text, validate=True)
        except ValueError as exc:
            raise InconsistentCheckpointRefused(
                f"checkpoint state {self.path} is unreadable: {exc}"
            ) from exc
        if size < 0 or len(root) != 32:
            raise InconsistentCheckpointRefused(f"checkpoint state {self.path} is malformed")
        return size, root

    def record_signed(self, size: int, root: bytes) -> None:
        """Remember ``size`` if it is the largest signed so far. Read-compare-replace runs under
        a lock shared by threads (one lock per file) and processes (``flock`` on a lock file),
        so the state never goes backwards when requests sign concurrently."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _THREAD_LOCKS.setdefault(str(self.path.resolve()), threading.Lock()):
            with open(f"{self.path}.lock", "a", encoding="ascii") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                last = self.last_signed()
                if last is not None and last[0] >= size:
                    return
                fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".checkpoint-")
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(f"{size} {base64.b64encode(root).decode('ascii')}\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)


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
