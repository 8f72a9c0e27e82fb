"""The container of a signed export: one ZIP archive, or the directory it was unpacked into.

The members themselves (``ledger.log.export_format``) are made and checked as bytes by
``ledger.log.export_build`` and ``ledger.log.export_verify``; this module only packs them into a
ZIP archive and reads them back from one or from a directory. The archive is deterministic:
members in sorted name order, fixed timestamps (1980-01-01 00:00:00) and file modes, deflate at
one level, so the same content always gives the same bytes.

Reading refuses what an export cannot hold (unknown, duplicate or oversized members) before any
member is verified. Like the verifier, this module imports no web framework and no database
driver: ``a6ledger verify-export`` runs with nothing but the export and the log's verifier key.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from ledger.accounting.party_export_verify import (
    PartyExportReport,
    is_party_export,
    verify_party_export,
)
from ledger.log import note
from ledger.log.export_format import EXPORT_FILES, ExportFormatInvalid
from ledger.log.export_stream import Member
from ledger.log.export_verify import (
    READ_CHUNK,
    ExportReport,
    MemberSource,
    Progress,
    log_verifier,
    verify_source,
)

MAX_MEMBER_BYTES = 1 << 32
"""Largest member accepted when reading an archive (4 GiB), so a hostile file cannot make the
verifier inflate without bound."""

_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_ZIP_UNIX = 3
_ZIP_FILE_MODE = 0o100644
_COMPRESS_LEVEL = 6


def pack_export(files: Mapping[str, bytes]) -> bytes:
    """A deterministic ZIP of ``files``: sorted names, fixed timestamps and modes, deflate."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _ZIP_UNIX
            info.external_attr = _ZIP_FILE_MODE << 16
            archive.writestr(info, files[name], compresslevel=_COMPRESS_LEVEL)
    return buffer.getvalue()


ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # zipfile's answer to an unsupported compression method
    RuntimeError,
    ValueError,
    EOFError,
    OSError,
    zlib.error,
)
"""What reading a damaged or hostile archive raises."""


def _unreadable(exc: BaseException) -> ExportFormatInvalid:
    return ExportFormatInvalid(
        f"not a readable ZIP archive: {exc}", file="archive", reason=str(exc)
    )


class _Sink:
    """A write-only stream (no ``tell``/``seek``, so ``zipfile`` writes data descriptors and
    the archive's bytes do not depend on where they go) that hands on what was written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here: :meth:`take` hands on every write."""

    def close(self) -> None:
        """``zipfile`` closes only streams it opened itself, never this one."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def export_chunks(members: Iterable[Member]) -> Iterator[bytes]:
    """The ZIP archive of ``members`` (a v2 export, :class:`ledger.log.export_stream`), as
    chunks of bytes while the members are produced: memory stays that of one chunk of one
    member whatever the export's size. Deterministic: members in the order given, fixed
    timestamps and modes, deflate at one level, ZIP64 data descriptors."""
    sink = _Sink()
    with zipfile.ZipFile(
        sink,
        "w",
        compression=zipfile.ZIP_DEFLATED,
        compresslevel=_COMPRESS_LEVEL,
    ) as archive:
        for name, chunks in members:
            with archive.open(_member_info(name), "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
                    data = sink.take()
                    if data:
                        yield data
            yield sink.take()
    yield sink.take()


def write_export(members: Iterable[Member], out: Path) -> tuple[int, str]:
    """Write the archive of ``members`` to the new file ``out`` (never overwriting one; a
    partial file is removed when the export fails). Returns its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    with out.open("xb") as handle:
        try:
            for chunk in export_chunks(members):
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        except BaseException:
            handle.close()
            out.unlink()
            raise
    return size, digest.hexdigest()


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _ZIP_UNIX
    info.external_attr = _ZIP_FILE_MODE << 16
    return info


class ZipSource:
    """The members of an export archive, read from a file or bytes as the verifier asks for
    them. Opening refuses duplicate and unknown members before any is read."""

    def __init__(self, archive: BinaryIO) -> None:
        try:
            self._zip = zipfile.ZipFile(archive)
            self._infos: dict[str, zipfile.ZipInfo] = {}
            for info in self._zip.infolist():
                name = info.filename
                if name not in EXPORT_FILES:
                    raise ExportFormatInvalid(
                        f"unexpected member {name!r}; an export holds only "
                        f"{', '.join(sorted(EXPORT_FILES))}",
                        file=name,
                    )
                if name in self._infos:
                    raise ExportFormatInvalid("the archive holds this member twice", file=name)
                self._infos[name] = info
        except ZIP_ERRORS as exc:
            raise _unreadable(exc) from exc

    def names(self) -> Collection[str]:
        return self._infos.keys()

    def read(self, name: str) -> bytes:
        info = self._infos[name]
        if info.file_size > MAX_MEMBER_BYTES:
            raise ExportFormatInvalid(
                f"member is {info.file_size} bytes, over the {MAX_MEMBER_BYTES} limit", file=name
            )
        try:
            return self._zip.read(info)
        except ZIP_ERRORS as exc:
            raise _unreadable(exc) from exc

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            with self._zip.open(self._infos[name]) as member:
                while chunk := member.read(READ_CHUNK):
                    yield chunk
        except ZIP_ERRORS as exc:
            raise _unreadable(exc) from exc


