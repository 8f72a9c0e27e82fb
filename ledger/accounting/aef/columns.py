"""The columns of each AEF table as recorded in ``data/aef-v2.json``, bound to the row fields,
and how headers are written and matched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache

from ledger.accounting.aef.nomenclature import AefTable, Requirement, package_data
from ledger.accounting.aef.policy import (
    DEFAULT_POLICY,
    NBSP_QUANTITY_HEADER,
    QUANTITY_HEADER,
    SpellingPolicy,
)
from ledger.accounting.aef.rows import ROW_TYPES


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One AEF column as recorded in ``aef-v2.json``, bound to its row field."""

    order: int
    header: str
    field_name: str
    requirement: Requirement
    condition: str | None
    data_type: str
    header_group: str | None
    spacer_after: bool
    """The annex/template has an unlabelled spacer column right after this one."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One AEF table: title, CARP worksheet name and ordered columns."""

    table: AefTable
    title: str
    sheet_name: str
    columns: tuple[ColumnSpec, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        """Column headers in annex order, exactly as in ``aef-v2.json``."""
        return tuple(column.header for column in self.columns)

    def column(self, field_name: str) -> ColumnSpec:
        """The column bound to row field ``field_name``."""
        for column in self.columns:
            if column.field_name == field_name:
                return column
        raise KeyError(field_name)


@cache
def table_spec(table: AefTable) -> TableSpec:
    """The definition of ``table`` from ``aef-v2.json``, bound to its row dataclass by order."""
    raw_table = next(t for t in package_data("aef-v2.json")["tables"] if t["title"] == table.value)
    names = [f.name for f in fields(ROW_TYPES[table])]
    raw_columns = raw_table["columns"]
    if len(raw_columns) != len(names) or raw_table["column_count"] != len(names):
        raise RuntimeError(
            f"aef-v2.json {table} has {len(raw_columns)} columns, expected {len(names)}"
        )
    columns = tuple(
        ColumnSpec(
            order=int(raw["order"]),
            header=str(raw["header"]),
            field_name=name,
            requirement=Requirement(raw["requirement"]["status"]),
            condition=raw["requirement"].get("condition"),
            data_type=str(raw["data_type"]),
            header_group=raw.get("header_group"),
            spacer_after="spacer column" in str(raw.get("layout_note", "")),
        )
        for name, raw in zip(names, raw_columns, strict=True)
    )
    return TableSpec(
        table=table,
        title=str(raw_table["title"]),
        sheet_name=str(raw_table["sheet_name"]),
        columns=columns,
    )


def headers(table: AefTable, policy: SpellingPolicy = DEFAULT_POLICY) -> tuple[str, ...]:
    """Column headers of ``table`` as written under ``policy``."""
    return tuple(written_header(column, policy) for column in table_spec(table).columns)


def written_header(column: ColumnSpec, policy: SpellingPolicy) -> str:
    if policy.quantity_header_nbsp and column.header == QUANTITY_HEADER:
        return NBSP_QUANTITY_HEADER
    return column.header


def normalize_header(text: str) -> str:
    """Header text reduced for matching: non-breaking spaces and runs of whitespace become one
    space, typographic apostrophes become ``'``, and case is folded."""
    text = text.replace("\u00a0", " ").replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).casefold()


@cache
def columns_by_header(table: AefTable) -> Mapping[str, ColumnSpec]:
    return {normalize_header(column.header): column for column in table_spec(table).columns}


@cache
def _table_by_name() -> Mapping[str, AefTable]:
    names: dict[str, AefTable] = {}
    for table in AefTable:
        names[normalize_header(table.value)] = table
        names[normalize_header(table.sheet_name)] = table
    return names


def table_named(name: str) -> AefTable | None:
    """The table whose title or worksheet name is ``name`` (any spacing or case)."""
    return _table_by_name().get(normalize_header(name))


@cache
def column_order(table: AefTable) -> Mapping[str, int]:
    """Column header -> annex order of ``table``."""
    return {column.header: column.order for column in table_spec(table).columns}
