"""Canonical JSON bytes for ledger entries: RFC 8785 (JSON Canonicalization Scheme).

Entries hold only objects, arrays, strings, integers within the IEEE 754 safe range
(|n| <= 2**53 - 1), booleans and null. Floats are refused outright: a quantity is an integer
number of tonnes or serials, and a fraction is carried as a string, so the bytes are the same in
every language that implements RFC 8785.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


def canonical_bytes(value: JsonValue) -> bytes:
    """Return the RFC 8785 encoding of ``value`` after refusing floats and unsafe integers."""
    _check(value, "$")
    encoded: bytes = rfc8785.dumps(value)
    return encoded


def parse_canonical(data: bytes) -> Any:
    """Parse bytes that must already be canonical; raise ``NotCanonicalJson`` otherwise."""
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
