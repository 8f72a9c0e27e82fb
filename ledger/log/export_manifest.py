"""Strict reading of an export's JSON members (``ledger.log.export_format``): canonical JSON
documents, typed field access that reports faults against the member (and entry seq), and the
manifest.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.log.canonical import NotCanonicalJson, parse_canonical
from ledger.log.chain import parse_timestamp
from ledger.log.encoding import b64encode
from ledger.log.export_format import (
    AEF_FILE,
    CONSISTENCY_FILE,
    EXPORT_FILES,
    EXPORT_FORMAT,
    FIRST_PROOF_FILE,
    LAST_PROOF_FILE,
    MANIFEST_FILE,
    MANIFEST_KEYS,
    MANIFEST_SIGNATURE_FILE,
    PROOFS_FILE,
    TLOG_PROOFS_FILE,
    VERSIONS,
    ExportFormatInvalid,
    ExportInclusionInvalid,
    ExportInvalid,
)
from ledger.log.merkle import HASH_SIZE

PROOF_FILES = frozenset(
    {PROOFS_FILE, FIRST_PROOF_FILE, LAST_PROOF_FILE, TLOG_PROOFS_FILE, AEF_FILE}
)
"""The proof members: each format lists its own and no other."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """The checked fields of ``manifest.json``; ``files`` maps a member to (SHA-256, size)."""

    format: str
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


JSON_LIMIT_ERRORS = (ValueError, RecursionError)
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
    if len(raw) != HASH_SIZE or b64encode(raw) != text:
        return None
    return raw


def parse_json_file(data: bytes, file: str, seq: int | None = None) -> Any:
    """A canonical JSON document followed by one newline (or, with ``seq``, a JSONL line)."""
    body = data
    if seq is None:
        if not data.endswith(b"\n"):
            raise ExportFormatInvalid("must end with a newline", file=file)
        body = data[:-1]
    try:
        return parse_canonical(body)
    except (NotCanonicalJson, *JSON_LIMIT_ERRORS) as exc:
        error = ExportFormatInvalid if seq is None else ExportInclusionInvalid
        reason = exc.message if isinstance(exc, NotCanonicalJson) else str(exc)
        raise error(f"not RFC 8785 canonical JSON: {reason}", file=file, seq=seq) from exc


class Fields:
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

    def obj(self, key: str, keys: frozenset[str]) -> Fields:
        return Fields(self._value[key], f"{self._what}.{key}", self._file, keys, self._seq)


def file_record(listing: Mapping[str, object], name: str) -> tuple[str, int]:
    """The SHA-256 (64 lower-case hex digits) and size the manifest's ``files`` object
    lists for member ``name``."""
    record = Fields(
        listing[name], f"manifest.files.{name}", MANIFEST_FILE, frozenset({"sha256", "size"})
    )
    digest = record.text("sha256")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise record.fail("sha256 must be 64 lower-case hex digits")
    return digest, record.integer("size")


def parse_manifest(data: bytes) -> Manifest:
    """``manifest.json`` checked field by field and against itself (range, counts, file list)."""
    fields = Fields(parse_json_file(data, MANIFEST_FILE), "manifest", MANIFEST_FILE, MANIFEST_KEYS)
    version = fields.raw("format")
    if not isinstance(version, str) or version not in VERSIONS:
        raise fields.fail(
            f"format must be {EXPORT_FORMAT!r} or one of {', '.join(sorted(VERSIONS))}, "
            f"got {version!r}"
        )
    formats, required = VERSIONS[version]
    if fields.raw("formats") != formats:
        for other, (other_formats, _listed) in VERSIONS.items():
            if fields.raw("formats") == other_formats:
                raise fields.fail(
                    f"format must be {other!r} for the formats it lists, got {version!r}"
                )
        raise fields.fail(f"formats must be {dict(formats)!r}, got {fields.raw('formats')!r}")
    filters = fields.obj("filters", frozenset({"start", "end"}))
    time_range = fields.obj("time_range", frozenset({"first", "last"}))
    listing = fields.raw("files")
    if not isinstance(listing, dict):
        raise fields.fail("files must be an object of file name to size and SHA-256")
    files: dict[str, tuple[str, int]] = {}
    for name in sorted(listing):
        if (
            name not in EXPORT_FILES
            or name in (MANIFEST_FILE, MANIFEST_SIGNATURE_FILE)
            or (name in PROOF_FILES and name not in required)
        ):
            raise fields.fail(
                f"files lists {name!r}, which is not a member a {version} export may list"
            )
        files[name] = file_record(listing, name)
    for name in sorted(required):
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
    return Manifest(
        format=version,
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
