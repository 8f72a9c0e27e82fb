"""Signed exports: a contiguous range of the log that an auditor verifies offline, forever,
trusting only the log's verifier key (verifiable-log.md §5).

Format ``a6ledger-export/v1``
=============================

An export is one ZIP archive (or the same files unpacked into a directory). Members are stored
in sorted name order with fixed timestamps (1980-01-01 00:00:00), so the same content always
gives the same bytes. Every JSON document in it is RFC 8785 canonical JSON
(``ledger.log.canonical``):
integers and strings only, sorted keys, no insignificant whitespace.

``entries.jsonl``
    The canonical bytes of the entries ``seq = start .. end-1``, one per line, each followed by
    ``\\n``. Each line is exactly a Merkle leaf (RFC 9162 leaf hash = SHA-256(0x00 ‖ line)) and
    the input of the entry hash of the hash chain (``ledger.log.chain``).

``checkpoint.txt``
    The signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note, Ed25519) of the tree of
    size ``tree_size >= end`` that every entry is proven against.

``proofs.jsonl``
    One line per entry, in the same order::

        {"audit_path":[<base64 hash>, ...],"leaf_index":<seq>,"tree_size":<tree_size>}

    the RFC 9162 §2.1.3 inclusion proof (leaf level first) of that entry in the checkpoint's
    tree. Every line can be checked on its own by any RFC 9162 implementation, so every entry is
    proven individually and a failure names the entry. (A whole-tree export would not need
    them, but with them the verifier can always say *which* entry does not belong.)

``consistency.json`` (only when the export was asked for with a previous tree size)
    ``{"first":<previous size>,"previous_checkpoint":"<signed note>","proof":[<base64>, ...],
    "second":<tree_size>}``: the log's signed checkpoint at the previous size and the RFC 9162
    §2.1.4 consistency proof that the exported checkpoint's tree extends it. An auditor who kept
    the previous checkpoint (e.g. from the previous export) compares it with this one.

``manifest.json``
    One canonical JSON object followed by ``\\n``::

        {"created_at": "<UTC timestamp>", "files": {<name>: {"sha256": <hex>, "size": <bytes>}},
         "filters": {"end": <end>, "start": <start>}, "first_seq": <start>,
         "format": "a6ledger-export/v1",
         "formats": {"checkpoint": "c2sp.org/tlog-checkpoint", "entry": 1,
                     "proof": "rfc9162-inclusion", "signature": "c2sp.org/signed-note+ed25519"},
         "key_id": "<8 hex digits>", "key_name": "<log key name>", "last_seq": <end - 1>,
         "origin": "<checkpoint origin>", "previous_tree_size": <size or null>,
         "root_hash": "<base64>", "row_count": <end - start>,
         "time_range": {"first": <timestamp of seq start>, "last": <timestamp of seq end-1>},
         "tree_size": <tree_size>}

    ``files`` lists every other member except ``manifest.sig``.

``manifest.sig``
    A C2SP signed note by the log key whose text is two lines::

        a6ledger-export-manifest/v1
        <SHA-256 of manifest.json, 64 lower-case hex digits>

    The header line separates this signature from every other note the log key signs (a
    checkpoint has at least three lines and a decimal second line), as tlog-cosignature does with
    ``cosignature/v1``.

Verification (:func:`verify_export`) checks, in this order, and stops at the first failure with
an :class:`ExportInvalid` naming the file, and the entry seq where there is one: the archive's
members; the manifest signature and its digest of ``manifest.json``; the manifest's fields and
file list; the checkpoint signature and that it is the manifest's checkpoint; every entry
(canonical, ``seq`` consecutive from ``start``, ``prev_hash`` = entry hash of the entry before
it, genesis ``prev_hash`` at seq 0, its inclusion proof against the checkpoint root); the row
count and time range; the consistency proof and the previous checkpoint's signature; finally
each file's size and SHA-256 against the manifest. Content is checked before file digests so
that an altered entry is reported by its seq rather than only as an altered file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger.errors import IntegrityError, InvalidInput, ProofError
from ledger.log import note
from ledger.log.canonical import JsonValue, NotCanonicalJson, canonical_bytes, parse_canonical
from ledger.log.chain import (
    ENTRY_FORMAT_VERSION,
    GENESIS_PREV_HASH,
    Entry,
    MalformedEntry,
    entry_hash,
    format_timestamp,
    parse_timestamp,
)
from ledger.log.keys import SIGNATURE_TYPE_ED25519, InvalidKey
from ledger.log.merkle import (
    HASH_SIZE,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.log.tlog_checkpoint import Checkpoint, MalformedCheckpoint, sign_checkpoint

EXPORT_FORMAT = "a6ledger-export/v1"
"""``format`` of the manifest."""

MANIFEST_SIGNATURE_HEADER = "a6ledger-export-manifest/v1"
"""First line of the note text in ``manifest.sig``."""

FORMATS: Mapping[str, JsonValue] = {
    "checkpoint": "c2sp.org/tlog-checkpoint",
    "entry": ENTRY_FORMAT_VERSION,
    "proof": "rfc9162-inclusion",
    "signature": "c2sp.org/signed-note+ed25519",
}
"""Versions of the formats inside a v1 export (manifest ``formats``)."""

ENTRIES_FILE = "entries.jsonl"
CHECKPOINT_FILE = "checkpoint.txt"
PROOFS_FILE = "proofs.jsonl"
CONSISTENCY_FILE = "consistency.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_SIGNATURE_FILE = "manifest.sig"

EXPORT_FILES = frozenset(
    {
        ENTRIES_FILE,
        CHECKPOINT_FILE,
        PROOFS_FILE,
        CONSISTENCY_FILE,
        MANIFEST_FILE,
        MANIFEST_SIGNATURE_FILE,
    }
)
"""Every member name an export may hold."""

MAX_MEMBER_BYTES = 1 << 32
"""Largest member accepted when reading an archive (4 GiB), so a hostile file cannot make the
verifier inflate without bound."""

_REQUIRED_LISTED = (CHECKPOINT_FILE, ENTRIES_FILE, PROOFS_FILE)
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_ZIP_UNIX = 3
_ZIP_FILE_MODE = 0o100644
_COMPRESS_LEVEL = 6
_MANIFEST_KEYS = frozenset(
    {
        "created_at",
        "files",
        "filters",
        "first_seq",
        "format",
        "formats",
        "key_id",
        "key_name",
        "last_seq",
        "origin",
        "previous_tree_size",
        "root_hash",
        "row_count",
        "time_range",
        "tree_size",
    }
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ExportRangeInvalid(InvalidInput):
    """An export needs 0 <= start < end <= tree size, and a previous tree size in 1..tree size."""

    rule = "export-range"


class ExportSourceInvalid(IntegrityError):
    """The log's own entries, nodes or proofs do not reproduce its root: nothing was signed."""

    rule = "export-source"


