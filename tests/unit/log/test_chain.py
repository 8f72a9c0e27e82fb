"""Canonical entry bytes (RFC 8785) and the hash chain, checked byte flip by byte flip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.log.canonical import NotCanonicalJson, canonical_bytes, parse_canonical
from ledger.log.chain import GENESIS_PREV_HASH, Entry, MalformedEntry, entry_hash, verify_chain

MOMENT = datetime(2026, 11, 28, 23, 18, 20, 123456, tzinfo=UTC)


def chain(count: int) -> list[bytes]:
    bodies: list[bytes] = []
    prev = GENESIS_PREV_HASH
    for seq in range(count):
        body = Entry(seq, "test.note", MOMENT, "test", prev, {"n": seq, "é": "ü"}).canonical_bytes()
        bodies.append(body)
        prev = entry_hash(body)
    return bodies


def test_canonical_bytes_follow_rfc_8785() -> None:
    assert canonical_bytes({"b": 1, "a": [True, None, "\u20ac"]}) == (
        '{"a":[true,null,"\u20ac"],"b":1}'.encode()
    )


@pytest.mark.parametrize(
    "value", [{"q": 1.5}, {"q": 2**53}, {"q": -(2**53)}, {1: "key"}, {"q": b"bytes"}, {"q": {2.0}}]
)
def test_canonical_bytes_refuse_what_is_not_exact_json(value: object) -> None:
    with pytest.raises(NotCanonicalJson):
        canonical_bytes(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1, "a":2}',
        b'{"b":1,"a":2}',
        b'{"a":1.0}',
        b"\xff",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' + b"9" * 5000 + b"}",
    ],
)
def test_parse_canonical_refuses_non_canonical_or_hostile_bytes(data: bytes) -> None:
    with pytest.raises(NotCanonicalJson):
        parse_canonical(data)


def test_entry_round_trips_through_its_canonical_bytes() -> None:
    body = chain(1)[0]
    entry = Entry.from_canonical(body)
    assert entry.canonical_bytes() == body
    assert entry.timestamp == MOMENT
    assert body.startswith(b'{"actor":"test","kind":"test.note","payload"')


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(chain(5)) is None


def test_every_flipped_byte_is_found_at_its_entry() -> None:
    bodies = chain(3)
    for position in range(len(bodies[1])):
        for bit in (0x01, 0x20):
            tampered = bytearray(bodies[1])
            tampered[position] ^= bit
            fault = verify_chain([bodies[0], bytes(tampered), bodies[2]])
            assert fault is not None, (position, bit)
            assert fault.seq in (1, 2), (position, bit)


def test_missing_or_reordered_entries_are_found() -> None:
    bodies = chain(4)
    fault = verify_chain([bodies[0], bodies[2], bodies[3]])
    assert fault is not None
    assert fault.seq == 1
    fault = verify_chain([bodies[1], bodies[0]])
    assert fault is not None
    assert fault.seq == 0


def test_malformed_entries_are_refused() -> None:
    with pytest.raises(MalformedEntry):
        Entry.from_canonical(canonical_bytes({"v": 1, "seq": 0}))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"prev_hash":"00', b'"prev_hash":"0A'),
        (b'"v":1', b'"v":true'),
        (
            b'"timestamp":"2026-11-28T23:18:20.123456Z"',
            b'"timestamp":"2026-11-28T23:18:20.123456Z "',
        ),
    ],
)
def test_loose_spellings_of_an_entry_are_refused(old: bytes, new: bytes) -> None:
    """Every entry has exactly one byte string (one leaf): variants that decode to the same
    fields are malformed, not equivalent."""
    body = chain(1)[0]
    assert old in body
    with pytest.raises(MalformedEntry):
        Entry.from_canonical(body.replace(old, new))


def test_a_lone_surrogate_is_a_chain_fault_not_an_exception() -> None:
    body = chain(1)[0].replace(b'"test.note"', b'"\\ud800"')
    with pytest.raises(MalformedEntry):
        Entry.from_canonical(body)
    fault = verify_chain([body])
    assert fault is not None
    assert fault.seq == 0
