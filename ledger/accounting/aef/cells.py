"""Cell codecs: how each row field is written into an AEF cell and read back from one.

Integers stay integers; dates, codes and lists become text; blank cells are ``None``. Reading
accepts every spelling variant of the sources, ``NA``/``N/A`` and blank cells as absent, grouped
digits, and spreadsheet numbers typed into text columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum, StrEnum, auto
from functools import cache
from typing import Final, TypeVar

from ledger.accounting.aef.applicability import Need, applicability
from ledger.accounting.aef.columns import ColumnSpec, normalize_header
from ledger.accounting.aef.nomenclature import (
    ActionSubtype,
    ActionType,
    ActivityType,
    AefTable,
    Requirement,
    Sector,
    UnderlyingRegistry,
)
from ledger.accounting.aef.policy import (
    NOT_APPLICABLE,
    ActionDateFormat,
    FirstTransferDefinitionSpelling,
    ItmoIdFormat,
    MetricSpelling,
    SpellingPolicy,
)
from ledger.accounting.aef.problems import CellError
from ledger.accounting.aef.rows import ActionRow, AefRow, Cell, HoldingRow
from ledger.registry.model import FirstTransferDefinition, Metric, MitigationType, Purpose


class Kind(Enum):
    TEXT = auto()
    INT = auto()
    YEAR = auto()
    SERIAL = auto()
    DATE = auto()
    ACTION_DATE = auto()
    ENUM = auto()
    ENUM_LIST = auto()
    TEXT_LIST = auto()


@dataclass(frozen=True, slots=True)
class Codec:
    kind: Kind
    enum: type[StrEnum] | None = None


_TEXT = Codec(Kind.TEXT)
_INT = Codec(Kind.INT)
_YEAR = Codec(Kind.YEAR)

CODECS: Final[Mapping[str, Codec]] = {
    "party": _TEXT,
    "version": _TEXT,
    "reported_year": _YEAR,
    "date_of_submission": Codec(Kind.DATE),
    "review_status": _TEXT,
    "consistency_check_result": _TEXT,
    "ndc_first_year": _YEAR,
    "ndc_last_year": _YEAR,
    "ter_report_reference": _TEXT,
    "authorization_id": _TEXT,
    "date_of_authorization": Codec(Kind.DATE),
    "cooperative_approach_id": _TEXT,
    "authorization_version": _INT,
    "authorized_quantity": _INT,
    "metric": Codec(Kind.ENUM, Metric),
    "gwp_values": _TEXT,
    "non_ghg_metric": _TEXT,
    "sectors": Codec(Kind.ENUM_LIST, Sector),
    "activity_types": Codec(Kind.ENUM_LIST, ActivityType),
    "purposes": Codec(Kind.ENUM, Purpose),
    "authorized_party_ids": Codec(Kind.TEXT_LIST),
    "authorized_entity_ids": Codec(Kind.TEXT_LIST),
    "oimp_authorized": _TEXT,
    "authorized_timeframe": _TEXT,
    "terms_and_conditions": _TEXT,
    "documentation": _TEXT,
    "first_transfer_definition": Codec(Kind.ENUM, FirstTransferDefinition),
    "additional_information": _TEXT,
    "action_date": Codec(Kind.ACTION_DATE),
    "action_type": Codec(Kind.ENUM, ActionType),
    "action_subtype": Codec(Kind.ENUM, ActionSubtype),
    "first_transferring_party_id": _TEXT,
    "registry_id": _TEXT,
    "first_id": Codec(Kind.SERIAL),
    "last_id": Codec(Kind.SERIAL),
    "underlying_registry_id": Codec(Kind.ENUM, UnderlyingRegistry),
    "first_unit_id": _INT,
    "last_unit_id": _INT,
    "quantity": _INT,
    "quantity_non_ghg": _INT,
    "mitigation_type": Codec(Kind.ENUM, MitigationType),
    "vintage": _YEAR,
    "transferring_party_id": _TEXT,
    "acquiring_party_id": _TEXT,
    "oimp_purpose": _TEXT,
    "using_party_id": _TEXT,
    "using_entity_id": _TEXT,
    "ndc_use_year": _YEAR,
    "name": _TEXT,
    "country_of_incorporation": _TEXT,
    "identification_number": _TEXT,
    "conditions": _TEXT,
    "change_and_revocation_conditions": _TEXT,
}

_LIST_SEPARATOR: Final = ", "
LIST_SPLIT = re.compile(r"[,;\n]")
NA_MARKERS: Final = frozenset({"na", "n/a"})
_CARP_CELL_TEXTS: Final = frozenset(
    normalize_header(text)
    for text in (
        "{Information in this field is populated by the CARP}",
        "{Link to be produced by the CARP}",
    )
)
"""What the annex prints in CARP-populated cells; read as blank."""

_INTEGER = re.compile(r"[+-]?\d+")
_GROUPED_INTEGER = re.compile(r"\d{1,3}(?:[,\u00a0 ]\d{3})+")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})"
)
_COMPOSITE_ID = re.compile(
    r"(?P<ca>CA\d{4})-(?P<registry>[A-Z]{3}\d{2})-(?P<party>[A-Z]{3})-"
    r"(?P<serial>\d{1,3}(?:,\d{3})+|\d+)-(?P<vintage>\d{4})"
)

_ENUM_ALIASES: Final[Mapping[type[StrEnum], Mapping[str, str]]] = {
    ActionType: {"aquisition": "Acquisition", "acquistion": "Acquisition"},
    FirstTransferDefinition: {
        "authorisation": "Authorization",
        "use of cancellation": "Use or cancellation",
    },
    ActionSubtype: {
        "authorisation": "Authorization",
        "use of cancellation": "Use or cancellation",
    },
}
"""Misspellings found in the sources (annex, checkers), on top of case-insensitive matching."""

_E = TypeVar("_E", bound=StrEnum)


@cache
def _enum_lookup(enum: type[StrEnum]) -> Mapping[str, StrEnum]:
    lookup: dict[str, StrEnum] = {normalize_header(member.value): member for member in enum}
    for alias, value in _ENUM_ALIASES.get(enum, {}).items():
        lookup[alias] = enum(value)
    return lookup


def _enum_member(enum: type[_E], text: str) -> _E | None:
    member = _enum_lookup(enum).get(normalize_header(text))
    return member if isinstance(member, enum) else None


def _spell(value: StrEnum, table: AefTable, policy: SpellingPolicy) -> str:
    if value is ActionType.ACQUISITION:
        return policy.acquisition.value
    if isinstance(value, FirstTransferDefinition):
        if policy.first_transfer_definition is FirstTransferDefinitionSpelling.NOMENCLATURE:
            return {
                FirstTransferDefinition.AUTHORIZATION: "Authorisation",
                FirstTransferDefinition.ISSUANCE: "Issuance",
                FirstTransferDefinition.USE_OR_CANCELLATION: "Use or Cancellation",
            }[value]
        return value.value
    if value is Metric.NON_GHG:
        if policy.metric is MetricSpelling.ANNEX:
            return "non-GHG" if table is AefTable.ACTIONS else "Non-GHG"
        return policy.metric.value
    return value.value


def _dmy(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _render_action_date(value: date, policy: SpellingPolicy) -> str:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
        if policy.action_date is ActionDateFormat.DATE:
            return _dmy(utc.date())
        return (
            f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
        )
    if policy.action_date is ActionDateFormat.DATE:
        return _dmy(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def render_value(table: AefTable, column: ColumnSpec, row: AefRow, policy: SpellingPolicy) -> Cell:
    if column.requirement is Requirement.CARP_POPULATED:
        carp: object = getattr(row, column.field_name)
        return carp if policy.carp_results and isinstance(carp, str) and carp else None
    value: object = getattr(row, column.field_name)
    if value is None or value == () or value == "":
        if policy.emit_na and applicability(row, column).need is Need.NOT_APPLICABLE:
            return NOT_APPLICABLE
        return None
    codec = CODECS[column.field_name]
    match codec.kind:
        case Kind.INT | Kind.YEAR if isinstance(value, int):
            return value
        case Kind.SERIAL if isinstance(value, int):
            if policy.itmo_id is ItmoIdFormat.COMPOSITE and isinstance(row, ActionRow | HoldingRow):
                return (
                    f"{row.cooperative_approach_id}-{row.registry_id}-"
                    f"{row.first_transferring_party_id}-{value}-{row.vintage:04d}"
                )
            return value
        case Kind.DATE if isinstance(value, date):
            return _dmy(value)
        case Kind.ACTION_DATE if isinstance(value, date):
            return _render_action_date(value, policy)
        case Kind.ENUM if isinstance(value, StrEnum):
            return _spell(value, table, policy)
        case Kind.ENUM_LIST | Kind.TEXT_LIST if isinstance(value, tuple):
            return _LIST_SEPARATOR.join(
                _spell(item, table, policy) if isinstance(item, StrEnum) else str(item)
                for item in value
            )
        case _:
            return str(value)


def is_blank(raw: object, *, carp: bool = False) -> bool:
    """A blank, whitespace-only, ``NA`` or ``N/A`` cell (or, in a CARP column, the annex's
    CARP notice)."""
    if raw is None:
        return True
    if not isinstance(raw, str):
        return False
    text = normalize_header(raw)
    if text == "" or text in NA_MARKERS:
        return True
    return carp and text in _CARP_CELL_TEXTS


def _decode_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise CellError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise CellError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, str):
        text = raw.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _GROUPED_INTEGER.fullmatch(text):
            return int(re.sub(r"[,\u00a0 ]", "", text))
    raise CellError(f"expected a whole number, got {raw!r}")


def _decode_date(raw: object) -> date:
    if isinstance(raw, datetime):
        if raw.tzinfo is None and raw.time() == time():
            return raw.date()
        raise CellError(f"expected a date (dd/mm/yyyy), got the date-time {raw.isoformat()}")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if match := _DMY.fullmatch(text):
                day, month, year = (int(part) for part in match.groups())
                return date(year, month, day)
            if _ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError as error:
            raise CellError(f"not a valid date: {raw!r} ({error})") from None
    raise CellError(f"expected a date as dd/mm/yyyy, got {raw!r}")


def _decode_action_date(raw: object) -> date:
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            return raw.date() if raw.time() == time() else raw.replace(tzinfo=UTC)
        return raw.astimezone(UTC)
    if isinstance(raw, str) and _ISO_DATETIME.fullmatch(raw.strip()):
        try:
            return datetime.fromisoformat(raw.strip()).astimezone(UTC)
        except ValueError as error:
            raise CellError(f"not a valid date-time: {raw!r} ({error})") from None
    try:
        return _decode_date(raw)
    except CellError:
        raise CellError(
            f"expected dd/mm/yyyy or an ISO 8601 UTC date-time "
            f"(yyyy-mm-ddThh:mm:ss.sssZ), got {raw!r}"
        ) from None


def _decode_text(raw: object) -> str:
    """Text as given; a number typed into a spreadsheet cell becomes its digits."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    raise CellError(f"expected text, got {raw!r}")