class DirectorySource:
    """The members of an export unpacked into a directory; any other file there is refused."""

    def __init__(self, path: Path) -> None:
        self._paths: dict[str, Path] = {}
        for child in sorted(path.iterdir()):
            if child.name not in EXPORT_FILES:
                raise ExportFormatInvalid(
                    f"unexpected file in the export directory {path}", file=child.name
                )
            self._paths[child.name] = child

    def names(self) -> Collection[str]:
        return self._paths.keys()

    def read(self, name: str) -> bytes:
        return self._paths[name].read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        with self._paths[name].open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk


AnyExportReport = ExportReport | PartyExportReport
"""What a verified export proves: a range of the log, or a Party's filtered export."""


def verify_any(
    source: MemberSource,
    verifier: note.Verifier,
    trusted_checkpoint: str | None = None,
    progress: Progress | None = None,
) -> AnyExportReport:
    """Verify a range export (v1, v2) or a filtered export (``a6ledger-export/party-v1``, whose
    AEF tables are re-derived from its entries), as its manifest says."""
    if is_party_export(source):
        return verify_party_export(source, verifier, trusted_checkpoint, progress)
    return verify_source(source, verifier, trusted_checkpoint, progress)


def verify_export_file(
    path: Path, vkey: str, trusted_checkpoint: str | None = None, progress: Progress | None = None
) -> ExportReport:
    """Verify the range export (v1, v2) archive or unpacked directory at ``path``, streaming its
    entries. The file is opened first (``OSError``), then the key is checked (``InvalidKey``),
    then the archive is read."""
    if path.is_dir():
        verifier = log_verifier(vkey)
        return verify_source(DirectorySource(path), verifier, trusted_checkpoint, progress)
    with path.open("rb") as handle:
        verifier = log_verifier(vkey)
        return verify_source(ZipSource(handle), verifier, trusted_checkpoint, progress)


def verify_any_export_file(
    path: Path, vkey: str, trusted_checkpoint: str | None = None, progress: Progress | None = None
) -> AnyExportReport:
    """:func:`verify_export_file` for a range export or a filtered one, as its manifest says
    (what ``a6ledger verify-export`` runs)."""
    if path.is_dir():
        verifier = log_verifier(vkey)
        return verify_any(DirectorySource(path), verifier, trusted_checkpoint, progress)
    with path.open("rb") as handle:
        verifier = log_verifier(vkey)
        return verify_any(ZipSource(handle), verifier, trusted_checkpoint, progress)


def unpack_export(data: bytes) -> dict[str, bytes]:
    """The members of an export archive, refusing duplicate, unknown or oversized members."""
    source = ZipSource(io.BytesIO(data))
    return {name: source.read(name) for name in source.names()}


def read_export_directory(path: Path) -> dict[str, bytes]:
    """The members of an export unpacked into ``path``; any other file there is refused."""
    files: dict[str, bytes] = {}
    for child in sorted(path.iterdir()):
        if child.name not in EXPORT_FILES:
            raise ExportFormatInvalid(
                f"unexpected file in the export directory {path}", file=child.name
            )
        files[child.name] = child.read_bytes()
    return files


def verify_export(data: bytes, vkey: str, trusted_checkpoint: str | None = None) -> ExportReport:
    """Verify an export archive (ZIP bytes) with the log's verifier key only.

    The key is checked first, then the archive is unpacked and its members verified as
    :func:`ledger.log.export_verify.verify_export_files` does; the same errors are raised.
    """
    verifier = log_verifier(vkey)
    return verify_source(ZipSource(io.BytesIO(data)), verifier, trusted_checkpoint)


def verify_any_export(
    data: bytes, vkey: str, trusted_checkpoint: str | None = None
) -> AnyExportReport:
    """:func:`verify_export` for a range export or a filtered one, as its manifest says."""
    verifier = log_verifier(vkey)
    return verify_any(ZipSource(io.BytesIO(data)), verifier, trusted_checkpoint)
