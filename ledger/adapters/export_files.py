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

import io
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from ledger.log.export_format import EXPORT_FILES, ExportFormatInvalid
from ledger.log.export_verify import ExportReport, log_verifier, verify_members

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


def unpack_export(data: bytes) -> dict[str, bytes]:
    """The members of an export archive, refusing duplicate, unknown or oversized members."""
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename
                if name not in EXPORT_FILES:
                    raise ExportFormatInvalid(
                        f"unexpected member {name!r}; an export holds only "
                        f"{', '.join(sorted(EXPORT_FILES))}",
                        file=name,
                    )
                if name in files:
                    raise ExportFormatInvalid("the archive holds this member twice", file=name)
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ExportFormatInvalid(
                        f"member is {info.file_size} bytes, over the {MAX_MEMBER_BYTES} limit",
                        file=name,
                    )
                files[name] = archive.read(info)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # zipfile's answer to an unsupported compression method
        RuntimeError,
        ValueError,
        EOFError,
        OSError,
        zlib.error,
    ) as exc:
        raise ExportFormatInvalid(
            f"not a readable ZIP archive: {exc}", file="archive", reason=str(exc)
        ) from exc
    return files


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
    return verify_members(unpack_export(data), verifier, trusted_checkpoint)
