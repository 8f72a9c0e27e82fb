"""Building signed exports (ledger/log/export_build.py, verifiable-log.md §5) from an in-memory
log: the members, their proofs, and what the builder refuses to sign."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

import pytest

from ledger.log import merkle, note
from ledger.log.chain import entry_hash
from ledger.log.export_build import build_export, range_inclusion_proofs
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    PROOFS_FILE,
    ExportRangeInvalid,
    ExportSourceInvalid,
)
from ledger.log.export_verify import verify_export_files
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from tests.unit.log.memory_log import ORIGIN, SIGNER, VKEY, MemoryLog, fixed_clock, memory_log


@pytest.fixture(scope="module")
def log() -> MemoryLog:
    return memory_log(23)


@pytest.fixture(scope="module")
def export(log: MemoryLog) -> dict[str, bytes]:
    """Entries [5, 17) of a tree of 23, with a consistency proof from size 9."""
    return build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9, clock=fixed_clock)


def files_of(export: Mapping[str, bytes]) -> dict[str, bytes]:
    """A copy of an export's members, to alter."""
    return dict(export)


def test_a_range_with_consistency_verifies(export: dict[str, bytes], log: MemoryLog) -> None:
    report = verify_export_files(export, VKEY)
    assert (report.start, report.end, report.row_count) == (5, 17, 12)
    assert (report.origin, report.tree_size, report.root_hash) == (ORIGIN, 23, log.root(23))
    assert (report.key_name, report.key_id) == (SIGNER.name, SIGNER.key_id)
    assert report.head_hash == entry_hash(log.bodies[16])
    assert (report.previous_size, report.previous_root_hash) == (9, log.root(9))
    assert report.first_timestamp == "2026-03-01T09:05:00.000000Z"
    assert report.last_timestamp == "2026-03-01T09:16:00.000000Z"
    assert report.created_at == "2026-11-28T12:00:00.000000Z"
    assert report.files == (
        CHECKPOINT_FILE,
        CONSISTENCY_FILE,
        ENTRIES_FILE,
        MANIFEST_FILE,
        MANIFEST_SIGNATURE_FILE,
        PROOFS_FILE,
    )


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [(0, 23, None), (0, 1, None), (22, 23, 23), (0, 23, 1), (3, 4, 22), (16, 23, 16)],
)
def test_ranges_at_the_edges_verify(
    log: MemoryLog, start: int, end: int, previous: int | None
) -> None:
    data = build_export(log, SIGNER, ORIGIN, start, end, previous_size=previous)
    report = verify_export_files(data, VKEY)
    assert (report.start, report.end, report.previous_size) == (start, end, previous)
    assert (CONSISTENCY_FILE in report.files) == (previous is not None)


def test_a_one_entry_log_exports() -> None:
    log = memory_log(1)
    report = verify_export_files(build_export(log, SIGNER, ORIGIN, 0, 1, previous_size=1), VKEY)
    assert (report.tree_size, report.row_count, report.previous_size) == (1, 1, 1)


def test_files_hold_the_entries_the_checkpoint_and_standard_proofs(
    export: dict[str, bytes], log: MemoryLog
) -> None:
    files = files_of(export)
    assert files[ENTRIES_FILE] == b"".join(body + b"\n" for body in log.bodies[5:17])
    checkpoint, _ = open_checkpoint(files[CHECKPOINT_FILE], [note.Verifier(VKEY)])
    assert checkpoint == Checkpoint(ORIGIN, 23, log.root(23))
    proofs = [json.loads(line) for line in files[PROOFS_FILE].splitlines()]
    assert [p["leaf_index"] for p in proofs] == list(range(5, 17))
    for proof in proofs:
        path = [base64.b64decode(h) for h in proof["audit_path"]]
        assert path == log.inclusion_proof(proof["leaf_index"], 23)
    consistency = json.loads(files[CONSISTENCY_FILE])
    assert (consistency["first"], consistency["second"]) == (9, 23)
    assert [base64.b64decode(h) for h in consistency["proof"]] == log.consistency_proof(9, 23)
    manifest = json.loads(files[MANIFEST_FILE])
    assert manifest["filters"] == {"start": 5, "end": 17}
    assert (manifest["row_count"], manifest["first_seq"], manifest["last_seq"]) == (12, 5, 16)
    assert (manifest["origin"], manifest["tree_size"]) == (ORIGIN, 23)
    assert manifest["key_id"] == f"{SIGNER.key_id:08x}"
    assert manifest["root_hash"] == base64.b64encode(log.root(23)).decode()
    assert manifest["previous_tree_size"] == 9
    for name in (CHECKPOINT_FILE, CONSISTENCY_FILE, ENTRIES_FILE, PROOFS_FILE):
        listed = manifest["files"][name]
        assert listed == {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "size": len(files[name]),
        }
    signed, _ = note.open_note(files[MANIFEST_SIGNATURE_FILE], [note.Verifier(VKEY)])
    digest = hashlib.sha256(files[MANIFEST_FILE]).hexdigest()
    assert signed == f"a6ledger-export-manifest/v1\n{digest}\n"


@pytest.mark.parametrize("size", range(1, 14))
def test_range_proofs_equal_the_log_s_proofs_for_every_range(size: int) -> None:
    log = memory_log(size)
    leaves = [merkle.leaf_hash(body) for body in log.bodies]
    for start in range(size):
        for end in range(start + 1, size + 1):
            root, proofs = range_inclusion_proofs(
                leaves[start:end],
                start,
                size,
                log.inclusion_proof(start, size),
                log.inclusion_proof(end - 1, size),
            )
            assert root == log.root(size)
            assert proofs == [log.inclusion_proof(i, size) for i in range(start, end)]


def test_range_proofs_in_a_larger_tree() -> None:
    log = memory_log(1000)
    leaves = [merkle.leaf_hash(body) for body in log.bodies]
    for start, end in [(0, 1000), (1, 999), (511, 513), (300, 700), (998, 1000)]:
        _, proofs = range_inclusion_proofs(
            leaves[start:end],
            start,
            1000,
            log.inclusion_proof(start, 1000),
            log.inclusion_proof(end - 1, 1000),
        )
        for i in (start, (start + end) // 2, end - 1):
            assert proofs[i - start] == log.inclusion_proof(i, 1000)


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        (0, 0, None),
        (5, 5, None),
        (6, 5, None),
        (-1, 3, None),
        (0, 24, None),
        (0, 3, 0),
        (0, 3, 24),
        (0, 3, -2),
    ],  # fmt: skip
)
def test_bad_ranges_are_refused(log: MemoryLog, start: int, end: int, previous: int | None) -> None:
    with pytest.raises(ExportRangeInvalid):
        build_export(log, SIGNER, ORIGIN, start, end, previous_size=previous)


def test_the_builder_refuses_to_sign_entries_its_tree_does_not_hold() -> None:
    log = memory_log(10)
    log.bodies[4] = log.bodies[4].replace(b'"tonnes":1004', b'"tonnes":9004')
    with pytest.raises(ExportSourceInvalid, match="root"):
        build_export(log, SIGNER, ORIGIN, 2, 8)


def test_the_builder_refuses_a_log_that_loses_entries() -> None:
    log = memory_log(10)
    log.bodies.pop(3)
    log.size = lambda: 10  # type: ignore[method-assign]
    with pytest.raises(ExportSourceInvalid, match="returned 7 entries"):
        build_export(log, SIGNER, ORIGIN, 2, 10)
