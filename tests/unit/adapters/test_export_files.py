"""The container of a signed export (ledger/adapters/export_files.py): a deterministic ZIP
archive or a directory; what cannot be an export is refused before any member is verified."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ledger.adapters.export_files import (
    export_chunks,
    pack_export,
    read_export_directory,
    unpack_export,
    verify_export,
    verify_export_file,
    write_export,
)
from ledger.log.export_build import build_export
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    FIRST_PROOF_FILE,
    LAST_PROOF_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    ExportFormatInvalid,
    ExportSourceInvalid,
)
from ledger.log.export_stream import StreamedExport
from ledger.log.keys import InvalidKey
from tests.unit.log.memory_log import ORIGIN, SIGNER, VKEY, MemoryLog, fixed_clock, memory_log


@pytest.fixture(scope="module")
def log() -> MemoryLog:
    return memory_log(23)


@pytest.fixture(scope="module")
def export(log: MemoryLog) -> bytes:
    """Entries [5, 17) of a tree of 23, with a consistency proof from size 9, as a ZIP."""
    return pack_export(build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9, clock=fixed_clock))


def files_of(data: bytes) -> dict[str, bytes]:
    return unpack_export(data)


def test_the_archive_is_deterministic(log: MemoryLog, export: bytes) -> None:
    again = pack_export(
        build_export(log, SIGNER, ORIGIN, 5, 17, previous_size=9, clock=fixed_clock)
    )
    assert again == export
    with zipfile.ZipFile(io.BytesIO(export)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert pack_export(unpack_export(export)) == export


def test_a_zip_verifies_with_the_key_alone(export: bytes) -> None:
    assert verify_export(export, VKEY).row_count == 12


def test_the_key_is_checked_before_the_archive() -> None:
    with pytest.raises(InvalidKey):
        verify_export(b"not a zip", "not a key")


def test_an_unpacked_directory_reads_back_the_members(export: bytes, tmp_path: Path) -> None:
    files = unpack_export(export)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert read_export_directory(tmp_path) == files
    (tmp_path / "notes.txt").write_bytes(b"trust me\n")
    with pytest.raises(ExportFormatInvalid, match="unexpected file") as caught:
        read_export_directory(tmp_path)
    assert caught.value.file == "notes.txt"


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


def test_a_duplicate_member_is_refused(export: bytes) -> None:
    buffer = io.BytesIO(export)
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(ENTRIES_FILE, b"")
    with pytest.raises(ExportFormatInvalid, match="twice") as caught:
        verify_export(buffer.getvalue(), VKEY)
    assert caught.value.file == ENTRIES_FILE


def test_the_offline_verifier_imports_no_web_framework_and_no_database() -> None:
    """The verifier, its container and the verify-export command module run without FastAPI,
    Starlette, pydantic, SQLAlchemy or uvicorn (checked in a fresh interpreter)."""
    code = (
        "import sys\n"
        "import app.cli_export, ledger.adapters.export_files, ledger.log.tlog_proof\n"
        "loaded = [m for m in ('fastapi', 'starlette', 'sqlalchemy', 'uvicorn', 'pydantic')"
        " if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


# --- streamed (v2) archives ------------------------------------------------------------------


def streamed_members(log: MemoryLog, start: int = 5, end: int = 17) -> StreamedExport:
    return StreamedExport(log, SIGNER, ORIGIN, start, end, previous_size=9, clock=fixed_clock)


def test_a_streamed_archive_is_deterministic_and_verifies(log: MemoryLog, tmp_path: Path) -> None:
    chunks = list(export_chunks(streamed_members(log).members()))
    assert len(chunks) > 7  # handed on member by member, not built whole
    data = b"".join(chunks)
    assert data == b"".join(export_chunks(streamed_members(log).members()))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [info.filename for info in archive.infolist()]
        assert all(info.flag_bits & 0x08 for info in archive.infolist())  # data descriptors
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert names == [
        ENTRIES_FILE,
        FIRST_PROOF_FILE,
        LAST_PROOF_FILE,
        CHECKPOINT_FILE,
        CONSISTENCY_FILE,
        MANIFEST_FILE,
        MANIFEST_SIGNATURE_FILE,
    ]
    report = verify_export(data, VKEY)
    assert (report.start, report.end, report.previous_size) == (5, 17, 9)
    out = tmp_path / "export.zip"
    size, digest = write_export(streamed_members(log).members(), out)
    assert out.read_bytes() == data
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert verify_export_file(out, VKEY).row_count == 12
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    for name, member in unpack_export(data).items():
        (unpacked / name).write_bytes(member)
    assert verify_export_file(unpacked, VKEY).row_count == 12
    (unpacked / "notes.txt").write_text("x")
    with pytest.raises(ExportFormatInvalid, match="unexpected file"):
        verify_export_file(unpacked, VKEY)


def test_a_failed_export_leaves_no_file(log: MemoryLog, tmp_path: Path) -> None:
    class ForgingLog(MemoryLog):
        def read_entries(self, start: int, end: int) -> list[bytes]:
            bodies = super().read_entries(start, end)
            return [body.replace(b'"n":', b'"m":') for body in bodies]

    forging = ForgingLog()
    forging.__dict__.update(log.__dict__)
    out = tmp_path / "export.zip"
    with pytest.raises(ExportSourceInvalid):
        write_export(streamed_members(forging).members(), out)
    assert not out.exists()
    out.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        write_export(streamed_members(log).members(), out)
    assert out.read_bytes() == b"kept"


def test_a_corrupt_streamed_member_is_an_unreadable_archive(log: MemoryLog) -> None:
    data = bytearray(b"".join(export_chunks(streamed_members(log).members())))
    # Flip a byte inside the compressed entries: inflating fails or the CRC differs.
    data[200] ^= 0xFF
    with pytest.raises(ExportFormatInvalid) as caught:
        verify_export(bytes(data), VKEY)
    assert caught.value.file in ("archive", ENTRIES_FILE)
