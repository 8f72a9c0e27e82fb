"""The AEF as an Excel workbook laid out like the CARP template (4/CMA.6 annex II).

The layout follows ``aef-v2.json`` ``conventions.layout``:

- sheets ``Index``, ``Summary information``, ``Table 1 Submission``, ``Table 2 Authorizations``,
  ``Table 3 Actions``, ``Table 4 Holdings`` and ``Table 5 Auth. entities``, in that order;
- the table title in A1 of each table sheet;
- Table 1 transposed: the nine labels in column A from row 4, each value in column B beside it;
- Tables 2-5: header row 7, 8, 7 and 10, data from the next row, the header group (as the annex
  prints it above the headers) on the row above, and an unlabelled spacer column wherever the
  annex has one.

Cells hold the same values as the CSV export: integers as numbers, everything else as text
(dates as ``dd/mm/yyyy``), blanks empty. CARP-populated cells are left empty, except the
consistency-check results of a submitted version once the secretariat's are imported
(``SpellingPolicy.carp_results``).

:func:`read_workbook` finds every column by its header text, not by position, so a workbook with
another gutter, other spacer columns or another header row reads the same. The written bytes are
deterministic: the same report and policy always give the same file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Final

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ledger.accounting.aef import (
    DEFAULT_POLICY,
    AefProblem,
    AefReport,
    AefRow,
    AefTable,
    AefValidationError,
    Cell,
    ColumnSpec,
    SpellingPolicy,
    assemble_report,
    headers,
    normalize_header,
    parse_records,
    render_records,
    table_spec,
)

__all__ = [
    "HEADER_ROWS",
    "INDEX_SHEET",
    "SUBMISSION_FIRST_ROW",
    "SUMMARY_SHEET",
    "read_workbook",
    "write_workbook",
]

INDEX_SHEET: Final = "Index"
SUMMARY_SHEET: Final = "Summary information"

HEADER_ROWS: Final[Mapping[AefTable, int]] = {
    AefTable.AUTHORIZATIONS: 7,
    AefTable.ACTIONS: 8,
    AefTable.HOLDINGS: 7,
    AefTable.ENTITIES: 10,
}
"""Header row of each horizontal table in the CARP template; data starts on the next row."""

SUBMISSION_FIRST_ROW: Final = 4
"""Row of Table 1's first label (``Party``) in the CARP template."""

_EXCEL_SAFE_INTEGER: Final = 10**15
"""Excel keeps 15 significant digits; larger integers are written as text so none is lost."""

_GROUP_NOTE = re.compile(r"\s*\(annex letter[^)]*\)")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=12)
_WRAP = Alignment(wrap_text=True, vertical="top")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_workbook(report: AefReport, policy: SpellingPolicy = DEFAULT_POLICY) -> bytes:
    """The report as an ``.xlsx`` workbook in the CARP template layout (module docstring).

    The report is written as it is; call :func:`ledger.accounting.aef.validate_report` first.
    """
    workbook = Workbook()
    index = workbook.active
    index.title = INDEX_SHEET
    _write_index(index, policy)
    _write_summary(workbook.create_sheet(SUMMARY_SHEET), report)
    _write_submission(workbook.create_sheet(AefTable.SUBMISSION.sheet_name), report, policy)
    for table, header_row in HEADER_ROWS.items():
        sheet = workbook.create_sheet(table.sheet_name)
        _write_table(sheet, table, header_row, report.rows(table), policy)
    workbook.properties.creator = "a6ledger"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible(buffer.getvalue(), report.submission.date_of_submission)


