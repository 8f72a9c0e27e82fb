"""The signed-tree state file (ledger/adapters/checkpoint_state.py): atomic, never backwards."""

from __future__ import annotations

import threading
from pathlib import Path

from ledger.adapters.checkpoint_state import FileCheckpointState


def test_checkpoint_state_never_goes_backwards_under_concurrent_signing(tmp_path: Path) -> None:
    state = FileCheckpointState(tmp_path / "state")
    sizes = list(range(1, 200))
    threads = [
        threading.Thread(target=state.record_signed, args=(size, bytes([size % 256]) * 32))
        for size in reversed(sizes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state.last_signed() == (199, bytes([199]) * 32)
