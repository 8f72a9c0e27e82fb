"""The initial report workbook: the document's layout, text kept as text, the same bytes for the
same report."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from ledger.accounting.cycle import ELEMENTS, InitialReport
from ledger.adapters.initial_report_xlsx import (
    MAIN_SHEET,
    MITIGATION_SHEET,
    RECORDED_SHEET,
    write_initial_report,
)

REPORT = InitialReport(
    seq=42,
    party="JPN",
    ca_id="CA0001",
    version=2,
    date_of_submission=date(2026, 3, 1),
    elements={"participation": '=HYPERLINK("x")', "metrics_and_method": "t CO2 eq; averaging"},
    duration_from=2021,
    duration_to=2030,
    expected_mitigation={2026: 2000, 2025: 1009},
    recorded={"first_transfer_definition": None, "authorizations": []},
)


def test_the_workbook_has_the_documents_layout() -> None:
    data = write_initial_report(REPORT)
    assert write_initial_report(REPORT) == data
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [MAIN_SHEET, MITIGATION_SHEET, RECORDED_SHEET]
    main = [tuple(c.value for c in row) for row in workbook[MAIN_SHEET].iter_rows()]
    assert main[:6] == [
        ("Party", "JPN", None),
        ("Cooperative approach ID", "CA0001", None),
        ("Report", "updated initial report", None),
        ("Version", 2, None),
        ("Date of submission", "2026-03-01", None),
        ("Ledger seq", 42, None),
    ]
    elements = main[8 : 8 + len(ELEMENTS)]
    assert [row[0] for row in elements] == [e.paragraph for e in ELEMENTS]
    assert elements[0][2] == '=HYPERLINK("x")'
    assert workbook[MAIN_SHEET].cell(9, 3).data_type == "s"  # text, never a formula
    assert main[-1] == ("18(g)", "Duration of the cooperative approach", "2021-2030")
    mitigation = [tuple(c.value for c in r) for r in workbook[MITIGATION_SHEET].iter_rows()]
    assert mitigation == [("Year", "Expected mitigation"), (2025, 1009), (2026, 2000)]
    recorded = [tuple(c.value for c in r) for r in workbook[RECORDED_SHEET].iter_rows()]
    assert recorded[1:] == [("first_transfer_definition", "null"), ("authorizations", "[]")]
