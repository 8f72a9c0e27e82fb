"""Reading import files: JSON Lines line by line (every bad line named), and an AEF's Table 3
with the Party it is of."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from ledger.accounting import aef
from ledger.adapters.import_files import (
    ImportFormat,
    UnknownImportFormat,
    file_sha256,
    read_json_lines,
    read_table3,
)
from ledger.errors import InvalidInput


def test_each_line_is_read_on_its_own() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\r\n\n  \n[1]\n{"b": NaN}\n\xff\n{"c":\n{"d": 2}'
    lines = read_json_lines(data)
    assert [(line.line, line.value) for line in lines] == [
        (1, {"a": 1}),
        (4, None),
        (5, None),
        (6, None),
        (7, None),
        (8, {"d": 2}),
    ]
    assert lines[0].text == b'{"a": 1}'
    assert lines[1].error == "a line holds one JSON object"
    assert [line.error.split(":")[0] for line in lines[2:5] if line.error] == [
        "not JSON",
        "not UTF-8 text",
        "not JSON",
    ]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("history.jsonl", ImportFormat.JSONL),
        ("THA-2025.XLSX", ImportFormat.AEF_XLSX),
        ("aef.zip", ImportFormat.AEF_CSV_ZIP),
        ("aef.json", ImportFormat.AEF_JSON),
        ("table3.csv", ImportFormat.AEF_TABLE3_CSV),
    ],
)
def test_the_format_is_told_by_the_suffix(name: str, fmt: ImportFormat) -> None:
    assert ImportFormat.of_file(name) is fmt


def test_an_unknown_suffix_is_refused() -> None:
    with pytest.raises(UnknownImportFormat):
        ImportFormat.of_file("history.txt")


def test_the_file_is_named_by_its_sha256() -> None:
    assert file_sha256(b"") == ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_table_3_alone_needs_its_party() -> None:
    header = ",".join(aef.headers(aef.AefTable.ACTIONS)).encode()
    assert read_table3(header + b"\r\n", ImportFormat.AEF_TABLE3_CSV, "JPN").actions == ()
    with pytest.raises(InvalidInput):
        read_table3(header, ImportFormat.AEF_TABLE3_CSV)
    with pytest.raises(InvalidInput):
        read_table3(b"\xff", ImportFormat.AEF_TABLE3_CSV, "JPN")
    with pytest.raises(UnknownImportFormat):
        read_table3(b"", ImportFormat.JSONL, "JPN")


NO_KNOWN_COLUMN = b"Foo,Bar\r\n"
"""A Table 3 CSV whose header line names no column of Table 3, and no data line."""


def table3_sheet_without_headers() -> bytes:
    """Thailand's AEF workbook whose Table 3 sheet holds one line naming no column of Table 3
    (and no data row)."""
    from ledger.adapters import aef_files
    from tests.unit.accounting.aef.jcm import thailand_report

    data = aef_files.export_aef(thailand_report(), aef_files.AefFormat.XLSX)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[aef.AefTable.ACTIONS.sheet_name]
    sheet.delete_rows(1, sheet.max_row)
    sheet["A8"], sheet["B8"] = "Foo", "Bar"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (NO_KNOWN_COLUMN, ImportFormat.AEF_TABLE3_CSV),
        (NO_KNOWN_COLUMN + b"1,2\r\n", ImportFormat.AEF_TABLE3_CSV),
        (table3_sheet_without_headers(), ImportFormat.AEF_XLSX),
    ],
    ids=["csv", "csv-with-data", "xlsx"],
)
def test_a_table_3_whose_header_names_no_column_is_refused(data: bytes, fmt: ImportFormat) -> None:
    """Not an empty Table 3: a file whose header names no Table 3 column is not read at all."""
    with pytest.raises(aef.AefValidationError) as raised:
        read_table3(data, fmt, "THA")
    assert [(p.table, p.row) for p in raised.value.problems] == [(aef.AefTable.ACTIONS, 0)]
    assert raised.value.problems[0].message.startswith("no header")
