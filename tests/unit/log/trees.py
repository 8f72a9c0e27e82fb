"""RFC 9162 test trees shared by the Merkle tests: the published vectors and their leaves."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.log.merkle_store import MemoryNodeStore, MerkleAppender

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "rfc9162"
VECTOR_FILES = sorted(VECTOR_DIR.rglob("*.json"))

# The eight leaves of the transparency-dev/merkle happy-path trees (verifiable-log.md §4).
RFC_LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def load_vector(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def build_store(leaf_hashes: Sequence[bytes]) -> MemoryNodeStore:
    store = MemoryNodeStore()
    appender = MerkleAppender(store, 0)
    for value in leaf_hashes:
        store.put_many(appender.append(value))
    return store
