"""Rendering and parsing records, header -> cell mappings, shared by JSON, CSV and the workbook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ledger.accounting.aef.cells import decode, is_blank, render_value
from ledger.accounting.aef.columns import (
    columns_by_header,
    normalize_header,
    table_spec,
    written_header,
)
from ledger.accounting.aef.nomenclature import AefTable, Requirement
from ledger.accounting.aef.policy import DEFAULT_POLICY, SpellingPolicy
from ledger.accounting.aef.problems import (
    MISSING,
    AefProblem,
    AefValidationError,
    CellError,
    sorted_problems,
)
from ledger.accounting.aef.rows import (
    ROW_TYPES,
    ActionRow,
    AefReport,
    AefRow,
    AuthorizationRow,
    AuthorizedEntityRow,
    Cell,
    HoldingRow,
    SubmissionRow,
)


def render_records(
    table: AefTable, rows: Iterable[AefRow], policy: SpellingPolicy = DEFAULT_POLICY
) -> list[dict[str, Cell]]:
    """Rows of ``table`` as header -> cell mappings, in annex column order.

    Integers stay integers; dates, codes and lists become text; blank cells are ``None``.
    CARP-populated columns are always blank.
    """
    spec = table_spec(table)
    return [
        {
            written_header(column, policy): render_value(table, column, row, policy)
            for column in spec.columns
        }
        for row in rows
    ]


def parse_records(table: AefTable, records: Iterable[Mapping[str, object]]) -> list[AefRow]:
    """Read header -> cell mappings into rows of ``table``.

    Headers match after :func:`normalize_header`. Blank, ``NA`` and ``N/A`` cells read as
    absent. Raises :class:`AefValidationError` listing every cell that cannot be read and every
    required value that is missing; row numbers count the records from 1. Conditional and
    cross-table rules are left to :func:`validate_report`.
    """
    rows, problems = parse_table(table, records)
    if problems:
        raise AefValidationError(sorted_problems(problems))
    return rows


def parse_table(
    table: AefTable, records: Iterable[Mapping[str, object]]
) -> tuple[list[AefRow], list[AefProblem]]:
    spec = table_spec(table)
    by_header = columns_by_header(table)
    row_type = ROW_TYPES[table]
    rows: list[AefRow] = []
    problems: list[AefProblem] = []
    unknown_seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        cells: dict[str, object] = {}
        for key, raw in record.items():
            column = by_header.get(normalize_header(key))
            if column is None:
                if normalize_header(key) == "":
                    if not is_blank(raw):
                        problems.append(
                            AefProblem(
                                table, number, "", f"value {raw!r} in a column without header"
                            )
                        )
                elif key not in unknown_seen:
                    unknown_seen.add(key)
                    problems.append(AefProblem(table, number, key, f"unknown column for {table}"))
                continue
            if column.field_name in cells:
                problems.append(AefProblem(table, number, column.header, "column given twice"))
            cells[column.field_name] = raw
        values: dict[str, Any] = {}
        row_ok = True
        for column in spec.columns:
            try:
                value = decode(column, cells.get(column.field_name), cells)
            except CellError as error:
                problems.append(AefProblem(table, number, column.header, str(error)))
                row_ok = False
                continue
            if column.requirement is Requirement.REQUIRED and value in (None, ()):
                problems.append(AefProblem(table, number, column.header, MISSING))
                row_ok = False
                continue
            values[column.field_name] = value
        if row_ok:
            rows.append(row_type(**values))
    return rows, problems


_R = TypeVar("_R", SubmissionRow, AuthorizationRow, ActionRow, HoldingRow, AuthorizedEntityRow)


def _only(rows: Iterable[AefRow], row_type: type[_R]) -> tuple[_R, ...]:
    return tuple(row for row in rows if isinstance(row, row_type))


def assemble_report(
    rows: Mapping[AefTable, Sequence[AefRow]], problems: Sequence[AefProblem] = ()
) -> AefReport:
    """Put parsed tables together into a report (Table 1 must have exactly one row).

    ``problems`` found while parsing are raised together with any of this function's own, as
    one :class:`AefValidationError`.
    """
    found = list(problems)
    submissions = _only(rows.get(AefTable.SUBMISSION, ()), SubmissionRow)
    if len(submissions) != 1 and not any(
        p.table is AefTable.SUBMISSION and p.row > 0 for p in found
    ):
        found.append(
            AefProblem(
                AefTable.SUBMISSION, 0, "", f"expected exactly one row, found {len(submissions)}"
            )
        )
    if found:
        raise AefValidationError(sorted_problems(found))
    return AefReport(
        submission=submissions[0],
        authorizations=_only(rows.get(AefTable.AUTHORIZATIONS, ()), AuthorizationRow),
        actions=_only(rows.get(AefTable.ACTIONS, ()), ActionRow),
        holdings=_only(rows.get(AefTable.HOLDINGS, ()), HoldingRow),
        entities=_only(rows.get(AefTable.ENTITIES, ()), AuthorizedEntityRow),
    )
