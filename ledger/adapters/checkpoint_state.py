"""The log's signed-tree state in a file (``ledger.log.checkpoints.CheckpointState``).

The largest tree the log has signed (size and root) is kept outside the database, in a small
file beside the signer key, so that a rewrite of the database cannot make the log sign a
checkpoint inconsistent with one it already published. Writes are atomic (temporary file, fsync,
rename, fsync of the directory) and serialised across threads and processes.
"""

from __future__ import annotations

import base64
import fcntl
import os
import tempfile
import threading
from pathlib import Path

from ledger.log.checkpoints import InconsistentCheckpointRefused

_THREAD_LOCKS: dict[str, threading.Lock] = {}


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
