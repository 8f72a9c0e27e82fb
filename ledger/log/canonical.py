"""Canonical JSON bytes for ledger entries: RFC 8785 (JSON Canonicalization Scheme).

Entries hold only objects, arrays, strings, integers within the IEEE 754 safe range
(|n| <= 2**53 - 1), booleans and null. Floats are refused outright: a quantity is an integer
number of tonnes or serials, and a fraction is carried as a string, so the bytes are the same in
every language that implements RFC 8785.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeAlias

import rfc8785

from ledger.errors import InvalidInput

JsonValue: TypeAlias = "None | bool | int | str | Sequence[JsonValue] | Mapping[str, JsonValue]"

MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonicalJson(InvalidInput):
    """A value cannot be written as canonical JSON: floats, unsafe integers or non-JSON types."""

    problem_type = "not-canonical-json"
    title = "A value cannot be written as canonical JSON: floats, unsafe integers or non-JSON types"
    rule = "canonical-json"


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonicalJson(f"{path}: integer {value} is outside ±(2**53-1)", path=path)
        return
    if isinstance(value, float):
        raise NotCanonicalJson(f"{path}: floats are not allowed in the ledger", path=path)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalJson(f"{path}: object keys must be strings", path=path)
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    raise NotCanonicalJson(f"{path}: {type(value).__name__} is not a JSON value", path=path)


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of dicts with string keys, lists, strings, safe integers,
    booleans and null only: :func:`_check` would pass it (this walk builds no paths)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) is not str and not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            if type(item) is not str and not _plain(item):
                return False
        return True
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    return False


def canonical_bytes(value: JsonValue) -> bytes:
    """Return the RFC 8785 encoding of ``value`` after refusing floats and unsafe integers.

    Written by Python's C JSON encoder (:data:`_ENCODER`'s settings), which for the values
    :func:`_check` lets through writes exactly RFC 8785's bytes when no character is outside
    the Basic Multilingual Plane (the escapes, the integers and, keys sorted by code point being
    sorted by UTF-16 code unit then, the key order); anything else (such a character, a lone
    surrogate, a mapping that is not a dict) is written by the reference encoder."""
    if not _plain(value):
        _check(value, "$")  # raises, naming the path, or passes (tuples, other mappings)
    try:
        fast = _encode(value).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError (a lone surrogate) is a ValueError
        fast = None
    if fast is not None and (fast.isascii() or _OUTSIDE_BMP.search(fast) is None):
        return fast
    encoded: bytes = rfc8785.dumps(value)
    return encoded


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
"""Python's C JSON encoder with RFC 8785's separators. For the values it may be trusted with
(see :func:`parse_canonical`) it writes exactly the RFC 8785 bytes: the same escapes (``\\"``,
``\\\\``, ``\\b \\f \\n \\r \\t``, other controls as lower-case ``\\u00xx``, nothing else),
integers in plain decimal, and keys sorted by code point, which is RFC 8785's UTF-16 order when
every character is in the Basic Multilingual Plane."""

_OUTSIDE_BMP = re.compile(rb"[\xf0-\xff]")
"""The lead byte of a 4-byte UTF-8 sequence: a character outside the Basic Multilingual Plane,
whose UTF-16 key order may differ from its code point order."""


def parse_canonical(data: bytes) -> Any:
    """Parse bytes that must already be canonical; raise ``NotCanonicalJson`` otherwise.

    Fast and exact: when the bytes hold no character outside the Basic Multilingual Plane, they
    are decoded (refusing floats and integers outside the safe range) and re-encoded with a C
    JSON codec, which then writes exactly what RFC 8785 writes. Equal bytes are canonical.
    Anything else (other bytes, a difference, an error) takes the full check with the reference
    encoder, which also gives the reason.

    The codec is msgspec's when it is installed (about eight times faster than the standard
    library's, whose is used otherwise): it escapes exactly as RFC 8785 does (``\\"``, ``\\\\``,
    ``\\b \\f \\n \\r \\t``, other controls as lower-case ``\\u00xx``, nothing else), sorts keys
    by code point and writes integers in plain decimal. It is only asked about bytes with no run
    of 16 digits, so every integer it sees is below 10**15 and safe; floats are refused.
    """
    if data.isascii() or _OUTSIDE_BMP.search(data) is None:
        if MSGSPEC_CODEC is not None and _SIXTEEN_DIGITS not in data.translate(_DIGITS):
            decode, encode = MSGSPEC_CODEC
            try:
                value = decode(data)
                if encode(value) == data:
                    return value
            except (NotCanonicalJson, ValueError, TypeError, RecursionError, MsgspecError):
                pass  # the checks below say why
        try:
            text = data.decode("utf-8")
            value, end = _scan(text, 0)
            # UTF-8 decoding is one-to-one, so equal text means equal bytes.
            if end == len(text) and _encode(value) == text:
                return value
        except (NotCanonicalJson, ValueError, RecursionError, StopIteration):
            pass  # the full check below says why
    return _parse_canonical_fully(data)


def _safe_int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise NotCanonicalJson(f"integer {text} is outside ±(2**53-1)")


def _refuse_constant(text: str) -> Any:
    raise NotCanonicalJson(f"{text} found in canonical JSON")


def _parse_canonical_fully(data: bytes) -> Any:
    """:func:`parse_canonical` with the reference RFC 8785 encoder, for any bytes."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_refuse_float)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        # ValueError: integers beyond Python's digit limit; RecursionError: hostile nesting.
        raise NotCanonicalJson(f"not JSON: {type(exc).__name__}: {exc}") from exc
    try:
        recoded = canonical_bytes(value)
    except ValueError as exc:  # e.g. a lone surrogate, which RFC 8785 cannot encode
        raise NotCanonicalJson(f"not encodable as RFC 8785: {exc}") from exc
    if recoded != data:
        raise NotCanonicalJson("bytes are JSON but not in RFC 8785 canonical form")
    return value


def _refuse_float(text: str) -> Any:
    raise NotCanonicalJson(f"float {text} found in canonical JSON")


_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_safe_int, parse_constant=_refuse_constant
)
"""The strict decoder of the fast check: no floats, no NaN or Infinity, safe integers only."""

_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
"""One JSON value from a position (C scanner): no whitespace skipping, no wrapper per call."""

_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode: Callable[[Any], str] = (
    _ENCODER.encode
    if _c_make_encoder is None
    else partial(
        lambda make, value: "".join(make(value, 0)),
        _c_make_encoder(
            None,
            _ENCODER.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            True,
            False,
            False,
        ),
    )
)
"""``_ENCODER.encode`` with its C encoder made once rather than on every call."""


_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_SIXTEEN_DIGITS = b"0" * 16
"""With digits mapped to ``0``: a run of 16 digits, which may be an unsafe integer."""

MSGSPEC_CODEC: tuple[Callable[[bytes], Any], Callable[[Any], bytes]] | None = None
"""msgspec's strict decoder and its key-sorting encoder, when msgspec is installed."""
MsgspecError: type[Exception] = ValueError
try:
    import msgspec
except ImportError:  # pragma: no cover - the verifier may be installed without it
    pass
else:
    MSGSPEC_CODEC = (
        msgspec.json.Decoder(float_hook=_refuse_float).decode,
        msgspec.json.Encoder(order="sorted").encode,
    )
    MsgspecError = msgspec.MsgspecError