class ExportInvalid(ProofError):
    """An export does not verify. ``file`` names the member, ``seq`` the entry where relevant."""

    rule = "export"

    def __init__(self, message: str, *, file: str, seq: int | None = None, **details: Any) -> None:
        where = file if seq is None else f"{file}, entry seq {seq}"
        super().__init__(f"{where}: {message}", file=file, seq=seq, **details)
        self.file = file
        self.seq = seq


class ExportFormatInvalid(ExportInvalid):
    """The archive, a member or a manifest field is malformed, missing or unexpected."""

    rule = "export-format"


class ExportSignatureInvalid(ExportInvalid):
    """A signed note in the export (manifest or checkpoint) does not verify with the log key."""

    rule = "export-signature"


class ExportFileHashMismatch(ExportInvalid):
    """A member's size or SHA-256 differs from the one the signed manifest lists."""

    rule = "export-file-hash"


class ExportEntryInvalid(ExportInvalid):
    """An exported entry is not canonical, out of sequence, or breaks the hash chain."""

    rule = "export-entry"


class ExportInclusionInvalid(ExportInvalid):
    """An entry's inclusion proof does not lead to the signed checkpoint's root."""

    rule = "export-inclusion"


class ExportConsistencyInvalid(ExportInvalid):
    """The consistency proof from the previous checkpoint does not verify."""

    rule = "export-consistency"


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


