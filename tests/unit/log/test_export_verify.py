"""Verifying signed exports (ledger/log/export_verify.py) with the vkey only: every tampering is
reported by the file, and the entry seq where there is one."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ledger.log import merkle, merkle_store, note
from ledger.log.canonical import canonical_bytes
from ledger.log.chain import Entry
from ledger.log.export_build import build_export
from ledger.log.export_format import (
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
    ExportSignatureInvalid,
)
from ledger.log.export_verify import verify_export_files
from ledger.log.keys import InvalidKey, format_skey, generate_signer
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner
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
        verify_export_files(files, vkey)
    return caught.value


def test_an_unpacked_directory_verifies_too(export: dict[str, bytes]) -> None:
    assert verify_export_files(files_of(export), VKEY).row_count == 12


# --------------------------------------------------------------------------------------------
# tampering: each failure names the file and the entry
# --------------------------------------------------------------------------------------------


def test_a_changed_figure_in_an_entry_names_its_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    rows[3] = rows[3].replace(b'"tonnes":1008', b'"tonnes":1009')
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (ENTRIES_FILE, 8)
    assert "entries.jsonl, entry seq 8" in str(error)


@pytest.mark.parametrize("position", [0, 40, -3])
def test_a_flipped_byte_in_an_entry_names_its_seq(export: dict[str, bytes], position: int) -> None:
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
def test_hostile_json_in_an_entry_names_its_seq(export: dict[str, bytes], line: bytes) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    rows[2] = line
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 7


def test_hostile_json_in_a_proof_names_its_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[2] = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 7)


def test_a_removed_line_names_the_missing_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    rows = lines(files[ENTRIES_FILE])
    del rows[4]
    files[ENTRIES_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 9
    assert "holds seq 10 where seq 9 belongs" in error.message


def test_a_removed_last_line_names_the_missing_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    files[ENTRIES_FILE] = b"".join(lines(files[ENTRIES_FILE])[:-1])
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 16
    assert "missing" in error.message


def test_an_added_line_is_refused(export: dict[str, bytes]) -> None:
    files = files_of(export)
    files[ENTRIES_FILE] += lines(files[ENTRIES_FILE])[-1]
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 17
    assert "beyond the last entry" in error.message


def test_reordered_lines_name_the_first_seq_out_of_place(export: dict[str, bytes]) -> None:
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
        verify_export_files(build_export(log, SIGNER, ORIGIN, 0, 6), VKEY)
    assert caught.value.seq == 3


def test_a_bad_genesis_link_is_refused() -> None:
    log = MemoryLog()
    log.head = b"\x07" * 32
    log.append("test.entry", {"n": 0}, "tester")
    with pytest.raises(ExportEntryInvalid, match="genesis") as caught:
        verify_export_files(build_export(log, SIGNER, ORIGIN, 0, 1), VKEY)
    assert caught.value.seq == 0


def test_swapped_proofs_name_the_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[5], rows[6] = rows[6], rows[5]
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 10)
    assert "proves leaf 11" in error.message


def test_an_altered_proof_hash_names_the_seq(export: dict[str, bytes]) -> None:
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


def test_a_missing_proof_line_names_the_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    files[PROOFS_FILE] = b"".join(lines(files[PROOFS_FILE])[:-1])
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 16)


def test_a_malformed_proof_line_names_the_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)
    rows = lines(files[PROOFS_FILE])
    rows[0] = b'{"leaf_index": 5}\n'
    files[PROOFS_FILE] = b"".join(rows)
    error = failure(files)
    assert isinstance(error, ExportInclusionInvalid)
    assert (error.file, error.seq) == (PROOFS_FILE, 5)


def test_a_wrong_checkpoint_signature_names_the_checkpoint(export: dict[str, bytes]) -> None:
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
    export: dict[str, bytes], log: MemoryLog
) -> None:
    other = note.Signer(format_skey(ORIGIN, bytes(range(1, 33))))
    files = files_of(export)
    forged = Checkpoint(ORIGIN, 23, log.root(23))
    files[CHECKPOINT_FILE] = sign_checkpoint(forged, [other]).encode()
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == CHECKPOINT_FILE
    assert "no signature from a known key" in error.message


def test_a_checkpoint_for_another_tree_is_refused(export: dict[str, bytes], log: MemoryLog) -> None:
    files = files_of(export)
    older = Checkpoint(ORIGIN, 22, log.root(22))
    files[CHECKPOINT_FILE] = sign_checkpoint(older, [SIGNER]).encode()
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert error.file == CHECKPOINT_FILE
    assert "not the manifest's" in error.message


def test_a_cosigned_checkpoint_no_longer_matches_the_manifest_hash(
    export: dict[str, bytes],
) -> None:
    cosigner = Cosigner(format_skey("witness.example", bytes(32)), clock=lambda: 1)
    files = files_of(export)
    files[CHECKPOINT_FILE] = note.add_signatures(
        files[CHECKPOINT_FILE].decode(), [cosigner]
    ).encode()
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == CHECKPOINT_FILE


def test_a_manifest_hash_mismatch_names_the_file(export: dict[str, bytes]) -> None:
    files = files_of(export)
    resign_manifest(files, lambda m: m["files"][ENTRIES_FILE].update(sha256="ab" * 32))
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == ENTRIES_FILE
    assert "ab" * 32 in error.message


def test_an_altered_manifest_names_the_manifest(export: dict[str, bytes]) -> None:
    files = files_of(export)
    files[MANIFEST_FILE] = files[MANIFEST_FILE].replace(b'"row_count":12', b'"row_count":11')
    error = failure(files)
    assert isinstance(error, ExportFileHashMismatch)
    assert error.file == MANIFEST_FILE


def test_an_unknown_key_names_the_manifest_signature(export: dict[str, bytes]) -> None:
    _, other_vkey = generate_signer(ORIGIN)
    error = failure(files_of(export), other_vkey)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == MANIFEST_SIGNATURE_FILE
    assert "no signature from a known key" in error.message


def test_a_forged_manifest_signature_names_the_manifest_signature(export: dict[str, bytes]) -> None:
    files = files_of(export)
    header, digest, rest = files[MANIFEST_SIGNATURE_FILE].decode().split("\n", 2)
    forged = ("1" if digest[0] == "0" else "0") + digest[1:]
    files[MANIFEST_SIGNATURE_FILE] = f"{header}\n{forged}\n{rest}".encode()
    error = failure(files)
    assert isinstance(error, ExportSignatureInvalid)
    assert error.file == MANIFEST_SIGNATURE_FILE


def test_a_manifest_claiming_more_entries_names_the_missing_seq(export: dict[str, bytes]) -> None:
    files = files_of(export)

    def claim_more(manifest: dict[str, Any]) -> None:
        manifest["filters"]["end"] = 18
        manifest["row_count"] = 13
        manifest["last_seq"] = 17

    resign_manifest(files, claim_more)
    error = failure(files)
    assert isinstance(error, ExportEntryInvalid)
    assert error.seq == 17


def test_a_manifest_with_a_wrong_time_range_is_refused(export: dict[str, bytes]) -> None:
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
    export: dict[str, bytes], change: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    files = files_of(export)
    resign_manifest(files, change)
    error = failure(files)
    assert isinstance(error, ExportFormatInvalid)
    assert error.file == MANIFEST_FILE
    assert fragment in error.message


def test_an_altered_consistency_proof_is_refused(export: dict[str, bytes]) -> None:
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
    export: dict[str, bytes], log: MemoryLog
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


# --------------------------------------------------------------------------------------------
# members and keys
# --------------------------------------------------------------------------------------------


def test_an_unexpected_member_is_refused(export: dict[str, bytes]) -> None:
    files = files_of(export)
    files["README.txt"] = b"trust me\n"
    with pytest.raises(ExportFormatInvalid, match="unexpected member") as caught:
        verify_export_files(files, VKEY)
    assert caught.value.file == "README.txt"


@pytest.mark.parametrize(
    "name", [CONSISTENCY_FILE, PROOFS_FILE, MANIFEST_FILE, MANIFEST_SIGNATURE_FILE]
)
def test_a_missing_member_is_named(export: dict[str, bytes], name: str) -> None:
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


def test_a_cosigner_key_cannot_verify_an_export(export: dict[str, bytes]) -> None:
    cosigner = Cosigner(format_skey(ORIGIN, bytes(range(32))))
    with pytest.raises(InvalidKey, match="cosigner"):
        verify_export_files(export, cosigner.vkey)


def test_a_malformed_vkey_is_an_invalid_key(export: dict[str, bytes]) -> None:
    with pytest.raises(InvalidKey):
        verify_export_files(export, "not a key")
