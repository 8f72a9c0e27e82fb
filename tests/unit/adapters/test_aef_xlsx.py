"""AEF workbook in the CARP template layout (aef-v2.json conventions.layout)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from ledger.accounting.aef import (
    ActionDateFormat,
    AefReport,
    AefTable,
    AefValidationError,
    SpellingPolicy,
    headers,
    table_spec,
    to_json,
    validate_report,
)
from ledger.adapters.aef_xlsx import (
    HEADER_ROWS,
    SUBMISSION_FIRST_ROW,
    read_workbook,
    write_workbook,
)
from tests.unit.accounting.aef.jcm import (
    POLICIES,
    first_transfer,
    japan_holding,
    japan_report,
    oimp_report,
    thailand_report,
)

SHEETS = [
    "Index",
    "Summary information",
    "Table 1 Submission",
    "Table 2 Authorizations",
    "Table 3 Actions",
    "Table 4 Holdings",
    "Table 5 Auth. entities",
]


def opened(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def saved(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def column_of(sheet: Any, header_row: int, header: str) -> int:
    for cell in sheet[header_row]:
        if cell.value == header:
            return int(cell.column)
    raise AssertionError(f"{header!r} not on row {header_row} of {sheet.title}")


def problems_reading(data: bytes) -> tuple[Any, ...]:
    with pytest.raises(AefValidationError) as raised:
        read_workbook(data)
    return raised.value.problems


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("build", [thailand_report, japan_report, oimp_report])
def test_workbook_round_trip_gives_identical_rows(policy: SpellingPolicy, build: Any) -> None:
    report: AefReport = build()
    if build is oimp_report:
        policy = replace(policy, action_date=ActionDateFormat.ISO_8601_UTC)
    validate_report(report)
    assert read_workbook(write_workbook(report, policy)) == report


def test_sheets_titles_and_index() -> None:
    workbook = opened(write_workbook(thailand_report()))
    assert workbook.sheetnames == SHEETS
    for table in AefTable:
        assert workbook[table.sheet_name]["A1"].value == table.value
    index = workbook["Index"]
    links = {
        index.cell(row=row, column=1).value: index.cell(row=row, column=1).hyperlink
        for row in range(4, 10)
    }
    assert set(links) == set(SHEETS[1:])
    assert links["Table 3 Actions"].location == "'Table 3 Actions'!A1"
    summary = workbook["Summary information"]
    assert [summary.cell(row=row, column=2).value for row in (3, 4, 5)] == ["THA", 2025, "1.0"]


def test_table_1_is_transposed_with_carp_cells_empty() -> None:
    sheet = opened(write_workbook(japan_report()))["Table 1 Submission"]
    labels = [sheet.cell(row=SUBMISSION_FIRST_ROW + i, column=1).value for i in range(9)]
    values = [sheet.cell(row=SUBMISSION_FIRST_ROW + i, column=2).value for i in range(9)]
    assert labels == list(headers(AefTable.SUBMISSION))
    assert values == ["JPN", "1.0", 2025, "10/04/2026", None, None, 2021, 2030, None]


@pytest.mark.parametrize(("table", "header_row"), list(HEADER_ROWS.items()))
def test_header_rows_spacers_and_first_data_row(table: AefTable, header_row: int) -> None:
    report = replace(japan_report(), entities=thailand_report().entities)
    sheet = opened(write_workbook(report))[table.sheet_name]
    assert (
        header_row
        == {
            AefTable.AUTHORIZATIONS: 7,
            AefTable.ACTIONS: 8,
            AefTable.HOLDINGS: 7,
            AefTable.ENTITIES: 10,
        }[table]
    )
    written = [cell.value for cell in sheet[header_row]]
    assert [value for value in written if value is not None] == list(headers(table))
    spacers = [index for index, value in enumerate(written, start=1) if value is None]
    expected_spacers = sum(1 for column in table_spec(table).columns if column.spacer_after)
    assert len(spacers) == expected_spacers
    for column in spacers:
        assert sheet.cell(row=header_row + 1, column=column).value is None
    first = sheet.cell(row=header_row + 1, column=1).value
    assert first is not None
    assert sheet.cell(row=header_row - 1, column=1).value != first


def test_first_transfer_cells_sit_under_their_headers() -> None:
    sheet = opened(write_workbook(thailand_report()))["Table 3 Actions"]
    row = HEADER_ROWS[AefTable.ACTIONS] + 1
    (expected,) = to_json(thailand_report())["Table 3: Actions"]
    for header, value in expected.items():
        cell = sheet.cell(row=row, column=column_of(sheet, row - 1, header))
        assert cell.value == value, header
    assert sheet.cell(row=row + 1, column=1).value is None


def test_reader_locates_columns_by_header_text() -> None:
    """A layout with a gutter column, shuffled columns, other header rows, spelling variants
    and the annex's CARP notices reads the same."""
    report = japan_report()
    data = to_json(report)
    workbook = Workbook()
    workbook.remove(workbook.active)
    t1 = workbook.create_sheet("TABLE 1 SUBMISSION")
    t1["B1"] = "Table 1: Submission"
    for offset, (label, value) in enumerate(data["Table 1: Submission"][0].items()):
        t1.cell(row=3 + offset, column=2, value=label)
        if value is None:
            value = "{Information in this field is populated by the CARP}"
        t1.cell(row=3 + offset, column=3, value=value)
    for number, table in enumerate(list(AefTable)[1:], start=2):
        sheet = workbook.create_sheet(f"Table {number}  {table.sheet_name.split(' ', 2)[2]}")
        columns = list(reversed(headers(table)))
        for position, header in enumerate(columns, start=2):
            variant = header.replace("Quantity (t CO2 eq)", "quantity (t\u00a0CO2\u00a0eq)")
            sheet.cell(row=12, column=position, value=variant)
            for offset, record in enumerate(data[table.value], start=1):
                sheet.cell(row=12 + offset + 1, column=position, value=record[header])
        sheet.cell(row=2, column=2, value="Authorization ID")  # a stray label above the header
    assert read_workbook(saved(workbook)) == report


