"""The verifiers' fast path (``ledger.log.chain_run``) only ever accepts what the exact check
(``ledger.log.chain.entry_fields``) accepts, with the same fields, and stops at anything else."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log.chain import GENESIS_PREV_HASH, Entry, MalformedEntry, entry_fields
from ledger.log.chain_run import check_run

pytest.importorskip("msgspec")

T0 = datetime(2026, 12, 7, 6, 28, 21, 731_416, tzinfo=UTC)


def chain(count: int, payload: dict[str, object] | None = None) -> list[bytes]:
    lines, head = [], GENESIS_PREV_HASH
    for seq in range(count):
        moment = T0 + timedelta(seconds=seq, microseconds=seq)
        body = payload if payload is not None else {"n": seq, "note": "é", "q": [1, None, True]}
        line = Entry(seq, "test.entry", moment, "tester", head, body).canonical_bytes()  # type: ignore[arg-type]
        lines.append(line)
        head = hashlib.sha256(line).digest()
    return lines


def test_a_clean_chain_is_accepted_whole_with_its_entry_hashes() -> None:
    lines = chain(40)
    shapes, hexes = check_run(lines, 0, 0, GENESIS_PREV_HASH, len(lines))
    assert len(shapes) == 40
    assert hexes == [hashlib.sha256(line).hexdigest() for line in lines]
    for line, shape in zip(lines, shapes, strict=True):
        assert (shape.seq, bytes.fromhex(shape.prev_hash), shape.timestamp) == entry_fields(line)
    # From the middle, and no further than the limit.
    shapes, _ = check_run(lines, 10, 10, bytes.fromhex(hexes[9]), 5)
    assert [shape.seq for shape in shapes] == list(range(10, 15))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"n":7', b'"n":7.0'),  # a float
        (b'"n":7', b'"n":9007199254740992'),  # beyond 2**53 - 1
        (b'"n":7', b'"n":true'),  # another value: the next link breaks, not this entry
        (b'"v":1}', b'"v":2}'),
        (b'"v":1}', b'"v":true}'),
        (b'"seq":7', b'"seq":8'),
        (b'"seq":7', b'"seq":"7"'),
        (b".731423Z", b".731423+00:00"),
        (b".731423Z", b"Z"),
        (b"2026-12-07T", b"2026-12-07t"),
        (b'"kind":"test.entry"', b'"kind":1'),
        (b'"actor":"tester",', b""),
        (b'{"actor"', b'{"extra":1,"actor"'),
        (b'"q":[1,null,true]', b'"q":[1, null,true]'),
        (b"\xc3\xa9", b"\\u00e9"),
    ],
)
def test_the_run_stops_at_an_entry_it_cannot_vouch_for(old: bytes, new: bytes) -> None:
    lines = chain(12)
    assert old in lines[7]
    lines[7] = lines[7].replace(old, new, 1)
    shapes, _ = check_run(lines, 0, 0, GENESIS_PREV_HASH, len(lines))
    assert len(shapes) in (7, 8)  # the altered entry, or (canonical but changed) the next link
    if len(shapes) == 8:
        assert entry_fields(lines[7])[0] == 7  # the exact check accepts it too


def test_a_timestamp_without_a_fraction_and_an_early_year_take_the_exact_path() -> None:
    whole = Entry(0, "k", T0.replace(microsecond=0), "a", GENESIS_PREV_HASH, {})
    early = Entry(0, "k", T0.replace(year=999), "a", GENESIS_PREV_HASH, {})
    for entry in (whole, early):
        assert check_run([entry.canonical_bytes()], 0, 0, GENESIS_PREV_HASH, 1) == ([], [])


@settings(max_examples=300)
@given(
    st.integers(0, 11),
    st.integers(0, 400),
    st.binary(min_size=1, max_size=3),
    st.integers(0, 2),
)
def test_whatever_the_fast_path_accepts_the_exact_path_accepts_the_same(
    row: int, offset: int, patch: bytes, cut: int
) -> None:
    lines = chain(12)
    line = lines[row]
    at = offset % len(line)
    lines[row] = line[:at] + patch + line[at + cut :]
    shapes, hexes = check_run(lines, 0, 0, GENESIS_PREV_HASH, len(lines))
    for line, shape, digest in zip(lines, shapes, hexes, strict=False):
        try:
            fields = entry_fields(line)
        except MalformedEntry:
            pytest.fail(f"the fast path accepted a malformed entry: {line!r}")
        assert fields == (shape.seq, bytes.fromhex(shape.prev_hash), shape.timestamp)
        assert Entry.from_canonical(line).payload == shape.payload
        assert hashlib.sha256(line).hexdigest() == digest


def test_lines_in_doubt_cost_a_bounded_amount_of_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every seventh entry has a whole-second time (the exact path's); a verifier's loop over
    the run (fast path, else the exact check of one line) decodes each line a bounded number of
    times (``check_run``: two decodes of a window per line in doubt, a window being at most
    twice the lines accepted before it plus the first window), never the whole rest of the run
    per line in doubt (which would be about 35,000 decodes here)."""
    from ledger.log import chain_run

    lines, head = [], GENESIS_PREV_HASH
    for seq in range(700):
        moment = T0 + timedelta(seconds=seq)
        if seq % 7 == 3:
            moment = moment.replace(microsecond=0)
        line = Entry(seq, "test.entry", moment, "tester", head, {"n": seq}).canonical_bytes()
        lines.append(line)
        head = hashlib.sha256(line).digest()
    decoded = 0
    decode_lines, decode = chain_run._DECODE_LINES, chain_run._DECODE

    def counted_lines(buffer: bytes) -> object:
        nonlocal decoded
        decoded += buffer.count(b"\n")
        return decode_lines(buffer)

    def counted(line: bytes) -> object:
        nonlocal decoded
        decoded += 1
        return decode(line)

    monkeypatch.setattr(chain_run, "_DECODE_LINES", counted_lines)
    monkeypatch.setattr(chain_run, "_DECODE", counted)
    index, previous, in_doubt = 0, GENESIS_PREV_HASH, 0
    while index < len(lines):
        shapes, hexes = check_run(lines, index, index, previous, len(lines) - index)
        for line, shape in zip(lines[index:], shapes, strict=False):
            assert (shape.seq, bytes.fromhex(shape.prev_hash), shape.timestamp) == entry_fields(
                line
            )
        if shapes:
            index += len(shapes)
            previous = bytes.fromhex(hexes[-1])
        else:
            assert entry_fields(lines[index])[0] == index  # the exact path accepts it
            previous = hashlib.sha256(lines[index]).digest()
            index += 1
            in_doubt += 1
    assert in_doubt == 100
    assert decoded <= 4 * len(lines) + in_doubt * (2 * chain_run.FIRST_WINDOW + 1)