class LogReader(Protocol):
    """What an export reads from the log: the read half of :class:`ledger.ports.LedgerLog`."""

    def size(self) -> int: ...

    def read_entries(self, start: int, end: int) -> list[bytes]: ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _split_point(n: int) -> int:
    """RFC 9162 §2.1.1: the largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges of the subtrees whose hashes form PATH(index, D[0:size]), leaf level first
    (RFC 9162 §2.1.3.1)."""
    ranges: list[tuple[int, int]] = []
    low, high = 0, size
    while high - low > 1:
        middle = low + _split_point(high - low)
        if index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    ranges.reverse()
    return ranges


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
    known: dict[tuple[int, int], bytes] = {}
    for index, proof in ((start, first_proof), (end - 1, last_proof)):
        ranges = _path_ranges(index, size)
        if len(ranges) != len(proof) or any(len(h) != HASH_SIZE for h in proof):
            raise ExportSourceInvalid(
                f"the log's inclusion proof of leaf {index} in the tree of size {size} has "
                f"{len(proof)} elements or a malformed hash; it must have {len(ranges)} hashes",
                index=index,
                tree_size=size,
            )
        for (low, high), value in zip(ranges, proof, strict=True):
            if high <= start or low >= end:
                known[(low, high)] = bytes(value)
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
            middle = low + _split_point(high - low)
            value = node_hash(subtree(low, middle), subtree(middle, high))
        memo[key] = value
        return value

    root = subtree(0, size)
    proofs = [
        [subtree(low, high) for low, high in _path_ranges(i, size)] for i in range(start, end)
    ]
    return root, proofs


def _json_file(value: JsonValue) -> bytes:
    return canonical_bytes(value) + b"\n"


def _file_record(data: bytes) -> dict[str, JsonValue]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _manifest_signature_text(manifest: bytes) -> str:
    return f"{MANIFEST_SIGNATURE_HEADER}\n{hashlib.sha256(manifest).hexdigest()}\n"


def _check_range(start: int, end: int, size: int, previous_size: int | None) -> None:
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
    clock: Callable[[], datetime] = _utc_now,
) -> bytes:
    """The signed export (ZIP bytes) of entries ``[start, end)``, proven against the checkpoint
    of the log's current size, with a consistency proof from ``previous_size`` when given.

    Raises :class:`ExportRangeInvalid` for a bad range and :class:`ExportSourceInvalid` when the
    log's entries and proofs do not reproduce its root (the export is then not signed).
    """
    size = log.size()
    _check_range(start, end, size, previous_size)
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
            f"{root_from_nodes.hex()}, not the log's root {root.hex()} at size {size}",
            tree_size=size,
        )
    first, last = Entry.from_canonical(bodies[0]), Entry.from_canonical(bodies[-1])
    checkpoint = Checkpoint(origin=origin, size=size, root_hash=root)

    files: dict[str, bytes] = {
        ENTRIES_FILE: b"".join(body + b"\n" for body in bodies),
        CHECKPOINT_FILE: sign_checkpoint(checkpoint, [signer]).encode("utf-8"),
        PROOFS_FILE: b"".join(
            _json_file(
                {"audit_path": [_b64(h) for h in path], "leaf_index": seq, "tree_size": size}
            )
            for seq, path in zip(range(start, end), proofs, strict=True)
        ),
    }
    if previous_size is not None:
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
        files[CONSISTENCY_FILE] = _json_file(
            {
                "first": previous_size,
                "previous_checkpoint": sign_checkpoint(previous, [signer]),
                "proof": [_b64(h) for h in proof],
                "second": size,
            }
        )

    manifest = _json_file(
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
            "root_hash": _b64(root),
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
        _manifest_signature_text(manifest), [signer]
    ).encode("utf-8")
    return pack_export(files)


