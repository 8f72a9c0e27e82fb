"""The fast path of the chain check: a run of consecutive entries checked as bytes, in one loop.

The verifiers (``verify-export``, ``verify-db``) check millions of entries. Each one is checked
here with a handful of C calls: decoded by msgspec straight into :class:`EntryShape` (exactly the
seven fields, each of its type: no bool for an int, strings for ``kind`` and ``actor``, an object
for ``payload``, an RFC 3339 time for ``timestamp``), re-encoded with sorted keys and compared
with the bytes, and linked by comparing its ``prev_hash`` text with the hex SHA-256 of the entry
before it. Equal bytes after the same preconditions as :func:`ledger.log.canonical.parse_canonical`
(no character outside the Basic Multilingual Plane, no run of 16 digits before the fields that
follow ``payload``, where none can be an integer) mean the entry is
canonical RFC 8785. What the re-encoding cannot vouch for by itself is checked on the decoded
values: ``v`` is 1, and the time is UTC, has a non-zero microsecond (msgspec writes no fraction
for zero, the ledger six digits) and a four-digit year, so the bytes hold
:func:`ledger.log.chain.format_timestamp`'s spelling; ``prev_hash`` equal to a lower-case
hexdigest is the one spelling of those 32 bytes.

The run stops at the first entry it cannot vouch for, and the caller checks that entry with the
exact path (:func:`ledger.log.chain.entry_fields`), which accepts it or says what is wrong with
it. So the fast path only ever accepts what the exact path accepts, with the same fields (tests
check it on altered entries), and every fault is still named by the exact path.

Without msgspec (the verifier may be installed without it) no run is accepted and every entry
takes the exact path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

from ledger.log.canonical import NotCanonicalJson

_OUTSIDE_BMP = re.compile(rb"[\xf0-\xff]")
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_SIXTEEN_DIGITS = b"0" * 16


def _refuse_float(text: str) -> Any:
    raise NotCanonicalJson(f"float {text} found in canonical JSON")


def check_run(
    lines: Sequence[bytes], first: int, seq: int, previous: bytes, limit: int
) -> tuple[list[EntryShape], list[str]]:
    """Check at most ``limit`` lines of ``lines[first:]`` as the entries ``seq, seq + 1, …`` of
    a chain whose entry before them has the entry hash ``previous``; stop before the first line
    the fast path cannot vouch for (not canonical, another seq, a broken link, or any doubt).

    Returns the accepted entries' fields and their entry hashes (SHA-256 of the line) in
    lower-case hex, in order.

    The lines are tried a window at a time (:func:`_whole_run`: one decode, one encode and one
    comparison for all the window's lines), the window doubling from :data:`FIRST_WINDOW` lines
    up to :data:`MAX_WINDOW` while every line passes. A window that decodes to its canonical
    bytes but has a line in doubt yields the lines before it; one that does not is checked
    line by line (:func:`_line_by_line`), which finds the first line in doubt. A line in doubt
    so costs at most two decodes of one window, and a window is at most twice the lines
    accepted before it in the call plus :data:`FIRST_WINDOW`: the decoding stays linear in the
    lines, never a decode of the whole rest of the run per line in doubt.
    """
    if _DECODE is None:  # pragma: no cover - without msgspec every entry takes the exact path
        return [], []
    shapes: list[EntryShape] = []
    hexes: list[str] = []
    start, end, window = first, min(len(lines), first + limit), FIRST_WINDOW
    while start < end:
        run = lines[start : min(end, start + window)]
        checked = _whole_run(run, seq, previous)
        if checked is None:
            checked = _line_by_line(run, seq, previous)
        shapes += checked[0]
        hexes += checked[1]
        if len(checked[0]) < len(run):
            break
        start += len(run)
        seq += len(run)
        previous = bytes.fromhex(hexes[-1])
        window = min(2 * window, MAX_WINDOW)
    return shapes, hexes


FIRST_WINDOW = 8
MAX_WINDOW = 4096


def _whole_run(
    run: Sequence[bytes], seq: int, previous: bytes
) -> tuple[list[EntryShape], list[str]] | None:
    """The lines of ``run`` up to the first one in doubt, checked at once; ``None`` if the
    lines do not decode to their canonical bytes.

    The lines joined by newlines are decoded as JSON lines and re-encoded with sorted keys: equal
    bytes mean that the encoding of each entry is exactly its line (an encoding holds no newline,
    so the newlines of both split them the same way, whatever the lines held). Then each field
    condition of :func:`_fields_hold` is checked as a whole column, in C loops (``map``,
    ``attrgetter``, list equality), and the 16-digit runs are looked for in the whole buffer,
    each one found being in doubt unless it lies in the fields after ``payload`` of its line.
    Only if a condition fails somewhere are the lines' fields checked one by one, to find the
    first line in doubt."""
    count = len(run)
    buffer = b"\n".join(run) + b"\n"
    if not buffer.isascii() and _OUTSIDE_BMP.search(buffer) is not None:
        return None
    try:
        shapes: list[EntryShape] = _DECODE_LINES(buffer)
        if len(shapes) != count or _ENCODE_LINES(shapes) != buffer:
            return None
    except _ERRORS:
        return None
    sha256 = hashlib.sha256
    hexes = [sha256(line).hexdigest() for line in run]
    if _columns_hold(buffer, shapes, seq, previous.hex(), hexes):
        return shapes, hexes
    links = [previous.hex(), *hexes[:-1]]
    for index, (line, shape, link) in enumerate(zip(run, shapes, links, strict=True)):
        if not _fields_hold(line, shape, seq + index, link):
            return shapes[:index], hexes[:index]
    return None  # pragma: no cover - the columns and the lines hold the same conditions


def _columns_hold(
    buffer: bytes, shapes: list[EntryShape], seq: int, previous_hex: str, hexes: list[str]
) -> bool:
    """:func:`_fields_hold` for every line of ``buffer`` (decoded as ``shapes``) at once."""
    count = len(shapes)
    stamps = list(map(_TIMESTAMP, shapes))
    links = list(map(_PREV_HASH, shapes))
    if (
        list(map(_SEQ, shapes)) != list(range(seq, seq + count))
        or links[0] != previous_hex
        or links[1:] != hexes[:-1]
        or not all(map(is_, map(_TZINFO, stamps), repeat(UTC)))
        or 0 in map(_MICROSECOND, stamps)
        or min(map(_YEAR, stamps)) < 1000
        or list(map(_V, shapes)).count(1) != count
    ):
        return False
    digits = buffer.translate(_DIGITS)
    found = digits.find(_SIXTEEN_DIGITS)
    while found >= 0:
        # A run entirely before the fields that follow ``payload`` in its line (see
        # _fields_hold) may be an unsafe integer.
        if found + len(_SIXTEEN_DIGITS) <= buffer.find(b"\n", found) - _TAIL - 1:
            return False
        found = digits.find(_SIXTEEN_DIGITS, found + 1)
    return True


def _fields_hold(line: bytes, shape: EntryShape, seq: int, previous_hex: str) -> bool:
    """What the fast path checks of a canonical line's fields beyond its bytes: its ``seq``,
    its link, ``v`` is 1, the time is UTC with a non-zero microsecond and a four-digit year,
    and no integer can be unsafe."""
    stamp = shape.timestamp
    return not (
        shape.seq != seq
        or shape.prev_hash != previous_hex
        or shape.v != 1
        or stamp.tzinfo is not UTC
        or not stamp.microsecond
        or stamp.year < 1000
        # The line ends with the fields after ``payload`` (_TAIL bytes and seq's digits, of
        # which there is at least one), where no run of 16 digits can be an integer.
        or _SIXTEEN_DIGITS in line[: len(line) - _TAIL - 1].translate(_DIGITS)
    )


def _line_by_line(
    run: Sequence[bytes], seq: int, previous: bytes
) -> tuple[list[EntryShape], list[str]]:
    """The lines of ``run`` checked one at a time, up to the first one in doubt."""
    shapes: list[EntryShape] = []
    hexes: list[str] = []
    decode, encode, errors = _DECODE, _ENCODE, _ERRORS
    add_shape, add_hex, sha256 = shapes.append, hexes.append, hashlib.sha256
    previous_hex = previous.hex()
    for line in run:
        if not line.isascii() and _OUTSIDE_BMP.search(line) is not None:
            break
        try:
            shape = decode(line)
            if encode(shape) != line:
                break
        except errors:
            break
        if not _fields_hold(line, shape, seq, previous_hex):
            break
        previous_hex = sha256(line).hexdigest()
        add_hex(previous_hex)
        add_shape(shape)
        seq += 1
    return shapes, hexes


_TAIL = len(',"prev_hash":"' + "0" * 64 + '","seq":' + ',"timestamp":"' + "0" * 27 + '","v":1}')
"""The length of a canonical entry's bytes after ``payload``, but for the digits of ``seq``."""

_DECODE: Any = None
_ENCODE: Any = None
_DECODE_LINES: Any = None
_ENCODE_LINES: Any = None
_SEQ, _PREV_HASH, _V, _TIMESTAMP = (
    attrgetter(name) for name in ("seq", "prev_hash", "v", "timestamp")
)
_TZINFO, _MICROSECOND, _YEAR = (attrgetter(name) for name in ("tzinfo", "microsecond", "year"))
_ERRORS: tuple[type[Exception], ...] = (NotCanonicalJson, ValueError, TypeError, RecursionError)
try:
    import msgspec
except ImportError:  # pragma: no cover - the verifier may be installed without it
    pass
else:

    class EntryShape(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
        """A ledger entry's seven fields, in the (sorted) order of its canonical bytes."""

        actor: str
        kind: str
        payload: dict[str, Any]
        prev_hash: str
        seq: int
        timestamp: datetime
        v: int

    _DECODER = msgspec.json.Decoder(EntryShape, float_hook=_refuse_float)
    _ENCODER = msgspec.json.Encoder(order="sorted")
    _DECODE, _DECODE_LINES = _DECODER.decode, _DECODER.decode_lines
    _ENCODE, _ENCODE_LINES = _ENCODER.encode, _ENCODER.encode_lines
    _ERRORS = (*_ERRORS, msgspec.MsgspecError)
