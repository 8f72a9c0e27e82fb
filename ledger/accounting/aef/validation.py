"""Validation of a whole AEF report: every cell, then the rules across rows and tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

from ledger.accounting.aef.applicability import Need, applicability
from ledger.accounting.aef.cells import CODECS, LIST_SPLIT, NA_MARKERS, Codec, Kind, list_name
from ledger.accounting.aef.columns import ColumnSpec, normalize_header, table_spec
from ledger.accounting.aef.nomenclature import IDENTIFIER_FORMATS, AefTable
from ledger.accounting.aef.problems import MISSING, AefProblem, AefValidationError, sorted_problems
from ledger.accounting.aef.rows import AefReport, AefRow
from ledger.accounting.aef.table_checks import (
    check_actions,
    check_authorizations,
    check_entities,
    check_holdings,
    check_submission,
)

_MINIMUM: Final[Mapping[str, int]] = {
    "authorization_version": 1,
    "authorized_quantity": 1,
    "quantity": 1,
    "quantity_non_ghg": 1,
    "first_id": 0,
    "last_id": 0,
    "first_unit_id": 0,
    "last_unit_id": 0,
}


def validate_report(report: AefReport) -> None:
    """Check ``report`` against the AEF (4/CMA.6 annex II) and the common nomenclatures.

    Raises :class:`AefValidationError` whose ``problems`` list every problem as
    ``(table, row, column header, message)``, rows counted from 1 within each table. Checked:

    - required values present (blank or whitespace-only text counts as missing);
      CARP-populated columns empty;
    - conditional columns: present where required, blank where they do not apply (Table 2
      non-GHG metric, OIMP purpose and first-transfer definition; Tables 3 and 4 non-GHG metric
      and quantity, underlying unit IDs; Table 3 fields 20-25 by action type);
    - values in the nomenclature lists (metric, sectors, activity types, purposes, action type,
      subtype valid for the type, first-transfer definition, mitigation type, underlying
      registry) and identifier formats (Party codes, ``CANNNN``, Authorization ID, registry ID,
      version ``X.Y``);
    - blocks: First ID <= Last ID, ``quantity == Last - First + 1`` for GHG rows, underlying
      unit IDs given as a pair in order; holdings blocks do not overlap within (cooperative
      approach, registry, first transferring Party, vintage);
    - across tables: Authorization IDs of Tables 3 and 4 are in Table 2 under the same
      cooperative approach; an OIMP first-transfer subtype matches the authorization's
      first-transfer definition; using entities are in Table 5; action dates fall in the
      reported year; NDC-use years fall in the NDC implementation period; a First transfer is
      reported by the first transferring Party.
    """
    problems = check_report(report)
    if problems:
        raise AefValidationError(problems)


def check_report(report: AefReport) -> list[AefProblem]:
    """Every problem :func:`validate_report` would raise, sorted by table, row and column."""
    problems: list[AefProblem] = []
    for table in AefTable:
        spec = table_spec(table)
        for number, row in enumerate(report.rows(table), start=1):
            for column in spec.columns:
                problems.extend(_check_cell(table, number, row, column))
    check_submission(report.submission, problems)
    check_authorizations(report.authorizations, problems)
    check_actions(report, problems)
    check_holdings(report, problems)
    check_entities(report.entities, problems)
    return sorted_problems(problems)


def _check_cell(table: AefTable, number: int, row: AefRow, column: ColumnSpec) -> list[AefProblem]:
    value: object = getattr(row, column.field_name)
    rule = applicability(row, column)

    def problem(message: str) -> list[AefProblem]:
        return [AefProblem(table, number, column.header, message)]

    blank = value is None or value == () or (isinstance(value, str) and value.strip() == "")
    if blank:
        if rule.need is Need.REQUIRED:
            return problem(f"{MISSING} ({rule.reason})" if rule.reason else MISSING)
        if isinstance(value, str):
            return problem("blank text; leave the field as None")
        return []
    if rule.need is Need.CARP:
        return problem(rule.reason)
    if rule.need is Need.NOT_APPLICABLE:
        return problem(f"not applicable: {rule.reason}; leave it blank")
    return [
        AefProblem(table, number, column.header, message)
        for message in _value_problems(column.field_name, value)
    ]


def _value_problems(name: str, value: object) -> list[str]:
    codec = CODECS[name]
    messages: list[str] = []
    match codec.kind:
        case Kind.TEXT:
            if not isinstance(value, str):
                return [f"expected text, got {value!r}"]
            if normalize_header(value) in NA_MARKERS:
                return [
                    f"{value!r} marks a column that does not apply; give the value or leave "
                    "the field as None"
                ]
            if name in IDENTIFIER_FORMATS:
                pattern, description = IDENTIFIER_FORMATS[name]
                if not pattern.fullmatch(value):
                    messages.append(f"{value!r} is not {description}")
        case Kind.INT | Kind.SERIAL | Kind.YEAR:
            if not isinstance(value, int) or isinstance(value, bool):
                return [f"expected a whole number, got {value!r}"]
            if codec.kind is Kind.YEAR and not 1000 <= value <= 9999:
                messages.append(f"{value} is not a four-digit year")
            minimum = _MINIMUM.get(name)
            if minimum is not None and value < minimum:
                messages.append(f"must be at least {minimum}, got {value}")
        case Kind.DATE:
            if not isinstance(value, date) or isinstance(value, datetime):
                return [f"expected a date, got {value!r}"]
        case Kind.ACTION_DATE:
            if not isinstance(value, date):
                return [f"expected a date or a UTC date-time, got {value!r}"]
            if isinstance(value, datetime):
                if value.utcoffset() is None:
                    messages.append("a date-time must be timezone-aware (UTC)")
                if value.microsecond % 1000:
                    messages.append("the AEF date-time carries milliseconds, not microseconds")
        case Kind.ENUM:
            assert codec.enum is not None
            if not isinstance(value, codec.enum):
                messages.append(
                    f"{value!r} is not in the common nomenclature list ({list_name(codec.enum)})"
                )
        case Kind.ENUM_LIST | Kind.TEXT_LIST:
            if not isinstance(value, tuple):
                return [f"expected a tuple, got {value!r}"]
            for item in value:
                messages.extend(_list_item_problems(name, codec, item))
    return messages


def _list_item_problems(name: str, codec: Codec, item: object) -> list[str]:
    if codec.enum is not None:
        if isinstance(item, codec.enum):
            return []
        return [f"{item!r} is not in the common nomenclature list ({list_name(codec.enum)})"]
    if not isinstance(item, str) or item != item.strip() or item == "":
        return [f"list item {item!r} must be non-empty text without surrounding spaces"]
    if LIST_SPLIT.search(item):
        return [f"list item {item!r} must not contain ',', ';' or a line break"]
    if normalize_header(item) in NA_MARKERS:
        return [f"list item {item!r} marks a column that does not apply"]
    if name in IDENTIFIER_FORMATS:
        pattern, description = IDENTIFIER_FORMATS[name]
        if not pattern.fullmatch(item):
            return [f"{item!r} is not {description}"]
    return []
