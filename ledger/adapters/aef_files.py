"""AEF files: the bytes of a report as one JSON document, a ZIP of one CSV per table, or the
Excel workbook in the CARP template layout (:mod:`ledger.adapters.aef_xlsx`), and back.

The core renders a report as JSON data and CSV text (:mod:`ledger.accounting.aef`); this adapter
packs those into files and reads files back, validating every report it writes or reads.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

from ledger.accounting import aef
from ledger.adapters.aef_xlsx import read_workbook, write_workbook

__all__ = ["AefFormat", "export_aef", "import_aef"]


class AefFormat(StrEnum):
    """File formats of :func:`export_aef`: one JSON document, a ZIP of one CSV per table, or the
    workbook in the CARP template layout."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return {
            AefFormat.JSON: "application/json",
            AefFormat.CSV: "application/zip",
            AefFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[self]


_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def _csv_name(table: aef.AefTable) -> str:
    return f"{table.sheet_name}.csv"


def export_aef(
    report: aef.AefReport,
    fmt: AefFormat,
    policy: aef.SpellingPolicy = aef.DEFAULT_POLICY,
    *,
    results: aef.ConsistencyResults | None = None,
) -> bytes:
    """The report as a file, after :func:`ledger.accounting.aef.validate_report`: a report with a
    missing required value or any other problem is never exported (``AefValidationError``).
    With ``results`` (the secretariat's, of a submitted version), the consistency-check columns
    of Tables 1 and 3 show them."""
    aef.validate_report(report)
    if results is not None:
        report = aef.with_results(report, results)
        policy = replace(policy, carp_results=True)
    if fmt is AefFormat.JSON:
        text = json.dumps(aef.to_json(report, policy), ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")
    if fmt is AefFormat.XLSX:
        return write_workbook(report, policy)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in aef.AefTable:
            info = zipfile.ZipInfo(_csv_name(table), date_time=_ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, aef.to_csv(report, table, policy).encode("utf-8"))
    return buffer.getvalue()


def import_aef(data: bytes, fmt: AefFormat) -> aef.AefReport:
    """Read a file written by :func:`export_aef` (or by hand in the same layout) and validate it
    (the secretariat's consistency-check results it may show aside, as the Party submitted it:
    they are kept in the report). Raises :class:`~ledger.accounting.aef.AefValidationError`
    listing every problem."""
    if fmt is AefFormat.XLSX:
        report = read_workbook(data)
    elif fmt is AefFormat.JSON:
        try:
            loaded = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise aef.AefValidationError(
                [aef.AefProblem(aef.AefTable.SUBMISSION, 0, "", f"not JSON: {error}")]
            ) from None
        if not isinstance(loaded, dict):
            raise aef.AefValidationError(
                [aef.AefProblem(aef.AefTable.SUBMISSION, 0, "", "expected a JSON object")]
            )
        report = aef.from_json(loaded)
    else:
        report = _read_csv_zip(data)
    aef.validate_report(aef.without_results(report))
    return report


def _read_csv_zip(data: bytes) -> aef.AefReport:
    problems: list[aef.AefProblem] = []
    tables: dict[aef.AefTable, Sequence[aef.AefRow]] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise aef.AefValidationError(
            [aef.AefProblem(aef.AefTable.SUBMISSION, 0, "", f"not a ZIP archive: {error}")]
        ) from None
    with archive:
        names = {aef.normalize_header(name): name for name in archive.namelist()}
        for table in aef.AefTable:
            name = names.get(aef.normalize_header(_csv_name(table)))
            if name is None:
                problems.append(aef.AefProblem(table, 0, "", f"{_csv_name(table)} is missing"))
                continue
            try:
                tables[table] = aef.from_csv(table, archive.read(name).decode("utf-8"))
            except UnicodeDecodeError as error:
                problems.append(aef.AefProblem(table, 0, "", f"not UTF-8 text: {error}"))
            except aef.AefValidationError as error:
                problems.extend(error.problems)
    return aef.assemble_report(tables, problems)
