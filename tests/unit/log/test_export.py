"""Signed exports (verifiable-log.md §5), built from an in-memory log and verified with the vkey
only; every tampering is reported by the file, and the entry seq where there is one."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.log import merkle, merkle_store, note
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash
from ledger.log.export import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    MANIFEST_SIGNATURE_HEADER,
    PROOFS_FILE,
    ExportConsistencyInvalid,
    ExportEntryInvalid,
    ExportFileHashMismatch,
    ExportFormatInvalid,
    ExportInclusionInvalid,
    ExportInvalid,
    ExportRangeInvalid,
    ExportSignatureInvalid,
    ExportSourceInvalid,
    build_export,
    pack_export,
    range_inclusion_proofs,
    unpack_export,
    verify_export,
    verify_export_files,
)
from ledger.log.keys import InvalidKey, format_skey, generate_signer
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner
from ledger.ports import AppendedEntry

ORIGIN = "a6ledger.test/unit"
SIGNER = note.Signer(format_skey(ORIGIN, bytes(range(32))))
VKEY = SIGNER.vkey
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class MemoryLog:
    """A tiny ``LedgerLog``: canonical entries, hash chain and an RFC 9162 tree in memory."""

    def __init__(self) -> None:
        self.store = merkle_store.MemoryNodeStore()
        self.appender = merkle_store.MerkleAppender(self.store, 0)
        self.bodies: list[bytes] = []
        self.head = GENESIS_PREV_HASH

    def append(self, kind: str, payload: Mapping[str, JsonValue], actor: str) -> AppendedEntry:
        seq = len(self.bodies)
        entry = Entry(seq, kind, T0 + timedelta(minutes=seq), actor, self.head, payload)
        body = entry.canonical_bytes()
        self.store.put_many(self.appender.append(merkle.leaf_hash(body)))
        self.bodies.append(body)
        self.head = entry_hash(body)
        return AppendedEntry(seq, kind, self.head, seq + 1)

    def size(self) -> int:
        return len(self.bodies)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        return self.bodies[start:end]

    def root(self, size: int) -> bytes:
        return merkle_store.tree_root(self.store, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle_store.inclusion_proof(self.store, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle_store.consistency_proof(self.store, size1, size2)


def memory_log(size: int, tag: str = "a") -> MemoryLog:
    log = MemoryLog()
    for n in range(size):
        log.append("test.entry", {"n": n, "tag": tag, "tonnes": 1000 + n}, "tester")
    return log


@pytest.fixture(scope="module")
def log() -> MemoryLog:
    return memory_log(23)


@pytest.fixture(scope="module")
def export(log: MemoryLog) -> bytes:
    """Entries [5, 17) of a tree of 23, with a consistency proof from size 9."""
    return build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9, clock=fixed_clock)


def files_of(data: bytes) -> dict[str, bytes]:
    return unpack_export(data)


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def resign_manifest(files: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> None:
    """Alter the manifest and sign it again with the log key (a builder gone wrong)."""
    manifest = json.loads(files[MANIFEST_FILE])
    change(manifest)
    data = canonical_bytes(manifest) + b"\n"
    files[MANIFEST_FILE] = data
    text = f"{MANIFEST_SIGNATURE_HEADER}\n{hashlib.sha256(data).hexdigest()}\n"
    files[MANIFEST_SIGNATURE_FILE] = note.sign_note(text, [SIGNER]).encode()


def relist(files: dict[str, bytes], *names: str) -> None:
    """Re-sign the manifest with the current size and SHA-256 of ``names``."""

    def change(manifest: dict[str, Any]) -> None:
        for name in names:
            manifest["files"][name] = {
                "sha256": hashlib.sha256(files[name]).hexdigest(),
                "size": len(files[name]),
            }

    resign_manifest(files, change)


def failure(files: Mapping[str, bytes], vkey: str = VKEY) -> ExportInvalid:
    with pytest.raises(ExportInvalid) as caught:
        verify_export(pack_export(files), vkey)
    return caught.value


# --- building and verifying ------------------------------------------------------------------


def test_a_range_with_consistency_verifies(export: bytes, log: MemoryLog) -> None:
    report = verify_export(export, VKEY)
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
    report = verify_export(data, VKEY)
    assert (report.start, report.end, report.previous_size) == (start, end, previous)
    assert (CONSISTENCY_FILE in report.files) == (previous is not None)


def test_a_one_entry_log_exports() -> None:
    log = memory_log(1)
    report = verify_export(build_export(log, SIGNER, ORIGIN, 0, 1, previous_size=1), VKEY)
    assert (report.tree_size, report.row_count, report.previous_size) == (1, 1, 1)


def test_files_hold_the_entries_the_checkpoint_and_standard_proofs(
    export: bytes, log: MemoryLog
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


def test_the_archive_is_deterministic(log: MemoryLog, export: bytes) -> None:
    again = build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9, clock=fixed_clock)
    assert again == export
    with zipfile.ZipFile(io.BytesIO(export)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_an_unpacked_directory_verifies_too(export: bytes) -> None:
    assert verify_export_files(files_of(export), VKEY).row_count == 12


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


# --- tampering: each failure names the file and the entry ------------------------------------


def test_a_changed_figure_in_an_entry_names_its_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    rows[3] = rows[3].replace(b'"tonnes":1008', b'"tonnes":1009')
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (ENTRIES_FILE, 8)
    assert "entries.jsonl, entry seq 8" in str(error)


@pytest.mark.parametrize("position", [0, 40, -3])
def test_a_flipped_byte_in_an_entry_names_its_seq(export: bytes, position: int) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    row = bytearray(rows[6])
    row[position] ^= 0x01
    rows[6] = bytes(row)
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid | ExportInclusionInvalid)
    assert (error.file, error.seq) == (ENTRIES_FILE, 11)


@pytest.mark.parametrize(
    "line", [b'{"seq":' + b"1" * 5000 + b"}\n", b"[" * 100_000 + b"]" * 100_000 + b"\n"]
)
def test_hostile_json_in_an_entry_names_its_seq(export: bytes, line: bytes) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    rows[2] = line
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 7


def test_hostile_json_in_a_proof_names_its_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[2] = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 7)


def test_a_removed_line_names_the_missing_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    del rows[4]
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 9
    assert "holds seq 10 where seq 9 belongs" in error.message


def test_a_removed_last_line_names_the_missing_seq(export: bytes) -> None:
    files = files_of(export)
    files[ENTRIES_FILE] = b"".join(lines(files[ENTRIES_FILE])[:-1])
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 16
    assert "missing" in error.message


def test_an_added_line_is_refused(export: bytes) -> None:
    files = files_of(export)
    files[ENTRIES_FILE] += lines(files[ENTRIES_FILE])[-1]
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 17
    assert "beyond the last entry" in error.message


def test_reordered_lines_name_the_first_seq_out_of_place(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    rows[2], rows[3] = rows[3], rows[2]
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 7


def test_a_broken_chain_link_names_its_seq() -> None:
    log = memory_log(6)
    forged = Entry.from_canonical(log.bodies[3])
    log.bodies[3] = Entry(
        forged.seq, forged.kind, forged.timestamp, forged.actor, bytes(32), forged.payload
    ).canonical_bytes()
    log.store = merkle_store.MemoryNodeStore()  # a tree built over the forged entry
    appender = merkle_store.MerkleAppender(log.store, 0)
    for body in log.bodies:
        log.store.put_many(appender.append(merkle.leaf_hash(body)))
    with pytest.raises(ExportEntryInvalid, match="hash chain is broken") as caught:
        verify_export(build_export(log, SIGNER, ORIGIN, 0, 6), VKEY)
    assert caught.value.seq == 3


def test_a_bad_genesis_link_is_refused() -> None:
    log = MemoryLog()
    log.head = b"\x07" * 32
    log.append("test.entry", {"n": 0}, "tester")
    with pytest.raises(ExportEntryInvalid, match="genesis") as caught:
        verify_export(build_export(log, SIGNER, ORIGIN, 0, 1), VKEY)
    assert caught.value.seq == 0


def test_swapped_proofs_name_the_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[5], rows[6] = rows[6], rows[5]
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 10)
    assert "proves leaf 11" in error.message


def test_an_altered_proof_hash_names_the_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    proof = json.loads(rows[2])
    proof["audit_path"][1] = base64.b64encode(bytes(32)).decode()
    rows[2] = canonical_bytes(proof) + b"\n"
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert error.seq == 7
    assert "proofs.jsonl line 3" in error.message


def test_a_missing_proof_line_names_the_seq(export: bytes) -> None:
    files = files_of(export)
    files[PROOFS_FILE] = b"".join(lines(files[PROOFS_FILE])[:-1])
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 16)


def test_a_malformed_proof_line_names_the_seq(export: bytes) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[0] = b'{"leaf_index": 5}\n'
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 5)


def test_a_wrong_checkpoint_signature_names_the_checkpoint(export: bytes) -> None:
    files = files_of(export)
    text = files[CHECKPOINT_FILE].decode()
    body, signature = text.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01
    files[CHECKPOINT_FILE] = f"{body} {base64.b64encode(raw).decode()}\n".encode()
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == CHECKPOINT_FILE
    assert "does not verify" in error.message


def test_a_checkpoint_signed_by_another_key_names_the_checkpoint(
    export: bytes, log: MemoryLog
) -> None:
    other = note.Signer(format_skey(ORIGIN, bytes(range(1, 33))))
    files = files_of(export)
    forged = Checkpoint(ORIGIN, 23, log.root(23))
    files[CHECKPOINT_FILE] = sign_checkpoint(forged, [other]).encode()
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == CHECKPOINT_FILE
    assert "no signature from a known key" in error.message


def test_a_checkpoint_for_another_tree_is_refused(export: bytes, log: MemoryLog) -> None:
    files = files_of(export)
    older = Checkpoint(ORIGIN, 22, log.root(22))
    files[CHECKPOINT_FILE] = sign_checkpoint(older, [SIGNER]).encode()
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert error.file == CHECKPOINT_FILE
    assert "not the manifest's" in error.message


def test_a_cosigned_checkpoint_no_longer_matches_the_manifest_hash(export: bytes) -> None:
    cosigner = Cosigner(format_skey("witness.example", bytes(32)), clock=lambda: 1)
    files = files_of(export)
    files[CHECKPOINT_FILE] = note.add_signatures(
        files[CHECKPOINT_FILE].decode(), [cosigner]
    ).encode()
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == CHECKPOINT_FILE


def test_a_manifest_hash_mismatch_names_the_file(export: bytes) -> None:
    files = files_of(export)
    resign_manifest(files, lambda m: m["files"][ENTRIES_FILE].update(sha256="ab" * 32))
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == ENTRIES_FILE
    assert "ab" * 32 in error.message


def test_an_altered_manifest_names_the_manifest(export: bytes) -> None:
    files = files_of(export)
    files[MANIFEST_FILE] = files[MANIFEST_FILE].replace(b'"row_count":12', b'"row_count":11')
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == MANIFEST_FILE


def test_an_unknown_key_names_the_manifest_signature(export: bytes) -> None:
    _, other_vkey = generate_signer(ORIGIN)
    error = failure(files_of(export), other_vkey)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == MANIFEST_SIGNATURE_FILE
    assert "no signature from a known key" in error.message


def test_a_forged_manifest_signature_names_the_manifest_signature(export: bytes) -> None:
    files = files_of(export)
    header, digest, rest = files[MANIFEST_SIGNATURE_FILE].decode().split("\n", 2)
    forged = ("1" if digest[0] == "0" else "0") + digest[1:]
    files[MANIFEST_SIGNATURE_FILE] = f"{header}\n{forged}\n{rest}".encode()
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == MANIFEST_SIGNATURE_FILE


def test_a_manifest_claiming_more_entries_names_the_missing_seq(export: bytes) -> None:
    files = files_of(export)

    def claim_more(manifest: dict[str, Any]) -> None:
        manifest["filters"]["end"] = 18
        manifest["row_count"] = 13
        manifest["last_seq"] = 17

    resign_manifest(files, claim_more)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 17


def test_a_manifest_with_a_wrong_time_range_is_refused(export: bytes) -> None:
    files = files_of(export)
    resign_manifest(files, lambda m: m["time_range"].update(first="2020-01-01T00:00:00.000000Z"))
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert "time_range" in error.message


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m.update(format="a6ledger-export/v2"), "format must be"),
        (lambda m: m["formats"].update(entry=2), "formats must be"),
        (lambda m: m.update(extra=1), "exactly the members"),
        (lambda m: m.update(row_count=3), "row_count"),
        (lambda m: m.update(tree_size=-1), "tree_size"),
        (lambda m: m.update(root_hash="AAAA"), "root_hash"),
        (lambda m: m.update(created_at="yesterday"), "created_at"),
        (lambda m: m.update(previous_tree_size=None), "previous_tree_size"),
        (lambda m: m.update(key_id="00000000"), "names the key"),
        (lambda m: m["files"].pop(PROOFS_FILE), "proofs.jsonl"),
        (lambda m: m["files"].update({"notes.txt": m["files"][PROOFS_FILE]}), "notes.txt"),
        (lambda m: m["files"][PROOFS_FILE].update(sha256="AB" * 32), "hex"),
    ],
)
def test_manifest_fields_are_checked(
    export: bytes, change: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    files = files_of(export)
    resign_manifest(files, change)
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert error.file == MANIFEST_FILE
    assert fragment in error.message


def test_an_altered_consistency_proof_is_refused(export: bytes) -> None:
    files = files_of(export)
    consistency = json.loads(files[CONSISTENCY_FILE])
    consistency["proof"][0] = base64.b64encode(bytes(32)).decode()
    files[CONSISTENCY_FILE] = canonical_bytes(consistency) + b"\n"
    relist(files, CONSISTENCY_FILE)
    error = failure(files)
    assert isinstance(error, ExportConsistencyInvalid)
    assert error.file == CONSISTENCY_FILE


def test_a_fork_is_caught_by_the_consistency_proof(log: MemoryLog) -> None:
    """The log key signed a checkpoint of another history at size 9: the proof cannot link it."""
    fork = memory_log(9, tag="fork")
    data = build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9)
    files = files_of(data)
    consistency = json.loads(files[CONSISTENCY_FILE])
    forked = Checkpoint(ORIGIN, 9, fork.root(9))
    consistency["previous_checkpoint"] = sign_checkpoint(forked, [SIGNER])
    files[CONSISTENCY_FILE] = canonical_bytes(consistency) + b"\n"
    relist(files, CONSISTENCY_FILE)
    error = failure(files)
    assert isinstance(error, ExportConsistencyInvalid)
    assert "first root" in error.message


def test_a_previous_checkpoint_signed_by_another_key_is_refused(
    export: bytes, log: MemoryLog
) -> None:
    other = note.Signer(format_skey(ORIGIN, bytes(range(1, 33))))
    files = files_of(export)
    consistency = json.loads(files[CONSISTENCY_FILE])
    previous = Checkpoint(ORIGIN, 9, log.root(9))
    consistency["previous_checkpoint"] = sign_checkpoint(previous, [other])
    files[CONSISTENCY_FILE] = canonical_bytes(consistency) + b"\n"
    relist(files, CONSISTENCY_FILE)
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == CONSISTENCY_FILE


# --- archive structure -----------------------------------------------------------------------


def test_not_a_zip_is_refused() -> None:
    with pytest.raises(ExportFormatInvalid, match="not a readable ZIP") as caught:
        verify_export(b"PK\x03\x04 not really", VKEY)
    assert caught.value.file == "archive"


def test_a_truncated_archive_is_refused(export: bytes) -> None:
    with pytest.raises(ExportFormatInvalid):
        verify_export(export[: len(export) // 2], VKEY)


def test_an_unexpected_member_is_refused(export: bytes) -> None:
    files = files_of(export)
    files["README.txt"] = b"trust me\n"
    with pytest.raises(ExportFormatInvalid, match="unexpected member") as caught:
        verify_export(pack_export(files), VKEY)
    assert caught.value.file == "README.txt"
    with pytest.raises(ExportFormatInvalid, match="unexpected member"):
        verify_export_files(files, VKEY)


def test_a_duplicate_member_is_refused(export: bytes) -> None:
    buffer = io.BytesIO(export)
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(ENTRIES_FILE, b"")
    with pytest.raises(ExportFormatInvalid, match="twice") as caught:
        verify_export(buffer.getvalue(), VKEY)
    assert caught.value.file == ENTRIES_FILE


@pytest.mark.parametrize(
    "name", [CONSISTENCY_FILE, PROOFS_FILE, MANIFEST_FILE, MANIFEST_SIGNATURE_FILE]
)
def test_a_missing_member_is_named(export: bytes, name: str) -> None:
    files = files_of(export)
    del files[name]
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert error.file == name


def test_a_member_not_in_the_manifest_is_refused(log: MemoryLog) -> None:
    files = files_of(build_export(log, SIGNER, ORIGIN, 0, 4))
    files[CONSISTENCY_FILE] = files_of(build_export(log, SIGNER, ORIGIN, 0, 4, 2))[CONSISTENCY_FILE]
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert (error.file, error.message) == (
        CONSISTENCY_FILE,
        "consistency.json: present but not listed in the signed manifest",
    )


def test_a_cosigner_key_cannot_verify_an_export(export: bytes) -> None:
    cosigner = Cosigner(format_skey(ORIGIN, bytes(range(32))))
    with pytest.raises(InvalidKey, match="cosigner"):
        verify_export(export, cosigner.vkey)


def test_a_malformed_vkey_is_an_invalid_key(export: bytes) -> None:
    with pytest.raises(InvalidKey):
        verify_export(export, "not a key")
