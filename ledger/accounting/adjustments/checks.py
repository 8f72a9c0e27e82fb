"""Type and format checks of the values the adjustment inputs are built from; each raises the
error class it is given, naming the field."""

from __future__ import annotations

from enum import StrEnum

from ledger.errors import InvalidInput
from ledger.registry.model import PARTY_CODE


def is_int(value: object) -> bool:
    return type(value) is int


def check_int(error: type[InvalidInput], name: str, value: object) -> None:
    if not is_int(value):
        raise error(f"{name} must be an int, got {type(value).__name__}", field=name)


def check_party(error: type[InvalidInput], name: str, value: object) -> None:
    if not isinstance(value, str) or PARTY_CODE.fullmatch(value) is None:
        raise error(f"{name} must be an ISO 3166-1 alpha-3 code, got {value!r}", field=name)


def check_text(error: type[InvalidInput], name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise error(f"{name} must be a non-empty string", field=name)


def coerce_enum(owner: object, name: str, enum: type[StrEnum], error: type[InvalidInput]) -> None:
    raw = getattr(owner, name)
    try:
        object.__setattr__(owner, name, enum(raw))
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum)
        raise error(f"{name} must be one of {allowed}, got {raw!r}", field=name) from None
