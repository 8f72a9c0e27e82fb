"""JSON codec for the domain records: how they appear in ledger entry payloads.

Frozen dataclasses become objects with the same field names; enums their values; dates ISO 8601
strings; tuples arrays. Decoding is strict: unknown or missing fields raise ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from enum import Enum
from typing import Any, TypeVar, cast

from ledger.log.canonical import JsonValue

T = TypeVar("T")


def to_json(record: Any) -> dict[str, JsonValue]:
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"{record!r} is not a dataclass instance")
    return {f.name: _encode(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _encode(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | str) and not isinstance(value, Enum):
        return cast(JsonValue, value)
    if isinstance(value, Enum):
        return cast(JsonValue, value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a ledger payload")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def from_json(cls: type[T], obj: Any) -> T:
    if not isinstance(obj, dict):
        raise ValueError(f"{cls.__name__}: expected an object")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(obj) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    kwargs = {name: _decode(hints[name], obj[name]) for name in names if name in obj}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"{cls.__name__}: {exc}") from exc


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode(args[0], value)
    if origin is tuple:
        inner = typing.get_args(hint)[0]
        return tuple(_decode(inner, v) for v in value)
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if hint is date:
            return date.fromisoformat(value)
        if dataclasses.is_dataclass(hint):
            return from_json(hint, value)
        if hint is bool:
            if not isinstance(value, bool):
                raise ValueError(f"expected a boolean, got {value!r}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected an integer, got {value!r}")
            return value
        if hint is str:
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {value!r}")
            return value
    raise TypeError(f"cannot decode {hint!r}")