def _write_index(ws: Worksheet, policy: SpellingPolicy) -> None:
    ws["A1"] = (
        "Agreed electronic format (AEF) for Article 6, paragraph 2: decision 4/CMA.6, annex II"
    )
    ws["A1"].font = _TITLE
    ws["A3"], ws["B3"] = "Sheet", "Contents"
    ws["A3"].font = ws["B3"].font = _BOLD
    entries = [(SUMMARY_SHEET, "Short summary of this submission (not part of the annex)")]
    entries += [(table.sheet_name, table.value) for table in AefTable]
    for offset, (name, contents) in enumerate(entries):
        cell = ws.cell(row=4 + offset, column=1, value=name)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{name}'!A1", display=name)
        ws.cell(row=4 + offset, column=2, value=contents)
    ws["A12"] = (
        "The consistency-check cells show the secretariat's results; the other cells populated "
        "by the CARP are left empty."
        if policy.carp_results
        else "Cells populated by the CARP are left empty."
    )
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 60


def _total(quantities: Iterable[int | None]) -> int | None:
    """The sum, or ``None`` (blank) when a quantity is unknown (non-GHG without conversion)."""
    known = list(quantities)
    return None if None in known else sum(q for q in known if q is not None)


def _write_summary(ws: Worksheet, report: AefReport) -> None:
    ws["A1"] = SUMMARY_SHEET
    ws["A1"].font = _TITLE
    submission = report.submission
    lines: list[tuple[str, Cell]] = [
        ("Party", submission.party),
        ("Reported year", submission.reported_year),
        ("Version", submission.version),
        ("Rows in Table 2: Authorizations", len(report.authorizations)),
        ("Rows in Table 3: Actions", len(report.actions)),
        ("Rows in Table 4: Holdings", len(report.holdings)),
        ("Quantity held (t CO2 eq), Table 4", _total(row.quantity for row in report.holdings)),
        ("Rows in Table 5: Authorized entities", len(report.entities)),
    ]
    for offset, (label, value) in enumerate(lines):
        ws.cell(row=3 + offset, column=1, value=label)
        _set(ws.cell(row=3 + offset, column=2), value)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 16


def _write_submission(ws: Worksheet, report: AefReport, policy: SpellingPolicy) -> None:
    ws["A1"] = AefTable.SUBMISSION.value
    ws["A1"].font = _TITLE
    (record,) = render_records(AefTable.SUBMISSION, [report.submission], policy)
    for offset, (label, value) in enumerate(record.items()):
        label_cell = ws.cell(row=SUBMISSION_FIRST_ROW + offset, column=1, value=label)
        label_cell.font = _BOLD
        label_cell.alignment = _WRAP
        _set(ws.cell(row=SUBMISSION_FIRST_ROW + offset, column=2), value)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 24


def _layout(table: AefTable) -> list[ColumnSpec | None]:
    """Columns in sheet order: ``None`` marks an unlabelled spacer column of the annex."""
    slots: list[ColumnSpec | None] = []
    for column in table_spec(table).columns:
        slots.append(column)
        if column.spacer_after:
            slots.append(None)
    return slots


def _group_label(column: ColumnSpec) -> str:
    group = column.header_group or ""
    return _GROUP_NOTE.sub("", group.split(" > ")[-1]).strip()


