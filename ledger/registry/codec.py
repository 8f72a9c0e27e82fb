"""JSON codec for the domain records: how they appear in ledger entry payloads.

Frozen dataclasses become objects with the same field names; enums their values; dates ISO 8601
strings; tuples arrays. Decoding is strict: unknown or missing fields raise ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date
from enum import Enum
from functools import partial
from typing import Any, TypeVar, cast

from ledger.log.canonical import JsonValue

T = TypeVar("T")


def to_json(record: Any) -> dict[str, JsonValue]:
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"{record!r} is not a dataclass instance")
    return {name: _encode(getattr(record, name)) for name in _names(type(record))}


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass, in definition order (asked once per class)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


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
    fields = _decoders(cls)
    unknown = obj.keys() - fields.keys()
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    kwargs = {name: decode(obj[name]) for name, decode in fields.items() if name in obj}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"{cls.__name__}: {exc}") from exc


_FIELD_DECODERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def _decoders(cls: type) -> dict[str, Callable[[Any], Any]]:
    """Each field's decoder (:func:`_decode` with the field's type), made once per class."""
    found = _FIELD_DECODERS.get(cls)
    if found is None:
        hints = _hints(cls)
        found = _FIELD_DECODERS[cls] = {name: partial(_decode, hints[name]) for name in _names(cls)}
    return found


_SHAPES: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _decode(hint: Any, value: Any) -> Any:
    shape = _SHAPES.get(hint)
    if shape is None:
        shape = _SHAPES[hint] = (typing.get_origin(hint), typing.get_args(hint))
    origin, hint_args = shape
    if origin in (typing.Union, types.UnionType):
        args = [a for a in hint_args if a is not type(None)]
        if value is None:
            return None
        return _decode(args[0], value)
    if origin is tuple:
        inner = hint_args[0]
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
