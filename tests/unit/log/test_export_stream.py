"""Streamed exports (format a6ledger-export/v2, ledger/log/export_stream.py) built from an
in-memory log and verified as a stream with the vkey only: one proof for the whole range, and
every tampering still reported by the file, and the entry seq where there is one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from ledger.log import note
from ledger.log.canonical import canonical_bytes
from ledger.log.chain import Entry
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    EXPORT_FORMAT_V2,
    FIRST_PROOF_FILE,
    FORMATS_V2,
    LAST_PROOF_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    PROOFS_FILE,
    ExportEntryInvalid,
    ExportFileHashMismatch,
    ExportFormatInvalid,
    ExportInclusionInvalid,
    ExportInvalid,
    ExportRangeInvalid,
    ExportSourceInvalid,
    manifest_signature_text,
)
from ledger.log.export_stream import StreamedExport
from ledger.log.export_verify import MAX_ENTRY_BYTES, MappingSource, verify_export_files
from ledger.log.note import sign_note
from ledger.log.tlog_proof import format_tlog_proof, parse_tlog_proof, verify_tlog_proof
from tests.unit.log.memory_log import ORIGIN, SIGNER, VKEY, MemoryLog, fixed_clock, memory_log


@pytest.fixture(
    scope="module",
    params=[timedelta(minutes=1), timedelta(seconds=61, microseconds=123_457)],
    ids=["whole seconds", "microseconds"],
)
def log(request: pytest.FixtureRequest) -> MemoryLog:
    """Entries whole minutes apart, which the verifier checks one by one on its exact path
    (no fraction of a second), and entries with microseconds, which its fast path checks."""
    return memory_log(23, step=request.param)


def streamed(log: MemoryLog, start: int, end: int, **options: Any) -> dict[str, bytes]:
    """The members of a streamed export, each consumed in order as a ZIP writer would."""
    export = StreamedExport(log, SIGNER, ORIGIN, start, end, clock=fixed_clock, **options)
    return {name: b"".join(chunks) for name, chunks in export.members()}


@pytest.fixture(scope="module")
def export(log: MemoryLog) -> dict[str, bytes]:
    """Entries [5, 17) of a tree of 23 read 4 at a time, with a consistency proof from 9."""
    return streamed(log, 5, 17, previous_size=9, batch=4)


def resigned(files: dict[str, bytes], manifest: dict[str, object]) -> dict[str, bytes]:
    """``files`` with ``manifest`` written and signed by the log key, as a forger with the key
    would: what is left to catch is the content itself."""
    data = canonical_bytes(manifest) + b"\n"  # type: ignore[arg-type]
    signature = sign_note(manifest_signature_text(data), [SIGNER]).encode()
    return {**files, MANIFEST_FILE: data, MANIFEST_SIGNATURE_FILE: signature}


def test_a_streamed_export_verifies_with_one_proof_for_its_range(
    export: dict[str, bytes], log: MemoryLog
) -> None:
    assert set(export) == {
        ENTRIES_FILE,
        FIRST_PROOF_FILE,
        LAST_PROOF_FILE,
        CHECKPOINT_FILE,
        CONSISTENCY_FILE,
        MANIFEST_FILE,
        MANIFEST_SIGNATURE_FILE,
    }
    assert export[ENTRIES_FILE] == b"".join(body + b"\n" for body in log.bodies[5:17])
    report = verify_export_files(export, VKEY)
    assert (report.start, report.end, report.row_count, report.tree_size) == (5, 17, 12, 23)
    assert report.previous_size == 9
    manifest = json.loads(export[MANIFEST_FILE])
    assert (manifest["format"], manifest["formats"]) == (EXPORT_FORMAT_V2, dict(FORMATS_V2))
    verifier = note.Verifier(VKEY)
    # Each boundary proof is a standard tlog-proof on its own.
    for name, seq in ((FIRST_PROOF_FILE, 5), (LAST_PROOF_FILE, 16)):
        checkpoint = verify_tlog_proof(export[name].decode(), log.bodies[seq], [verifier])
        assert checkpoint.size == 23
        assert parse_tlog_proof(export[name].decode()).signed_checkpoint == (
            export[CHECKPOINT_FILE].decode()
        )


@pytest.mark.parametrize(("start", "end"), [(0, 23), (0, 1), (22, 23), (7, 8), (0, 16), (16, 23)])
def test_ranges_at_the_edges_verify_and_match_the_v1_content(
    log: MemoryLog, start: int, end: int
) -> None:
    files = streamed(log, start, end, batch=5)
    report = verify_export_files(files, VKEY)
    assert (report.start, report.end) == (start, end)
    assert report.head_hash == Entry.from_canonical(log.bodies[end - 1]).entry_hash()


def test_the_same_content_gives_the_same_members(log: MemoryLog) -> None:
    assert streamed(log, 3, 20, batch=1) == streamed(log, 3, 20, batch=2000)


def test_bad_ranges_are_refused_before_anything_streams(log: MemoryLog) -> None:
    for start, end in ((5, 5), (9, 3), (0, 24)):
        with pytest.raises(ExportRangeInvalid):
            StreamedExport(log, SIGNER, ORIGIN, start, end)
    with pytest.raises(ExportRangeInvalid):
        StreamedExport(log, SIGNER, ORIGIN, 0, 3, previous_size=24)


def test_an_export_against_an_earlier_tree_size_verifies_and_counts_its_entries(
    log: MemoryLog,
) -> None:
    counted: list[int] = []
    files = streamed(log, 2, 11, tree_size=15, batch=4, progress=counted.append)
    report = verify_export_files(files, VKEY)
    assert (report.start, report.end, report.tree_size) == (2, 11, 15)
    assert counted == [4, 4, 1]
    for size in (0, 24, True):
        with pytest.raises(ExportRangeInvalid):
            StreamedExport(log, SIGNER, ORIGIN, 0, 3, tree_size=size)
    with pytest.raises(ExportRangeInvalid):
        StreamedExport(log, SIGNER, ORIGIN, 0, 16, tree_size=15)


class LosingLog(MemoryLog):
    """A log that drops one entry from every read."""

    def read_entries(self, start: int, end: int) -> list[bytes]:
        return super().read_entries(start, end)[1:]


class ForgingLog(MemoryLog):
    """A log whose stored entries differ from what its tree holds."""

    def read_entries(self, start: int, end: int) -> list[bytes]:
        bodies = super().read_entries(start, end)
        return [bodies[0].replace(b'"n":', b'"m":'), *bodies[1:]]


def copy_into(log: MemoryLog, source: MemoryLog) -> MemoryLog:
    log.__dict__.update(source.__dict__)
    return log


def test_the_builder_never_signs_entries_its_tree_does_not_hold(log: MemoryLog) -> None:
    forging = StreamedExport(copy_into(ForgingLog(), log), SIGNER, ORIGIN, 2, 11, batch=4)
    members = forging.members()
    name, chunks = next(members)
    assert name == ENTRIES_FILE
    assert len(list(chunks)) == 3  # the entries stream; nothing after them is signed
    with pytest.raises(ExportSourceInvalid, match="not the log's root"):
        next(members)
    losing = StreamedExport(copy_into(LosingLog(), log), SIGNER, ORIGIN, 2, 11, batch=4)
    _name, chunks = next(losing.members())
    with pytest.raises(ExportSourceInvalid, match="returned 3 entries"):
        list(chunks)


def test_the_builder_refuses_malformed_boundary_proofs(log: MemoryLog) -> None:
    class ShortProofs(MemoryLog):
        def inclusion_proof(self, index: int, size: int) -> list[bytes]:
            return super().inclusion_proof(index, size)[:-1]

    with pytest.raises(ExportSourceInvalid, match="boundary proofs"):
        StreamedExport(copy_into(ShortProofs(), log), SIGNER, ORIGIN, 2, 11)


# --- tampering ------------------------------------------------------------------------------


def entry_lines(files: dict[str, bytes]) -> list[bytes]:
    return files[ENTRIES_FILE].splitlines(keepends=True)


def with_entries(files: dict[str, bytes], rows: list[bytes]) -> dict[str, bytes]:
    return {**files, ENTRIES_FILE: b"".join(rows)}


def test_a_changed_figure_in_an_entry_names_its_seq(export: dict[str, bytes]) -> None:
    rows = entry_lines(export)
    rows[3] = rows[3].replace(b'"n":8', b'"n":9')
    with pytest.raises(ExportEntryInvalid) as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    # The link from seq 9 breaks, and seq 10 still links to seq 9: seq 8 is the altered one.
    assert (caught.value.file, caught.value.seq) == (ENTRIES_FILE, 8)
    assert "this entry was altered" in caught.value.message


@pytest.mark.parametrize(("row", "seq"), [(0, 5), (1, 6), (10, 15), (11, 16)])
def test_an_altered_entry_is_named_wherever_it_is(
    export: dict[str, bytes], row: int, seq: int
) -> None:
    rows = entry_lines(export)
    rows[row] = rows[row].replace(b'"actor":"', b'"actor":"x', 1)
    with pytest.raises(ExportInvalid) as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert (caught.value.file, caught.value.seq) == (ENTRIES_FILE, seq)


def test_an_altered_link_is_named_by_the_entry_that_holds_it(export: dict[str, bytes]) -> None:
    rows = entry_lines(export)
    head, _sep, tail = rows[4].partition(b'"prev_hash":"')
    rows[4] = head + b'"prev_hash":"' + (b"0" if tail[:1] != b"0" else b"1") + tail[1:]
    with pytest.raises(ExportEntryInvalid, match="hash chain is broken") as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert caught.value.seq == 9


def test_an_altered_last_entry_fails_the_range_root(export: dict[str, bytes]) -> None:
    rows = entry_lines(export)
    rows[-1] = rows[-1].replace(b'"n":16', b'"n":61')
    with pytest.raises(ExportInclusionInvalid, match="last.tlog-proof") as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert (caught.value.file, caught.value.seq) == (ENTRIES_FILE, 16)


@pytest.mark.parametrize(
    ("change", "seq"),
    [
        (lambda rows: rows[:4] + rows[5:], 9),  # removed
        (lambda rows: rows[:4] + [rows[4]] + rows[4:], 10),  # repeated
        (lambda rows: rows[:4] + [rows[5], rows[4]] + rows[6:], 9),  # swapped
        (lambda rows: rows[:-1], 16),  # last removed
        (lambda rows: [*rows, rows[-1]], 17),  # added beyond the range
        (lambda rows: [rows[0].replace(b":", b": ", 1), *rows[1:]], 5),  # not canonical
    ],
)
def test_missing_extra_and_reordered_lines_name_the_seq(
    export: dict[str, bytes], change: object, seq: int
) -> None:
    rows = change(entry_lines(export))  # type: ignore[operator]
    with pytest.raises(ExportEntryInvalid) as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert (caught.value.file, caught.value.seq) == (ENTRIES_FILE, seq)


def test_a_missing_final_newline_is_refused(export: dict[str, bytes]) -> None:
    files = {**export, ENTRIES_FILE: export[ENTRIES_FILE][:-1]}
    with pytest.raises(ExportFormatInvalid, match="newline"):
        verify_export_files(files, VKEY)


def test_a_line_without_end_is_refused_before_it_is_buffered(export: dict[str, bytes]) -> None:
    files = {**export, ENTRIES_FILE: b"x" * (MAX_ENTRY_BYTES + 2)}
    with pytest.raises(ExportEntryInvalid, match="longer than") as caught:
        verify_export_files(files, VKEY)
    assert caught.value.seq == 5


def test_a_member_altered_after_signing_fails_its_digest(log: MemoryLog) -> None:
    files = streamed(log, 5, 17)
    manifest = json.loads(files[MANIFEST_FILE])
    # Re-signed manifest that lists another digest for the (unchanged) entries.
    manifest["files"][ENTRIES_FILE]["sha256"] = "0" * 64
    with pytest.raises(ExportFileHashMismatch) as caught:
        verify_export_files(resigned(files, manifest), VKEY)
    assert caught.value.file == ENTRIES_FILE
    manifest = json.loads(files[MANIFEST_FILE])
    manifest["files"][LAST_PROOF_FILE]["size"] += 1
    with pytest.raises(ExportFileHashMismatch) as caught:
        verify_export_files(resigned(files, manifest), VKEY)
    assert caught.value.file == LAST_PROOF_FILE


def boundary(files: dict[str, bytes], name: str) -> tuple[int, list[bytes], str]:
    bundle = parse_tlog_proof(files[name].decode())
    return bundle.index, list(bundle.proof), bundle.signed_checkpoint


@pytest.mark.parametrize(
    ("name", "alter", "message"),
    [
        (FIRST_PROOF_FILE, lambda i, p, c: (i + 1, p, c, None), "proves leaf 6"),
        (LAST_PROOF_FILE, lambda i, p, c: (i, p, c, b"x"), "extra data"),
        (FIRST_PROOF_FILE, lambda i, p, c: (i, p[:-1], c, None), "do not fit"),
        (LAST_PROOF_FILE, lambda i, p, c: (i, [bytes(32), *p[1:]], c, None), "seq 16"),
        (FIRST_PROOF_FILE, lambda i, p, c: (i, [*p[:-1], bytes(32)], c, None), "seq 5"),
        (FIRST_PROOF_FILE, lambda i, p, c: (i, p, c.replace("23\n", "22\n"), None), "checkpoint"),
    ],
)
def test_altered_boundary_proofs_are_refused(
    log: MemoryLog, name: str, alter: object, message: str
) -> None:
    files = streamed(log, 5, 17)
    index, proof, checkpoint = boundary(files, name)
    new_index, new_proof, new_checkpoint, extra = alter(index, proof, checkpoint)  # type: ignore[operator]
    files[name] = format_tlog_proof(new_index, new_proof, new_checkpoint, extra).encode()
    manifest = json.loads(files[MANIFEST_FILE])
    manifest["files"][name] = {
        "sha256": hashlib.sha256(files[name]).hexdigest(),
        "size": len(files[name]),
    }
    with pytest.raises(ExportInclusionInvalid, match=message):
        verify_export_files(resigned(files, manifest), VKEY)


@pytest.mark.parametrize("data", [b"\xff\xfe", b"not a proof\n"])
def test_malformed_boundary_proofs_name_their_file(log: MemoryLog, data: bytes) -> None:
    files = {**streamed(log, 5, 17), FIRST_PROOF_FILE: data}
    with pytest.raises(ExportFormatInvalid) as caught:
        verify_export_files(files, VKEY)
    assert caught.value.file == FIRST_PROOF_FILE


def test_a_v2_manifest_may_not_list_v1_proofs(log: MemoryLog) -> None:
    files = streamed(log, 5, 17)
    manifest = json.loads(files[MANIFEST_FILE])
    manifest["files"][PROOFS_FILE] = {"sha256": "0" * 64, "size": 0}
    files[PROOFS_FILE] = b""
    with pytest.raises(ExportFormatInvalid, match="may list"):
        verify_export_files(resigned(files, manifest), VKEY)


def test_a_v2_time_range_must_be_the_entries(log: MemoryLog) -> None:
    files = streamed(log, 5, 17)
    manifest = json.loads(files[MANIFEST_FILE])
    manifest["time_range"]["last"] = manifest["time_range"]["first"]
    with pytest.raises(ExportFormatInvalid, match="time_range"):
        verify_export_files(resigned(files, manifest), VKEY)


def test_a_source_streams_large_members_in_chunks() -> None:
    data = bytes(range(256)) * 10_000
    chunks: Iterator[bytes] = MappingSource({ENTRIES_FILE: data}).chunks(ENTRIES_FILE)
    parts = list(chunks)
    assert len(parts) == 3
    assert b"".join(parts) == data


def altered_link(row: bytes) -> bytes:
    head, _sep, tail = row.partition(b'"prev_hash":"')
    return head + b'"prev_hash":"' + (b"0" if tail[:1] != b"0" else b"1") + tail[1:]


@pytest.mark.parametrize(
    "change",
    [
        # the line after the broken link is not even an entry
        lambda rows: [*rows[:4], altered_link(rows[4]), b"{}\n", *rows[6:]],
        # the file ends right after the broken link
        lambda rows: [*rows[:4], altered_link(rows[4])],
    ],
)
def test_a_broken_link_is_reported_when_nothing_after_it_tells_more(
    export: dict[str, bytes], change: object
) -> None:
    rows = change(entry_lines(export))  # type: ignore[operator]
    with pytest.raises(ExportEntryInvalid, match="hash chain is broken") as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert caught.value.seq == 9


def test_an_altered_link_on_the_last_line_names_the_last_entry(export: dict[str, bytes]) -> None:
    rows = entry_lines(export)
    rows[-1] = altered_link(rows[-1])
    with pytest.raises(ExportEntryInvalid, match="hash chain is broken") as caught:
        verify_export_files(with_entries(export, rows), VKEY)
    assert caught.value.seq == 16


def test_the_first_entry_of_the_log_must_link_to_genesis(log: MemoryLog) -> None:
    files = streamed(log, 0, 6)
    rows = entry_lines(files)
    rows[0] = altered_link(rows[0])
    with pytest.raises(ExportEntryInvalid, match="genesis") as caught:
        verify_export_files(with_entries(files, rows), VKEY)
    assert caught.value.seq == 0