def _decode_version(raw: object) -> str:
    """Table 1 ``Version``: a spreadsheet stores a typed ``1.0`` as the number 1, so a whole
    number reads as ``N.0``."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return f"{raw}.0"
    if isinstance(raw, float) and raw.is_integer():
        return f"{int(raw)}.0"
    return _decode_text(raw)


def _decode_serial(raw: object, cells: Mapping[str, object]) -> int:
    if isinstance(raw, str) and (match := _COMPOSITE_ID.fullmatch(raw.strip())):
        expected = {
            "ca": ("cooperative_approach_id", "Cooperative approach ID"),
            "registry": ("registry_id", "Party ITMO registry ID"),
            "party": ("first_transferring_party_id", "First transferring participating Party ID"),
            "vintage": ("vintage", "Vintage"),
        }
        for group, (field_name, label) in expected.items():
            given = cells.get(field_name)
            given_text = "" if given is None else _decode_text(given).strip()
            if given_text != match[group]:
                raise CellError(
                    f"composite ITMO identifier {raw!r} does not match the row's {label} "
                    f"({given_text or 'blank'})"
                )
        return int(match["serial"].replace(",", ""))
    return _decode_int(raw)


def _decode_enum(enum: type[StrEnum], raw: object) -> StrEnum:
    if isinstance(raw, str) and (member := _enum_member(enum, raw)) is not None:
        return member
    raise CellError(f"{raw!r} is not in the common nomenclature list ({list_name(enum)})")


def list_name(enum: type[StrEnum]) -> str:
    return "; ".join(member.value for member in enum)


def _split(raw: object) -> list[str]:
    text = _decode_text(raw)
    return [part.strip() for part in LIST_SPLIT.split(text) if part.strip()]


def decode(column: ColumnSpec, raw: object, cells: Mapping[str, object]) -> object:
    """Turn one cell into the row field's Python value; ``None`` for a blank or "NA" cell."""
    if is_blank(raw, carp=column.requirement is Requirement.CARP_POPULATED):
        return () if CODECS[column.field_name].kind in _LIST_KINDS else None
    codec = CODECS[column.field_name]
    match codec.kind:
        case Kind.TEXT if column.field_name == "version":
            return _decode_version(raw)
        case Kind.TEXT:
            return _decode_text(raw)
        case Kind.INT | Kind.YEAR:
            return _decode_int(raw)
        case Kind.SERIAL:
            return _decode_serial(raw, cells)
        case Kind.DATE:
            return _decode_date(raw)
        case Kind.ACTION_DATE:
            return _decode_action_date(raw)
        case Kind.ENUM:
            assert codec.enum is not None
            return _decode_enum(codec.enum, raw)
        case Kind.ENUM_LIST:
            assert codec.enum is not None
            enum = codec.enum
            parts = _split(raw)
            unknown = [part for part in parts if _enum_member(enum, part) is None]
            if unknown:
                listed = ", ".join(repr(part) for part in unknown)
                raise CellError(f"{listed} not in the common nomenclature list ({list_name(enum)})")
            return tuple(_decode_enum(enum, part) for part in parts)
        case Kind.TEXT_LIST:
            return tuple(_split(raw))


_LIST_KINDS: Final = frozenset({Kind.ENUM_LIST, Kind.TEXT_LIST})