def test_written_bytes_are_reproducible() -> None:
    report = japan_report()
    assert write_workbook(report) == write_workbook(report)
    assert write_workbook(report) != write_workbook(thailand_report())


def test_formula_like_text_stays_text() -> None:
    action = replace(first_transfer(), additional_information='=HYPERLINK("x")')
    report = replace(thailand_report(), actions=(action,))
    data = write_workbook(report)
    sheet = opened(data)["Table 3 Actions"]
    row = HEADER_ROWS[AefTable.ACTIONS] + 1
    cell = sheet.cell(
        row=row, column=column_of(sheet, row - 1, "Additional explanatory information")
    )
    assert cell.data_type == "s"
    assert read_workbook(data) == report


def test_serials_beyond_excel_precision_survive() -> None:
    big = 10**17
    holding = replace(
        japan_holding(),
        first_id=big,
        last_id=big + 8,
        underlying_registry_id=None,
        first_unit_id=None,
        last_unit_id=None,
    )
    report = replace(japan_report(), holdings=(holding,))
    data = write_workbook(report)
    sheet = opened(data)["Table 4 Holdings"]
    row = HEADER_ROWS[AefTable.HOLDINGS] + 1
    assert sheet.cell(row=row, column=column_of(sheet, row - 1, "First ID")).value == str(big)
    assert read_workbook(data) == report


def test_incomplete_authorization_is_reported_with_table_row_and_column() -> None:
    workbook = opened(write_workbook(thailand_report()))
    sheet = workbook["Table 2 Authorizations"]
    header_row = HEADER_ROWS[AefTable.AUTHORIZATIONS]
    sheet.cell(
        row=header_row + 1, column=column_of(sheet, header_row, "Purposes for authorization")
    ).value = None
    sheet.cell(row=header_row + 1, column=column_of(sheet, header_row, "Metric")).value = "Carbon"
    assert problems_reading(saved(workbook)) == (
        (
            AefTable.AUTHORIZATIONS,
            1,
            "Metric",
            "'Carbon' is not in the common nomenclature list (GHG; non-GHG)",
        ),
        (AefTable.AUTHORIZATIONS, 1, "Purposes for authorization", "required value is missing"),
    )


def test_values_in_spacer_columns_and_missing_sheets_are_reported() -> None:
    workbook = opened(write_workbook(japan_report()))
    header_row = HEADER_ROWS[AefTable.ACTIONS]
    actions = workbook["Table 3 Actions"]
    spacer = column_of(actions, header_row, "Last ID") + 1
    actions.cell(row=header_row + 2, column=spacer, value="stray")
    del workbook["Table 4 Holdings"]
    assert problems_reading(saved(workbook)) == (
        (AefTable.ACTIONS, 2, "", "value 'stray' in column J, which has no header"),
        (AefTable.HOLDINGS, 0, "", "sheet 'Table 4 Holdings' is missing"),
    )


def test_a_file_that_is_not_a_workbook_is_rejected() -> None:
    (problem,) = problems_reading(b"not a zip file")
    assert problem[:3] == (AefTable.SUBMISSION, 0, "")
    assert problem.message.startswith("not a readable .xlsx workbook")


def test_cells_typed_into_a_spreadsheet_are_read() -> None:
    """A person editing the workbook types numbers and dates, not the text the export wrote."""
    workbook = opened(write_workbook(japan_report()))
    t1 = workbook["Table 1 Submission"]
    t1.cell(row=SUBMISSION_FIRST_ROW + 1, column=2).value = 2  # Version typed as "2.0"
    t1.cell(row=SUBMISSION_FIRST_ROW + 3, column=2).value = datetime(2026, 4, 10)
    t2 = workbook["Table 2 Authorizations"]
    row = HEADER_ROWS[AefTable.AUTHORIZATIONS] + 1
    t2.cell(row=row, column=column_of(t2, row - 1, "Date of authorization")).value = datetime(
        2025, 10, 30
    )
    t2.cell(row=row, column=column_of(t2, row - 1, "Applicable GWP value(s)")).value = 28.5
    t3 = workbook["Table 3 Actions"]
    row = HEADER_ROWS[AefTable.ACTIONS] + 1
    t3.cell(row=row, column=column_of(t3, row - 1, "Action date")).value = datetime(
        2025, 11, 11, 9, 30
    )
    t3.cell(row=row, column=column_of(t3, row - 1, "Quantity (t CO2 eq)")).value = 1009.0
    report = read_workbook(saved(workbook))
    assert report.submission.version == "2.0"
    assert report.submission.date_of_submission == date(2026, 4, 10)
    assert report.authorizations[0].date_of_authorization == date(2025, 10, 30)
    assert report.authorizations[0].gwp_values == "28.5"
    assert report.actions[0].action_date == datetime(2025, 11, 11, 9, 30, tzinfo=UTC)
    assert report.actions[0].quantity == 1009
    assert report.actions[1:] == japan_report().actions[1:]