def _write_table(
    ws: Worksheet,
    table: AefTable,
    header_row: int,
    rows: Iterable[AefRow],
    policy: SpellingPolicy,
) -> None:
    ws["A1"] = table.value
    ws["A1"].font = _TITLE
    header_text = dict(
        zip(table_spec(table).headers, headers(table, policy), strict=True),
    )
    records = render_records(table, rows, policy)
    previous_group = ""
    for position, slot in enumerate(_layout(table), start=1):
        letter = get_column_letter(position)
        if slot is None:
            ws.column_dimensions[letter].width = 3
            continue
        group = _group_label(slot)
        if group and group != previous_group:
            ws.cell(row=header_row - 1, column=position, value=group).font = _BOLD
        previous_group = group
        written = header_text[slot.header]
        cell = ws.cell(row=header_row, column=position, value=written)
        cell.font = _BOLD
        cell.alignment = _WRAP
        ws.column_dimensions[letter].width = min(max(len(slot.header) * 0.9, 12), 36)
        for offset, record in enumerate(records, start=1):
            _set(ws.cell(row=header_row + offset, column=position), record[written])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def _set(cell: XlCell, value: Cell) -> None:
    """Write one value: big integers and formula-like text stay text."""
    if isinstance(value, int) and abs(value) >= _EXCEL_SAFE_INTEGER:
        value = str(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        cell.number_format = "@"


def reproducible(data: bytes, stamp: date) -> bytes:
    """Rewrite the package with fixed zip timestamps and document dates (the submission date),
    so that the same report gives the same bytes."""
    iso = f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T00:00:00Z".encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + iso + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return output.getvalue()


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_workbook(data: bytes) -> AefReport:
    """Read a workbook written by :func:`write_workbook` or laid out like the CARP template.

    Sheets are found by name (case and spacing ignored); in each, the header row is the row
    with the most AEF headers, and columns are matched by header text in any accepted
    spelling. Table 1 values sit beside their labels. Blank rows are skipped. Raises
    :class:`~ledger.accounting.aef.AefValidationError` listing every problem in every sheet; row
    numbers
    count each table's data rows from 1.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise AefValidationError(
            [AefProblem(AefTable.SUBMISSION, 0, "", f"not a readable .xlsx workbook: {error}")]
        ) from None
    try:
        sheets = {normalize_header(name): name for name in workbook.sheetnames}
        problems: list[AefProblem] = []
        parsed: dict[AefTable, Sequence[AefRow]] = {}
        for table in AefTable:
            name = sheets.get(normalize_header(table.sheet_name))
            if name is None:
                problems.append(AefProblem(table, 0, "", f"sheet {table.sheet_name!r} is missing"))
                continue
            grid = [list(row) for row in workbook[name].iter_rows(values_only=True)]
            if table is AefTable.SUBMISSION:
                records, found = _submission_records(grid)
            else:
                records, found = _table_records(table, grid)
            problems.extend(found)
            try:
                parsed[table] = parse_records(table, records)
            except AefValidationError as error:
                problems.extend(error.problems)
    finally:
        workbook.close()
    return assemble_report(parsed, problems)


def _text(value: object) -> str:
    return normalize_header(value) if isinstance(value, str) else ""


def _submission_records(
    grid: Sequence[Sequence[object]],
) -> tuple[list[dict[str, object]], list[AefProblem]]:
    """Table 1 is transposed: each label has its value in the cell to its right."""
    wanted = {normalize_header(header) for header in table_spec(AefTable.SUBMISSION).headers}
    record: dict[str, object] = {}
    for line in grid:
        for index, value in enumerate(line):
            key = _text(value)
            if key in wanted and isinstance(value, str) and value not in record:
                record[value] = line[index + 1] if index + 1 < len(line) else None
                break
    if not record:
        return [], [AefProblem(AefTable.SUBMISSION, 0, "", "no Table 1 labels found")]
    return [record], []


def _table_records(
    table: AefTable, grid: Sequence[Sequence[object]]
) -> tuple[list[dict[str, object]], list[AefProblem]]:
    known = {normalize_header(header) for header in table_spec(table).headers}
    best_row, best_hits = -1, 0
    for number, line in enumerate(grid):
        hits = sum(1 for value in line if _text(value) in known)
        if hits > best_hits:
            best_row, best_hits = number, hits
    if best_row < 0:
        return [], [AefProblem(table, 0, "", "no header row found")]
    header_line = grid[best_row]
    columns = {
        index: value
        for index, value in enumerate(header_line)
        if isinstance(value, str) and value.strip()
    }
    records: list[dict[str, object]] = []
    problems: list[AefProblem] = []
    for line in grid[best_row + 1 :]:
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in line):
            continue
        record: dict[str, object] = {}
        for index, value in enumerate(line):
            if index in columns:
                record[columns[index]] = value
            elif value is not None and not (isinstance(value, str) and not value.strip()):
                problems.append(
                    AefProblem(
                        table,
                        len(records) + 1,
                        "",
                        f"value {value!r} in column {get_column_letter(index + 1)}, which has "
                        "no header",
                    )
                )
        records.append(record)
    return records, problems