# --------------------------------------------------------------------------------------------
# Archive
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What a verified export proves."""

    origin: str
    tree_size: int
    root_hash: bytes
    key_name: str
    key_id: int
    start: int
    end: int
    row_count: int
    first_timestamp: str
    last_timestamp: str
    head_hash: bytes
    """Entry hash of the last exported entry (the chain head at ``end``)."""
    created_at: str
    previous_size: int | None
    previous_root_hash: bytes | None
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Manifest:
    created_at: str
    files: Mapping[str, tuple[str, int]]
    start: int
    end: int
    key_id: str
    key_name: str
    origin: str
    previous_size: int | None
    root_hash: bytes
    row_count: int
    first_timestamp: str
    last_timestamp: str
    tree_size: int


_JSON_LIMIT_ERRORS = (ValueError, RecursionError)
"""What Python's JSON decoder raises, besides syntax errors, on hostile input: integers of
more than 4,300 digits, and nesting deeper than the recursion limit."""


def _b64_hash(text: object) -> bytes | None:
    """A 32-byte hash in canonical standard base64, or ``None``."""
    if not isinstance(text, str) or len(text) != 44:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    if len(raw) != HASH_SIZE or _b64(raw) != text:
        return None
    return raw


def _parse_json_file(data: bytes, file: str, seq: int | None = None) -> Any:
    """A canonical JSON document followed by one newline (or, with ``seq``, a JSONL line)."""
    body = data
    if seq is None:
        if not data.endswith(b"\n"):
            raise ExportFormatInvalid("must end with a newline", file=file)
        body = data[:-1]
    try:
        return parse_canonical(body)
    except (NotCanonicalJson, *_JSON_LIMIT_ERRORS) as exc:
        error = ExportFormatInvalid if seq is None else ExportInclusionInvalid
        reason = exc.message if isinstance(exc, NotCanonicalJson) else str(exc)
        raise error(f"not RFC 8785 canonical JSON: {reason}", file=file, seq=seq) from exc


class _Fields:
    """Typed access to a JSON object's members, reporting faults against one file."""

    def __init__(
        self, value: Any, what: str, file: str, keys: frozenset[str], seq: int | None = None
    ) -> None:
        error = ExportFormatInvalid if seq is None else ExportInclusionInvalid
        if not isinstance(value, dict):
            raise error(f"{what} must be a JSON object", file=file, seq=seq)
        if set(value) != keys:
            raise error(
                f"{what} must have exactly the members {', '.join(sorted(keys))}; "
                f"it has {', '.join(sorted(value)) or 'none'}",
                file=file,
                seq=seq,
            )
        self._value: dict[str, Any] = value
        self._what = what
        self._file = file
        self._seq = seq
        self._error = error

    def fail(self, message: str) -> ExportInvalid:
        return self._error(f"{self._what}: {message}", file=self._file, seq=self._seq)

    def raw(self, key: str) -> Any:
        return self._value[key]

    def integer(self, key: str) -> int:
        value = self._value[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(f"{key} must be a non-negative integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self._value[key] is None else self.integer(key)

    def text(self, key: str) -> str:
        value = self._value[key]
        if not isinstance(value, str) or value == "":
            raise self.fail(f"{key} must be a non-empty string")
        return value

    def timestamp(self, key: str) -> str:
        value = self.text(key)
        try:
            parse_timestamp(value)
        except ValueError as exc:
            raise self.fail(
                f"{key} {value!r} is not a UTC timestamp like 2026-01-31T00:00:00.000000Z"
            ) from exc
        return value

    def hash(self, key: str) -> bytes:
        value = _b64_hash(self._value[key])
        if value is None:
            raise self.fail(f"{key} must be the standard base64 of a 32-byte hash")
        return value

    def hashes(self, key: str) -> list[bytes]:
        values = self._value[key]
        if not isinstance(values, list):
            raise self.fail(f"{key} must be a list of base64 hashes")
        result: list[bytes] = []
        for position, text in enumerate(values):
            value = _b64_hash(text)
            if value is None:
                raise self.fail(f"{key}[{position}] is not the standard base64 of a 32-byte hash")
            result.append(value)
        return result

    def obj(self, key: str, keys: frozenset[str]) -> _Fields:
        return _Fields(self._value[key], f"{self._what}.{key}", self._file, keys, self._seq)


def _parse_manifest(data: bytes) -> _Manifest:
    fields = _Fields(
        _parse_json_file(data, MANIFEST_FILE), "manifest", MANIFEST_FILE, _MANIFEST_KEYS
    )
    if fields.raw("format") != EXPORT_FORMAT:
        raise fields.fail(f"format must be {EXPORT_FORMAT!r}, got {fields.raw('format')!r}")
    if fields.raw("formats") != FORMATS:
        raise fields.fail(f"formats must be {dict(FORMATS)!r}, got {fields.raw('formats')!r}")
    filters = fields.obj("filters", frozenset({"start", "end"}))
    time_range = fields.obj("time_range", frozenset({"first", "last"}))
    listing = fields.raw("files")
    if not isinstance(listing, dict):
        raise fields.fail("files must be an object of file name to size and SHA-256")
    files: dict[str, tuple[str, int]] = {}
    for name in sorted(listing):
        if name not in EXPORT_FILES or name in (MANIFEST_FILE, MANIFEST_SIGNATURE_FILE):
            raise fields.fail(f"files lists {name!r}, which is not a member an export may list")
        record = _Fields(
            listing[name],
            f"manifest.files.{name}",
            MANIFEST_FILE,
            frozenset({"sha256", "size"}),
        )
        digest = record.text("sha256")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise record.fail("sha256 must be 64 lower-case hex digits")
        files[name] = (digest, record.integer("size"))
    for name in _REQUIRED_LISTED:
        if name not in files:
            raise fields.fail(f"files does not list the required member {name}")
    start, end = filters.integer("start"), filters.integer("end")
    tree_size = fields.integer("tree_size")
    previous_size = fields.optional_integer("previous_tree_size")
    if not start < end <= tree_size:
        raise fields.fail(f"filters [{start}, {end}) must be a non-empty range within {tree_size}")
    if (
        fields.integer("row_count") != end - start
        or fields.integer("first_seq") != start
        or fields.integer("last_seq") != end - 1
    ):
        raise fields.fail(
            f"row_count, first_seq and last_seq must be {end - start}, {start} and {end - 1} "
            f"for the range [{start}, {end})"
        )
    if previous_size is not None and not 0 < previous_size <= tree_size:
        raise fields.fail(f"previous_tree_size {previous_size} must be in 1..{tree_size}")
    if (previous_size is None) != (CONSISTENCY_FILE not in files):
        raise fields.fail(
            f"{CONSISTENCY_FILE} must be listed exactly when previous_tree_size is set"
        )
    return _Manifest(
        created_at=fields.timestamp("created_at"),
        files=files,
        start=start,
        end=end,
        key_id=fields.text("key_id"),
        key_name=fields.text("key_name"),
        origin=fields.text("origin"),
        previous_size=previous_size,
        root_hash=fields.hash("root_hash"),
        row_count=end - start,
        first_timestamp=time_range.timestamp("first"),
        last_timestamp=time_range.timestamp("last"),
        tree_size=tree_size,
    )


def _open_signed(
    data: bytes | str, verifier: note.Verifier, file: str, what: str
) -> tuple[str, tuple[note.NoteSignature, ...]]:
    try:
        return note.open_note(data, [verifier])
    except note.MalformedNote as exc:
        raise ExportFormatInvalid(
            f"{what} is not a C2SP signed note: {exc.message}", file=file
        ) from exc
    except (note.SignatureInvalid, note.NoKnownSignature) as exc:
        raise ExportSignatureInvalid(
            f"{what} does not verify with {verifier.name}+{verifier.key_id:08x}: {exc.message}",
            file=file,
        ) from exc


def _open_checkpoint(
    data: bytes | str, verifier: note.Verifier, file: str, what: str
) -> Checkpoint:
    text, _signatures = _open_signed(data, verifier, file, what)
    try:
        return Checkpoint.parse(text)
    except MalformedCheckpoint as exc:
        raise ExportFormatInvalid(f"{what}: {exc.message}", file=file) from exc


def _lines(data: bytes, file: str) -> list[bytes]:
    if data == b"":
        return []
    if not data.endswith(b"\n"):
        raise ExportFormatInvalid("the last line does not end with a newline", file=file)
    return data[:-1].split(b"\n")


def _verify_entries(
    files: Mapping[str, bytes], manifest: _Manifest, checkpoint: Checkpoint
) -> bytes:
    """Check every entry and its proof; return the entry hash of the last entry."""
    entries = _lines(files[ENTRIES_FILE], ENTRIES_FILE)
    proofs = _lines(files[PROOFS_FILE], PROOFS_FILE)
    previous_hash: bytes | None = GENESIS_PREV_HASH if manifest.start == 0 else None
    timestamps: list[str] = []
    proof_keys = frozenset({"audit_path", "leaf_index", "tree_size"})
    for position, line in enumerate(entries):
        seq = manifest.start + position
        if seq >= manifest.end:
            raise ExportEntryInvalid(
                f"line {position + 1} is beyond the last entry seq {manifest.end - 1} of the "
                f"range; the manifest lists {manifest.row_count} entries",
                file=ENTRIES_FILE,
                seq=seq,
            )
        try:
            entry = Entry.from_canonical(line)
        except (MalformedEntry, *_JSON_LIMIT_ERRORS) as exc:
            reason = exc.message if isinstance(exc, MalformedEntry) else str(exc)
            raise ExportEntryInvalid(
                f"line {position + 1} is not a canonical ledger entry: {reason}",
                file=ENTRIES_FILE,
                seq=seq,
            ) from exc
        if entry.seq != seq:
            raise ExportEntryInvalid(
                f"line {position + 1} holds seq {entry.seq} where seq {seq} belongs: an entry "
                "is missing, repeated or out of order",
                file=ENTRIES_FILE,
                seq=seq,
            )
        if previous_hash is not None and entry.prev_hash != previous_hash:
            link = "the genesis value (32 zero bytes)" if seq == 0 else f"entry seq {seq - 1}"
            raise ExportEntryInvalid(
                f"prev_hash {entry.prev_hash.hex()} is not the entry hash of {link} "
                f"({previous_hash.hex()}): the hash chain is broken",
                file=ENTRIES_FILE,
                seq=seq,
            )
        if position >= len(proofs):
            raise ExportInclusionInvalid(
                f"there is no inclusion proof line for this entry ({len(proofs)} lines)",
                file=PROOFS_FILE,
                seq=seq,
            )
        proof = _Fields(
            _parse_json_file(proofs[position], PROOFS_FILE, seq),
            f"proof line {position + 1}",
            PROOFS_FILE,
            proof_keys,
            seq,
        )
        index, size = proof.integer("leaf_index"), proof.integer("tree_size")
        if (index, size) != (seq, checkpoint.size):
            raise proof.fail(
                f"proves leaf {index} in a tree of size {size}, not leaf {seq} in the "
                f"checkpoint's tree of size {checkpoint.size}"
            )
        try:
            verify_inclusion(
                leaf_hash(line),
                seq,
                checkpoint.size,
                proof.hashes("audit_path"),
                checkpoint.root_hash,
            )
        except InclusionProofInvalid as exc:
            raise ExportInclusionInvalid(
                f"the entry is not proven in the signed checkpoint by its inclusion proof "
                f"({PROOFS_FILE} line {position + 1}): the entry or the proof was altered; "
                f"{exc.message}",
                file=ENTRIES_FILE,
                seq=seq,
            ) from exc
        previous_hash = entry_hash(line)
        timestamps.append(format_timestamp(entry.timestamp))
    if len(entries) < manifest.row_count:
        missing = manifest.start + len(entries)
        raise ExportEntryInvalid(
            f"the file ends after {len(entries)} entries; entries seq {missing} to "
            f"{manifest.end - 1} are missing",
            file=ENTRIES_FILE,
            seq=missing,
        )
    if len(proofs) > len(entries):
        raise ExportInclusionInvalid(
            f"{len(proofs)} proof lines for {len(entries)} entries", file=PROOFS_FILE
        )
    if (timestamps[0], timestamps[-1]) != (manifest.first_timestamp, manifest.last_timestamp):
        raise ExportFormatInvalid(
            f"time_range [{manifest.first_timestamp}, {manifest.last_timestamp}] is not the "
            f"entries' [{timestamps[0]}, {timestamps[-1]}]",
            file=MANIFEST_FILE,
        )
    assert previous_hash is not None
    return previous_hash


def _verify_consistency(
    data: bytes, manifest: _Manifest, checkpoint: Checkpoint, verifier: note.Verifier
) -> tuple[int, bytes]:
    fields = _Fields(
        _parse_json_file(data, CONSISTENCY_FILE),
        "consistency",
        CONSISTENCY_FILE,
        frozenset({"first", "previous_checkpoint", "proof", "second"}),
    )
    first, second = fields.integer("first"), fields.integer("second")
    if (first, second) != (manifest.previous_size, checkpoint.size):
        raise fields.fail(
            f"proves sizes {first} to {second}, not {manifest.previous_size} to the "
            f"checkpoint's {checkpoint.size}"
        )
    previous = _open_checkpoint(
        fields.text("previous_checkpoint"), verifier, CONSISTENCY_FILE, "previous_checkpoint"
    )
    if previous.origin != checkpoint.origin or previous.size != first:
        raise fields.fail(
            f"previous_checkpoint is for {previous.origin} at size {previous.size}, not "
            f"{checkpoint.origin} at size {first}"
        )
    try:
        verify_consistency(
            first, second, fields.hashes("proof"), previous.root_hash, checkpoint.root_hash
        )
    except ConsistencyProofInvalid as exc:
        raise ExportConsistencyInvalid(
            f"the checkpoint of size {second} is not proven to extend the previous checkpoint "
            f"of size {first}: {exc.message}",
            file=CONSISTENCY_FILE,
        ) from exc
    return first, previous.root_hash


def verify_export(data: bytes, vkey: str, trusted_checkpoint: str | None = None) -> ExportReport:
    """Verify an export archive with the log's verifier key only (see the module docstring).

    ``trusted_checkpoint`` is a signed checkpoint the auditor kept from before (e.g. the one
    published with the last report): the export must then prove, with its consistency proof,
    that its tree extends exactly that one, so rewritten history cannot pass even if it was
    signed with the log's key.

    Raises :class:`ExportInvalid` (a :class:`ledger.errors.ProofError`) naming the file, and the
    entry seq where there is one; :class:`ledger.log.keys.InvalidKey` if ``vkey`` is not usable.
    """
    verifier = _log_verifier(vkey)
    return _verify_files(unpack_export(data), verifier, trusted_checkpoint)


def verify_export_files(
    files: Mapping[str, bytes], vkey: str, trusted_checkpoint: str | None = None
) -> ExportReport:
    """Verify an export given as its members (an unpacked archive), like :func:`verify_export`."""
    return _verify_files(files, _log_verifier(vkey), trusted_checkpoint)


def _check_trusted(
    trusted_text: str,
    verifier: note.Verifier,
    checkpoint: Checkpoint,
    previous: tuple[int, bytes] | None,
) -> None:
    trusted = _open_checkpoint(
        trusted_text.encode("utf-8"), verifier, "trusted checkpoint", "the trusted checkpoint"
    )
    if trusted.origin != checkpoint.origin:
        raise ExportConsistencyInvalid(
            f"the trusted checkpoint is of {trusted.origin}, not {checkpoint.origin}",
            file=CHECKPOINT_FILE,
        )
    if trusted.size == checkpoint.size:
        if trusted.root_hash != checkpoint.root_hash:
            raise ExportConsistencyInvalid(
                f"the export's tree of size {checkpoint.size} differs from the trusted one: "
                "the log signed two inconsistent checkpoints",
                file=CHECKPOINT_FILE,
            )
        return
    if previous is None or previous[0] != trusted.size:
        raise ExportConsistencyInvalid(
            f"the export carries no consistency proof from the trusted size {trusted.size}: "
            f"ask for it with previous_size={trusted.size}",
            file=CONSISTENCY_FILE,
        )
    if previous[1] != trusted.root_hash:
        raise ExportConsistencyInvalid(
            f"the export's previous checkpoint of size {trusted.size} differs from the trusted "
            "one: the log signed two inconsistent checkpoints",
            file=CONSISTENCY_FILE,
        )


def _log_verifier(vkey: str) -> note.Verifier:
    verifier = note.Verifier(vkey)
    if verifier.signature_type != SIGNATURE_TYPE_ED25519:
        raise InvalidKey(
            f"{verifier.name}+{verifier.key_id:08x} is a cosigner key; an export is verified "
            "with the log's Ed25519 (type 0x01) key"
        )
    return verifier


def _verify_files(
    files: Mapping[str, bytes], verifier: note.Verifier, trusted_checkpoint: str | None = None
) -> ExportReport:
    for name in sorted(files):
        if name not in EXPORT_FILES:
            raise ExportFormatInvalid(f"unexpected member {name!r}", file=name)
    for name in (MANIFEST_SIGNATURE_FILE, MANIFEST_FILE):
        if name not in files:
            raise ExportFormatInvalid("the export has no such member", file=name)

    text, _signatures = _open_signed(
        files[MANIFEST_SIGNATURE_FILE], verifier, MANIFEST_SIGNATURE_FILE, "the manifest signature"
    )
    header, _newline, _digest = text.partition("\n")
    if header != MANIFEST_SIGNATURE_HEADER:
        raise ExportFormatInvalid(
            f"the signed text does not start with {MANIFEST_SIGNATURE_HEADER!r}",
            file=MANIFEST_SIGNATURE_FILE,
        )
    if text != _manifest_signature_text(files[MANIFEST_FILE]):
        raise ExportFileHashMismatch(
            "its SHA-256 is not the one signed in manifest.sig: the manifest was altered",
            file=MANIFEST_FILE,
        )
    manifest = _parse_manifest(files[MANIFEST_FILE])
    if (manifest.key_name, manifest.key_id) != (verifier.name, f"{verifier.key_id:08x}"):
        raise ExportFormatInvalid(
            f"names the key {manifest.key_name}+{manifest.key_id}, but it was signed by "
            f"{verifier.name}+{verifier.key_id:08x}",
            file=MANIFEST_FILE,
        )
    present = set(files) - {MANIFEST_FILE, MANIFEST_SIGNATURE_FILE}
    for name in sorted(set(manifest.files) | present):
        if name not in present:
            raise ExportFormatInvalid("listed in the manifest but missing", file=name)
        if name not in manifest.files:
            raise ExportFormatInvalid("present but not listed in the signed manifest", file=name)

    checkpoint = _open_checkpoint(
        files[CHECKPOINT_FILE], verifier, CHECKPOINT_FILE, "the checkpoint"
    )
    if (checkpoint.origin, checkpoint.size, checkpoint.root_hash) != (
        manifest.origin,
        manifest.tree_size,
        manifest.root_hash,
    ):
        raise ExportFormatInvalid(
            f"the checkpoint ({checkpoint.origin}, size {checkpoint.size}, root "
            f"{_b64(checkpoint.root_hash)}) is not the manifest's ({manifest.origin}, size "
            f"{manifest.tree_size}, root {_b64(manifest.root_hash)})",
            file=CHECKPOINT_FILE,
        )
    head_hash = _verify_entries(files, manifest, checkpoint)
    previous: tuple[int, bytes] | None = None
    if manifest.previous_size is not None:
        previous = _verify_consistency(files[CONSISTENCY_FILE], manifest, checkpoint, verifier)
    if trusted_checkpoint is not None:
        _check_trusted(trusted_checkpoint, verifier, checkpoint, previous)
    for name, (digest, size) in sorted(manifest.files.items()):
        data = files[name]
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise ExportFileHashMismatch(
                f"{len(data)} bytes with SHA-256 {hashlib.sha256(data).hexdigest()}, but the "
                f"signed manifest lists {size} bytes with SHA-256 {digest}",
                file=name,
            )
    return ExportReport(
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=verifier.name,
        key_id=verifier.key_id,
        start=manifest.start,
        end=manifest.end,
        row_count=manifest.row_count,
        first_timestamp=manifest.first_timestamp,
        last_timestamp=manifest.last_timestamp,
        head_hash=head_hash,
        created_at=manifest.created_at,
        previous_size=None if previous is None else previous[0],
        previous_root_hash=None if previous is None else previous[1],
        files=tuple(sorted(files)),
    )
