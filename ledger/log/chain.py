"""Ledger entries and the hash chain (verifiable-log.md §1).

An entry is an immutable record; its canonical bytes (RFC 8785) are both the input of the entry
hash and the Merkle leaf. ``prev_hash`` links each entry to the one before it, so a single altered
byte anywhere breaks every later link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.errors import IntegrityError
from ledger.log.canonical import JsonValue, NotCanonicalJson, canonical_bytes, parse_canonical

ENTRY_FORMAT_VERSION = 1
GENESIS_PREV_HASH = bytes(32)
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class MalformedEntry(IntegrityError):
    """Stored entry bytes are not a well-formed, canonical ledger entry."""

    problem_type = "malformed-entry"
    title = "Stored entry bytes are not a well-formed, canonical ledger entry"
    rule = "entry-format"


def format_timestamp(moment: datetime) -> str:
    """UTC, microsecond precision, always the same width: ``2026-11-28T23:18:20.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry. ``payload`` must hold JSON values only (no floats)."""

    seq: int
    kind: str
    timestamp: datetime
    actor: str
    prev_hash: bytes
    payload: Mapping[str, JsonValue] = field(hash=False)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "v": ENTRY_FORMAT_VERSION,
            "seq": self.seq,
            "kind": self.kind,
            "timestamp": format_timestamp(self.timestamp),
            "actor": self.actor,
            "prev_hash": self.prev_hash.hex(),
            "payload": self.payload,
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_json())

    def entry_hash(self) -> bytes:
        return entry_hash(self.canonical_bytes())

    @classmethod
    def from_canonical(cls, data: bytes) -> Entry:
        """Decode stored bytes, refusing anything that is not exactly canonical
        (:func:`entry_fields` says how)."""
        obj, seq, prev_hash, timestamp = _checked_fields(data)
        return cls(
            seq=seq,
            kind=obj["kind"],
            timestamp=timestamp,
            actor=obj["actor"],
            prev_hash=prev_hash,
            payload=obj["payload"],
        )


def entry_fields(data: bytes) -> tuple[int, bytes, datetime]:
    """``seq``, ``prev_hash`` and ``timestamp`` of the entry ``data``, checked exactly as
    :meth:`Entry.from_canonical` checks it, without building the entry (for verifiers that need
    only the chain).

    One entry, one byte string: loose spellings that decode to the same entry (upper-case
    hex, short timestamps, true for 1) would give another leaf for the same content. The
    bytes are canonical JSON (:func:`parse_canonical`), and each field that :meth:`Entry.to_json`
    re-spells (``v``, ``prev_hash``, ``timestamp``) is checked to be in the one spelling it
    writes, so ``to_json()`` is the parsed object and ``canonical_bytes()`` is ``data``
    without serializing the entry again.
    """
    _obj, seq, prev_hash, timestamp = _checked_fields(data)
    return seq, prev_hash, timestamp


def _checked_fields(data: bytes) -> tuple[dict[str, Any], int, bytes, datetime]:
    try:
        obj: Any = parse_canonical(data)
    except NotCanonicalJson as exc:
        raise MalformedEntry(str(exc)) from exc
    if (
        not isinstance(obj, dict)
        or obj.keys() != _ENTRY_FIELDS
        or obj["v"] != ENTRY_FORMAT_VERSION
        or isinstance(obj["v"], bool)
    ):
        raise MalformedEntry("entry object does not have the expected fields")
    prev_hex, stamp = obj["prev_hash"], obj["timestamp"]
    if not isinstance(prev_hex, str) or not isinstance(stamp, str):
        raise MalformedEntry("bad prev_hash or timestamp: they must be strings")
    seq = obj["seq"]
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or not isinstance(obj["kind"], str)
        or not isinstance(obj["actor"], str)
        or not isinstance(obj["payload"], dict)
    ):
        raise MalformedEntry("entry fields have the wrong types")
    try:
        prev_hash = bytes.fromhex(prev_hex)
        timestamp = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise MalformedEntry(f"bad prev_hash or timestamp: {exc}") from exc
    if len(prev_hash) != 32:
        raise MalformedEntry("entry fields have the wrong types")
    # format_timestamp's spelling: isoformat's with microseconds, for years 1000 to 9999 (where
    # strftime's %Y has four digits), in UTC written "Z".
    if (
        prev_hash.hex() != prev_hex
        or stamp[-1:] != "Z"
        or timestamp.tzinfo is not UTC
        or timestamp.year < 1000
        or timestamp.isoformat(timespec="microseconds") != stamp[:-1] + "+00:00"
    ):
        raise MalformedEntry("entry is not in its canonical form")
    return obj, seq, prev_hash, timestamp


_ENTRY_FIELDS = frozenset({"v", "seq", "kind", "timestamp", "actor", "prev_hash", "payload"})


def entry_hash(canonical: bytes) -> bytes:
    """Entry hash = SHA-256 of the canonical bytes (which include ``prev_hash``)."""
    return hashlib.sha256(canonical).digest()


@dataclass(frozen=True, slots=True)
class ChainFault:
    """The first problem found at ``seq``."""

    seq: int
    reason: str


def verify_chain(
    entries: Iterable[bytes], start_seq: int = 0, prev_hash: bytes = GENESIS_PREV_HASH
) -> ChainFault | None:
    """Check canonical bytes in order; return the first fault, or ``None`` if the chain holds."""
    expected_seq = start_seq
    for data in entries:
        try:
            entry = Entry.from_canonical(data)
        except MalformedEntry as exc:
            return ChainFault(expected_seq, str(exc))
        if entry.seq != expected_seq:
            return ChainFault(expected_seq, f"entry says seq {entry.seq}")
        if entry.prev_hash != prev_hash:
            return ChainFault(expected_seq, "prev_hash does not match the previous entry's hash")
        prev_hash = entry_hash(data)
        expected_seq += 1
    return None
