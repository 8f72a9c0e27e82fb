"""The AEF as JSON data and as CSV text, one table per CSV.

The bytes of a file (a JSON document, a ZIP of CSVs, a workbook) are written by
``ledger.adapters.aef_files``; this module stays with the text the core needs, e.g. the JSON
whose digest a submission records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Literal, overload

from ledger.accounting.aef.columns import (
    columns_by_header,
    headers,
    normalize_header,
    table_named,
)
from ledger.accounting.aef.nomenclature import AefTable
from ledger.accounting.aef.policy import DEFAULT_POLICY, SpellingPolicy
from ledger.accounting.aef.problems import AefProblem, AefValidationError, sorted_problems
from ledger.accounting.aef.records import assemble_report, parse_table, render_records
from ledger.accounting.aef.rows import (
    ActionRow,
    AefReport,
    AefRow,
    AuthorizationRow,
    AuthorizedEntityRow,
    Cell,
    HoldingRow,
    SubmissionRow,
)


def to_json(
    report: AefReport, policy: SpellingPolicy = DEFAULT_POLICY
) -> dict[str, list[dict[str, Cell]]]:
    """The report as JSON-ready data: table title -> list of rows (header -> cell).

    Table 1 is a list of one row. Serial numbers, quantities and years are JSON integers (no
    floats); dates, codes and lists are strings; blank cells are ``null``.
    """
    return {table.value: render_records(table, report.rows(table), policy) for table in AefTable}


def from_json(obj: Mapping[str, object]) -> AefReport:
    """Read what :func:`to_json` wrote (tables keyed by annex title or sheet name).

    Raises :class:`AefValidationError` listing every problem in every table.
    """
    problems: list[AefProblem] = []
    parsed: dict[AefTable, list[AefRow]] = {table: [] for table in AefTable}
    for key, value in obj.items():
        table = table_named(key)
        if table is None:
            problems.append(AefProblem(AefTable.SUBMISSION, 0, "", f"unknown table {key!r}"))
            continue
        if not isinstance(value, list) or not all(
            isinstance(item, Mapping) and all(isinstance(name, str) for name in item)
            for item in value
        ):
            problems.append(AefProblem(table, 0, "", "expected a list of rows (header -> value)"))
            continue
        rows, table_problems = parse_table(table, value)
        parsed[table].extend(rows)
        problems.extend(table_problems)
    return assemble_report(parsed, problems)


def to_csv(report: AefReport, table: AefTable, policy: SpellingPolicy = DEFAULT_POLICY) -> str:
    """One table as CSV (RFC 4180, CRLF line ends): the exact headers, then one line per row.

    Table 1 is one header line and one value line.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(table, policy))
    for record in render_records(table, report.rows(table), policy):
        writer.writerow("" if cell is None else cell for cell in record.values())
    return buffer.getvalue()


@overload
def from_csv(table: Literal[AefTable.SUBMISSION], text: str) -> list[SubmissionRow]: ...
@overload
def from_csv(table: Literal[AefTable.AUTHORIZATIONS], text: str) -> list[AuthorizationRow]: ...
@overload
def from_csv(table: Literal[AefTable.ACTIONS], text: str) -> list[ActionRow]: ...
@overload
def from_csv(table: Literal[AefTable.HOLDINGS], text: str) -> list[HoldingRow]: ...
@overload
def from_csv(table: Literal[AefTable.ENTITIES], text: str) -> list[AuthorizedEntityRow]: ...
@overload
def from_csv(table: AefTable, text: str) -> Sequence[AefRow]: ...
def from_csv(table: AefTable, text: str) -> Sequence[AefRow]:
    """Read one table from CSV: a header line, then data lines; blank lines are skipped.

    Headers are matched by text (any accepted spelling, any order); unlabelled columns are
    spacers; a first line that names no column of the table is refused. Raises
    :class:`AefValidationError`; row numbers count the data lines from 1.
    """
    source = io.StringIO(text.removeprefix("\ufeff"))
    try:
        lines = [line for line in csv.reader(source) if line]
    except csv.Error as exc:  # e.g. a NUL character, or a line end inside an unquoted field
        raise AefValidationError(
            [AefProblem(table, 0, "", f"not readable as CSV: {exc}")]
        ) from None
    if not lines:
        raise AefValidationError([AefProblem(table, 0, "", "no header line")])
    header_line, *data = lines
    known = columns_by_header(table)
    if not any(normalize_header(name) in known for name in header_line):
        # Not a header line (as the workbook reader finds no header row): refused even without
        # data lines, which would otherwise read as an empty table.
        raise AefValidationError(
            [AefProblem(table, 0, "", "no header line found: the first line names no column")]
        )
    problems: list[AefProblem] = []
    records: list[dict[str, object]] = []
    for line in data:
        if all(cell.strip() == "" for cell in line):
            continue
        record: dict[str, object] = {}
        for index, cell in enumerate(line):
            key = header_line[index] if index < len(header_line) else ""
            if normalize_header(key) == "":
                if cell.strip():
                    problems.append(
                        AefProblem(
                            table,
                            len(records) + 1,
                            "",
                            f"value {cell!r} in a column without header",
                        )
                    )
                continue
            record[key] = cell
        records.append(record)
    rows, parse_problems = parse_table(table, records)
    problems.extend(parse_problems)
    if problems:
        raise AefValidationError(sorted_problems(problems))
    return rows
