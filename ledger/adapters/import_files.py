"""Import files: the bytes of a registry's history, read into lines or AEF Table 3 rows.

Two kinds of file:

- **JSON Lines** (``.jsonl``): one JSON object per line, UTF-8. Each line is read on its own: a
  line that is not UTF-8 or not a JSON object is kept with its error, so every bad line is
  named, not only the first. Blank lines are skipped (they still count for line numbers).
- **AEF** of one Party, read by the existing AEF readers (:mod:`ledger.adapters.aef_files`) and
  validated: the workbook (``.xlsx``), the ZIP of one CSV per table (``.zip``) or the JSON
  rendering (``.json``), whose Table 1 names the Party; or Table 3 alone as CSV (``.csv``),
  whose Party is given with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from ledger.accounting import aef
from ledger.adapters import aef_files
from ledger.errors import InvalidInput

__all__ = [
    "ImportFormat",
    "JsonLine",
    "Table3File",
    "UnknownImportFormat",
    "file_sha256",
    "read_json_lines",
    "read_table3",
]


class UnknownImportFormat(InvalidInput):
    """An import file is JSON Lines or an AEF (workbook, CSV ZIP, JSON, or Table 3 as CSV)."""

    problem_type = "unknown-import-format"
    title = "An import file is JSON Lines or an AEF: workbook, CSV ZIP, JSON, or Table 3 as CSV"
    rule = "import-file-format"


class ImportFormat(StrEnum):
    """What an import file holds."""

    JSONL = "jsonl"
    AEF_XLSX = "aef-xlsx"
    AEF_CSV_ZIP = "aef-csv-zip"
    AEF_JSON = "aef-json"
    AEF_TABLE3_CSV = "aef-table3-csv"

    @property
    def binary(self) -> bool:
        """Whether the file is binary (sent base64-encoded over HTTP)."""
        return self in (ImportFormat.AEF_XLSX, ImportFormat.AEF_CSV_ZIP)

    @classmethod
    def of_file(cls, name: str) -> ImportFormat:
        """The format a file name's suffix says."""
        suffix = PurePath(name).suffix.lower()
        by_suffix = {
            ".jsonl": cls.JSONL,
            ".ndjson": cls.JSONL,
            ".xlsx": cls.AEF_XLSX,
            ".zip": cls.AEF_CSV_ZIP,
            ".json": cls.AEF_JSON,
            ".csv": cls.AEF_TABLE3_CSV,
        }
        if suffix not in by_suffix:
            raise UnknownImportFormat(
                f"cannot tell the format of {name!r} from its suffix: use .jsonl, .xlsx, .zip, "
                ".json or .csv, or name the format",
                file=name,
                formats=[f.value for f in cls],
            )
        return by_suffix[suffix]


def file_sha256(data: bytes) -> str:
    """The SHA-256 of a file's bytes, hex: how the ledger names an imported file."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One non-blank line of a JSON Lines file: its number (from 1), its bytes without the line
    end, and the JSON object it holds, or why it holds none."""

    line: int
    text: bytes
    value: dict[str, object] | None
    error: str | None = None


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def read_json_lines(data: bytes) -> list[JsonLine]:
    """The non-blank lines of a JSON Lines file, each read on its own."""
    found: list[JsonLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        text = raw.removesuffix(b"\r")
        if number == 1:
            text = text.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        if not text.strip():
            continue
        try:
            value = json.loads(text.decode("utf-8"), parse_constant=_no_constants)
        except UnicodeDecodeError as exc:
            found.append(JsonLine(number, text, None, f"not UTF-8 text: {exc}"))
            continue
        except (ValueError, RecursionError) as exc:
            found.append(JsonLine(number, text, None, f"not JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            found.append(JsonLine(number, text, None, "a line holds one JSON object"))
            continue
        found.append(JsonLine(number, text, value))
    return found


@dataclass(frozen=True, slots=True)
class Table3File:
    """The Party an AEF is of, and its Table 3 rows in table order."""

    party: str
    actions: tuple[aef.ActionRow, ...]


AEF_FORMATS = {
    ImportFormat.AEF_XLSX: aef_files.AefFormat.XLSX,
    ImportFormat.AEF_CSV_ZIP: aef_files.AefFormat.CSV,
    ImportFormat.AEF_JSON: aef_files.AefFormat.JSON,
}


def read_table3(data: bytes, fmt: ImportFormat, party: str | None = None) -> Table3File:
    """Table 3 of an AEF file and the Party it is of: Table 1's Party (``party``, if given,
    must be the same), or ``party`` for Table 3 alone as CSV. The file is read and validated
    by the AEF readers (:class:`~ledger.accounting.aef.AefValidationError` lists every
    problem)."""
    if fmt is ImportFormat.AEF_TABLE3_CSV:
        if party is None:
            raise InvalidInput(
                "AEF Table 3 alone does not say whose it is: name the Party", field="party"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"AEF Table 3 CSV is not UTF-8 text: {exc}") from None
        return Table3File(party, tuple(aef.from_csv(aef.AefTable.ACTIONS, text)))
    if fmt not in AEF_FORMATS:
        raise UnknownImportFormat(f"{fmt.value} is not an AEF format", format=fmt.value)
    report = aef_files.import_aef(data, AEF_FORMATS[fmt])
    if party is not None and party != report.submission.party:
        raise InvalidInput(
            f"the AEF is of {report.submission.party}, not of {party}",
            field="party",
            aef_party=report.submission.party,
        )
    return Table3File(report.submission.party, report.actions)
