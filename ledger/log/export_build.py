"""Building a signed export (format: ``ledger.log.export_format``) from the log: its members as
bytes, every entry with its inclusion proof in the current checkpoint, and a signed manifest.
``ledger.adapters.export_files`` packs the members into the ZIP a client downloads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from ledger.log import note
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.log.chain import Entry, format_timestamp
from ledger.log.encoding import b64encode
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    EXPORT_FORMAT,
    FORMATS,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    PROOFS_FILE,
    ExportRangeInvalid,
    ExportSourceInvalid,
    manifest_signature_text,
)
from ledger.log.merkle import (
    ConsistencyProofInvalid,
    leaf_hash,
    node_hash,
    split_point,
    verify_consistency,
)
from ledger.log.merkle_range import RangeProofInvalid, outside_nodes
from ledger.log.merkle_store import inclusion_ranges
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint


class LogReader(Protocol):
    """What an export reads from the log: the read half of :class:`ledger.ports.LedgerLog`."""

    def size(self) -> int: ...

    def read_entries(self, start: int, end: int) -> list[bytes]: ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def range_inclusion_proofs(
    leaf_hashes: Sequence[bytes],
    start: int,
    size: int,
    first_proof: Sequence[bytes],
    last_proof: Sequence[bytes],
) -> tuple[bytes, list[list[bytes]]]:
    """Inclusion proofs of every leaf ``start .. start+len(leaf_hashes)-1`` of the tree of
    ``size``, from the leaf hashes and the proofs of the first and the last leaf only.

    A subtree of the RFC 9162 tree that holds no leaf of the range, but whose parent does, is a
    left sibling on the first leaf's path or a right sibling on the last leaf's path; every other
    node any proof needs is computed from the leaves. Returns the root the nodes imply (which
    the caller compares with the log's root) and the proofs, leaf level first.
    """
    end = start + len(leaf_hashes)
    if not 0 <= start < end <= size:
        raise ExportRangeInvalid(
            f"leaf range [{start}, {end}) is empty or not within the tree of size {size}",
            start=start,
            end=end,
            tree_size=size,
        )
    try:
        known = outside_nodes(start, end, size, first_proof, last_proof)
    except RangeProofInvalid as exc:
        raise ExportSourceInvalid(
            f"the log's boundary proofs are malformed: {exc.message}",
            index=exc.details.get("index"),
            tree_size=size,
        ) from exc
    memo: dict[tuple[int, int], bytes] = {}

    def subtree(low: int, high: int) -> bytes:
        key = (low, high)
        value = memo.get(key) or known.get(key)
        if value is not None:
            return value
        if high <= start or low >= end:  # unreachable unless the recursion above is wrong
            raise ExportSourceInvalid(f"no hash for the subtree [{low}, {high})", low=low)
        if high - low == 1:
            value = leaf_hashes[low - start]
        else:
            middle = low + split_point(high - low)
            value = node_hash(subtree(low, middle), subtree(middle, high))
        memo[key] = value
        return value

    root = subtree(0, size)
    proofs = [
        [subtree(low, high) for low, high in inclusion_ranges(i, size)] for i in range(start, end)
    ]
    return root, proofs


def json_file(value: JsonValue) -> bytes:
    return canonical_bytes(value) + b"\n"


def _file_record(data: bytes) -> dict[str, JsonValue]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def consistency_member(
    log: LogReader, signer: note.Signer, origin: str, previous_size: int, size: int, root: bytes
) -> bytes:
    """``consistency.json``: the signed checkpoint of ``previous_size`` and the log's consistency
    proof to ``size``, which must verify (else :class:`ExportSourceInvalid`, nothing signed)."""
    previous_root = log.root(previous_size)
    proof = log.consistency_proof(previous_size, size)
    try:
        verify_consistency(previous_size, size, proof, previous_root, root)
    except ConsistencyProofInvalid as exc:
        raise ExportSourceInvalid(
            f"the log's consistency proof does not verify: {exc.message}",
            previous_size=previous_size,
            tree_size=size,
        ) from exc
    previous = Checkpoint(origin=origin, size=previous_size, root_hash=previous_root)
    return json_file(
        {
            "first": previous_size,
            "previous_checkpoint": sign_checkpoint(previous, [signer]),
            "proof": [b64encode(h) for h in proof],
            "second": size,
        }
    )


def check_range(start: int, end: int, size: int, previous_size: int | None) -> None:
    if any(isinstance(value, bool) for value in (start, end, previous_size)):
        raise ExportRangeInvalid("start, end and previous size must be integers, not booleans")
    if not 0 <= start < end <= size:
        raise ExportRangeInvalid(
            f"the range [{start}, {end}) is empty or not within the log of size {size}",
            start=start,
            end=end,
            tree_size=size,
        )
    if previous_size is not None and not 0 < previous_size <= size:
        raise ExportRangeInvalid(
            f"previous tree size {previous_size} must be in 1..{size}: a consistency proof "
            "from the empty tree is meaningless and a later tree cannot be proven yet",
            previous_size=previous_size,
            tree_size=size,
        )


def build_export(
    log: LogReader,
    signer: note.Signer,
    origin: str,
    start: int,
    end: int,
    previous_size: int | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, bytes]:
    """The members of the signed export of entries ``[start, end)``, proven against the checkpoint
    of the log's current size, with a consistency proof from ``previous_size`` when given.

    Raises :class:`ExportRangeInvalid` for a bad range and :class:`ExportSourceInvalid` when the
    log's entries and proofs do not reproduce its root (the export is then not signed).
    """
    size = log.size()
    check_range(start, end, size, previous_size)
    bodies = log.read_entries(start, end)
    if len(bodies) != end - start:
        raise ExportSourceInvalid(
            f"the log returned {len(bodies)} entries for [{start}, {end})", start=start, end=end
        )
    root = log.root(size)
    root_from_nodes, proofs = range_inclusion_proofs(
        [leaf_hash(body) for body in bodies],
        start,
        size,
        log.inclusion_proof(start, size),
        log.inclusion_proof(end - 1, size),
    )
    if root_from_nodes != root:
        raise ExportSourceInvalid(
            f"the entries [{start}, {end}) and the log's proofs lead to root "
            f"{b64encode(root_from_nodes)}, not the log's root {b64encode(root)} at size {size}",
            tree_size=size,
        )
    first, last = Entry.from_canonical(bodies[0]), Entry.from_canonical(bodies[-1])
    checkpoint = Checkpoint(origin=origin, size=size, root_hash=root)

    files: dict[str, bytes] = {
        ENTRIES_FILE: b"".join(body + b"\n" for body in bodies),
        CHECKPOINT_FILE: sign_checkpoint(checkpoint, [signer]).encode("utf-8"),
        PROOFS_FILE: b"".join(
            json_file(
                {"audit_path": [b64encode(h) for h in path], "leaf_index": seq, "tree_size": size}
            )
            for seq, path in zip(range(start, end), proofs, strict=True)
        ),
    }
    if previous_size is not None:
        files[CONSISTENCY_FILE] = consistency_member(log, signer, origin, previous_size, size, root)

    manifest = json_file(
        {
            "created_at": format_timestamp(clock()),
            "files": {name: _file_record(data) for name, data in sorted(files.items())},
            "filters": {"end": end, "start": start},
            "first_seq": start,
            "format": EXPORT_FORMAT,
            "formats": FORMATS,
            "key_id": f"{signer.key_id:08x}",
            "key_name": signer.name,
            "last_seq": end - 1,
            "origin": origin,
            "previous_tree_size": previous_size,
            "root_hash": b64encode(root),
            "row_count": end - start,
            "time_range": {
                "first": format_timestamp(first.timestamp),
                "last": format_timestamp(last.timestamp),
            },
            "tree_size": size,
        }
    )
    files[MANIFEST_FILE] = manifest
    files[MANIFEST_SIGNATURE_FILE] = note.sign_note(
        manifest_signature_text(manifest), [signer]
    ).encode("utf-8")
    return files
