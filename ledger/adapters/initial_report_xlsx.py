"""An initial report (or update) as an ``.xlsx`` workbook in the layout of the document: a
sheet "Initial report" with the identification, then one row per element of 2/CMA.3 annex
para 18 (paragraph, heading, content), the approach's duration; a sheet "Expected mitigation"
(year, quantity); a sheet "Recorded in the ledger" with the NDC periods, the authorizations and
the first-transfer definition the ledger held when the report was recorded. Text cells are
written as text, so nothing the Party wrote is read as a formula."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger.accounting.cycle import ELEMENTS, InitialReport
from ledger.adapters.aef_xlsx import reproducible

MAIN_SHEET = "Initial report"
MITIGATION_SHEET = "Expected mitigation"
RECORDED_SHEET = "Recorded in the ledger"


def _text_row(ws: Worksheet, values: Sequence[object]) -> None:
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.number_format = "@"


def write_initial_report(report: InitialReport) -> bytes:
    """The workbook of ``report`` (see the module); the same report gives the same bytes."""
    workbook = Workbook()
    main = workbook.active
    main.title = MAIN_SHEET
    for label, value in (
        ("Party", report.party),
        ("Cooperative approach ID", report.ca_id),
        ("Report", report.kind),
        ("Version", report.version),
        ("Date of submission", report.date_of_submission.isoformat()),
        ("Ledger seq", report.seq),
    ):
        _text_row(main, (label, value))
    _text_row(main, ())
    _text_row(main, ("Paragraph (2/CMA.3 annex)", "Element", "Content"))
    for element in ELEMENTS:
        _text_row(main, (element.paragraph, element.heading, report.elements.get(element.key, "")))
    _text_row(
        main,
        (
            "18(g)",
            "Duration of the cooperative approach",
            f"{report.duration_from}-{report.duration_to}",
        ),
    )
    mitigation = workbook.create_sheet(MITIGATION_SHEET)
    _text_row(mitigation, ("Year", "Expected mitigation"))
    for year, quantity in sorted(report.expected_mitigation.items()):
        mitigation.append([year, quantity])
    recorded = workbook.create_sheet(RECORDED_SHEET)
    _text_row(recorded, ("Item", "As recorded (JSON)"))
    for key, value in report.recorded.items():
        _text_row(recorded, (key, json.dumps(value, sort_keys=True, ensure_ascii=False)))
    workbook.properties.creator = "a6ledger"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible(buffer.getvalue(), report.date_of_submission)
