"""Agreed electronic format (AEF) for Article 6.2 annual information, decision 4/CMA.6 annex II.

The AEF has five tables: Table 1 Submission, Table 2 Authorizations, Table 3 Actions, Table 4
Holdings and Table 5 Authorized entities. Their headers, column order and requirement status are
read from ``ledger/accounting/data/aef-v2.json``. The value lists come from the "List of common
nomenclatures under Article 6, paragraph 2" (``ledger/accounting/data/nomenclature.json``). Both
files say where each item comes from and how far to trust it; ``ledger/accounting/data/README.md``
sums that up.

This module is pure and uses only the standard library:

- typed row values (:class:`SubmissionRow`, :class:`AuthorizationRow`, :class:`ActionRow`,
  :class:`HoldingRow`, :class:`AuthorizedEntityRow`) and :class:`AefReport`;
- :func:`validate_report` (and :func:`check_report`), which list every problem as
  ``(table, row, column header, message)``;
- renderers and parsers for JSON (:func:`to_json`, :func:`from_json`) and CSV (:func:`to_csv`,
  :func:`from_csv`). ``ledger.adapters.aef_xlsx`` builds the Excel workbook on
  :func:`render_records` and :func:`parse_records`.

Round trip: for every report that :func:`validate_report` accepts, exporting it and importing the
result gives equal row objects. Under the default ``dd/mm/yyyy`` action-date format a
date-time is written as its UTC date, so keep ``action_date`` a :class:`datetime.date` there, or
use :attr:`ActionDateFormat.ISO_8601_UTC`.

Where the sources spell a value differently, import accepts every variant (case-insensitively)
and :class:`SpellingPolicy` chooses what is written. "NA" is written only in a column that does
not apply to the row, and only if the policy asks for it; a missing required value is never
written as "NA".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from enum import Enum, StrEnum, auto
from functools import cache
from importlib import resources
from typing import Any, Final, Literal, NamedTuple, Protocol, TypeAlias, TypeVar, overload

from ledger.errors import InvalidInput
from ledger.registry.model import FirstTransferDefinition, Metric, MitigationType, Purpose

__all__ = [
    "DEFAULT_POLICY",
    "AcquisitionSpelling",
    "ActionDateFormat",
    "ActionRow",
    "ActionSubtype",
    "ActionType",
    "ActivityType",
    "AefProblem",
    "AefReport",
    "AefRow",
    "AefTable",
    "AefValidationError",
    "AuthorizationRow",
    "AuthorizedEntityRow",
    "Cell",
    "ColumnSpec",
    "FirstTransferDefinition",
    "FirstTransferDefinitionSpelling",
    "HoldingRow",
    "ItmoIdFormat",
    "Metric",
    "MetricSpelling",
    "MitigationType",
    "NOT_APPLICABLE",
    "Purpose",
    "Requirement",
    "Sector",
    "SpellingPolicy",
    "SubmissionRow",
    "TableSpec",
    "UnderlyingRegistry",
    "assemble_report",
    "check_report",
    "from_csv",
    "from_json",
    "headers",
    "normalize_header",
    "parse_records",
    "render_records",
    "table_spec",
    "to_csv",
    "to_json",
    "validate_report",
]


# --------------------------------------------------------------------------------------------
# Tables and closed value sets
# --------------------------------------------------------------------------------------------


class AefTable(StrEnum):
    """The five tables of 4/CMA.6 annex II; each value is the table title printed in the annex."""

    SUBMISSION = "Table 1: Submission"
    AUTHORIZATIONS = "Table 2: Authorizations"
    ACTIONS = "Table 3: Actions"
    HOLDINGS = "Table 4: Holdings"
    ENTITIES = "Table 5: Authorized entities"

    @property
    def number(self) -> int:
        """Table number in the annex (1-5)."""
        return list(AefTable).index(self) + 1

    @property
    def sheet_name(self) -> str:
        """Worksheet name of the CARP workbook (``aef-v2.json`` ``conventions.layout``)."""
        return table_spec(self).sheet_name


class ActionType(StrEnum):
    """Action type, Table 3 column 2: nomenclature Table 25(b).

    The annex lists five types and spells the first ``Aquisition`` [sic]; the nomenclature spells
    ``Acquisition`` and adds ``Authorization`` and ``Voluntary Cancellation``. Import accepts
    ``Aquisition`` and the checker misspelling ``Acquistion``.
    """

    AUTHORIZATION = "Authorization"
    FIRST_TRANSFER = "First transfer"
    TRANSFER = "Transfer"
    ACQUISITION = "Acquisition"
    USE = "Use"
    CANCELLATION = "Cancellation"
    VOLUNTARY_CANCELLATION = "Voluntary Cancellation"


class ActionSubtype(StrEnum):
    """Action subtype, Table 3 column 3: nomenclature Table 26(b).

    For a First transfer the subtype records which first-transfer definition fired.
    """

    FIRST_TRANSFER_TO_ANOTHER_PARTY = "First transfer to another Party"
    AUTHORIZATION = "Authorization"
    ISSUANCE = "Issuance"
    USE_OR_CANCELLATION = "Use or cancellation"
    MANDATORY_TRANSFER_TO_ADAPTATION_FUND = "Mandatory transfer to the Adaptation Fund (A6.4 ERs)"
    VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND = "Voluntary transfer to the Adaptation Fund (A6.4 ERs)"
    MANDATORY_CANCELLATION_OMGE = "Mandatory cancellation to deliver OMGE"
    VOLUNTARY_CANCELLATION_OMGE = "Voluntary cancellation to deliver OMGE"
    OTHER_CANCELLATIONS = "Other cancellations"
    NOT_YET_DEFINED = "Not yet defined"


class Sector(StrEnum):
    """Sector(s), Table 2 column 9: nomenclature Table 15(b)."""

    AGRICULTURE = "Agriculture"
    BUILDING_AND_CONSTRUCTION = "Building and construction"
    CROSS_SECTORAL_MECHANISMS = "Cross-sectoral mechanisms"
    ENERGY_GENERATION = "Energy generation"
    FORESTRY_AND_LAND_USE = "Forestry and land use"
    INDUSTRIAL_PROCESSES = "Industrial processes"
    TRANSPORTATION = "Transportation"
    URBAN_DEVELOPMENT = "Urban development"
    WASTE_MANAGEMENT = "Waste management"


class ActivityType(StrEnum):
    """Activity type(s), Table 2 column 10: nomenclature Table 51(b), spellings kept as printed.

    ``C02 usage`` has the digit zero in the source and is kept that way.
    """

    AFFORESTATION = "Afforestation"
    AGRICULTURE = "Agriculture"
    BIOGAS = "Biogas"
    BIOMASS_ENERGY = "Biomass Energy"
    CEMENT = "Cement"
    CO2_USAGE = "C02 usage"
    COAL_BED_MINE_METHANE = "Coal bed/mine methane"
    ENERGY_DISTRIBUTION = "Energy distribution"
    ENERGY_EFFICIENCY_HOUSEHOLDS = "Energy Efficiency households"
    ENERGY_EFFICIENCY_INDUSTRY = "Energy Efficiency Industry"
    ENERGY_EFFICIENCY_OWN_GENERATION = "Energy Efficiency own generation"
    ENERGY_EFFICIENCY_SERVICE = "Energy Efficiency service"
    ENERGY_EFFICIENCY_SUPPLY_SIDE = "Energy Efficiency supply side"
    FOSSIL_FUEL_SWITCH = "Fossil fuel switch"
    FUGITIVE = "Fugitive"
    GEOTHERMAL = "Geothermal"
    HYDRO = "Hydro"
    LANDFILL_GAS = "Landfill gas"
    METHANE_AVOIDANCE = "Methane avoidance"
    N2O = "N2O"
    PFCS_AND_SF6 = "PFCs and SF6"
    REFORESTATION = "Reforestation"
    SOLAR = "Solar"
    TIDAL = "Tidal"
    TRANSPORT = "Transport"
    WASTE = "Waste"
    WIND = "Wind"


class UnderlyingRegistry(StrEnum):
    """Underlying unit registry ID: nomenclature Table 31(b). A blank (or "NA") means none."""

    VCS = "VCS"
    GS = "GS"
    CAR = "CAR"
    ACR = "ACR"
    ART = "ART"
    GCC = "GCC"
    CERCARBONO = "Cercarbono"
    ISOMETRIC = "Isometric"
    ISFL = "ISFL"
    FCPF = "FCPF"
    T_VER = "T-VER"
    JCM = "JCM"


class Requirement(StrEnum):
    """Requirement status of a column, as recorded in ``aef-v2.json``."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    CONDITIONAL = "conditional"
    CARP_POPULATED = "carp_populated"
    UNCLEAR = "unclear"


# --------------------------------------------------------------------------------------------
# Spelling policy
# --------------------------------------------------------------------------------------------


class AcquisitionSpelling(StrEnum):
    """How to write :attr:`ActionType.ACQUISITION`; each value is the string written."""

    NOMENCLATURE = "Acquisition"
    ANNEX = "Aquisition"


class FirstTransferDefinitionSpelling(StrEnum):
    """How to write :class:`FirstTransferDefinition` values in Table 2."""

    ANNEX = "annex"
    """``Authorization``, ``Issuance``, ``Use or cancellation`` (annex Table 2 rows)."""
    NOMENCLATURE = "nomenclature"
    """``Authorisation``, ``Issuance``, ``Use or Cancellation`` (nomenclature Table 22(b))."""


class MetricSpelling(StrEnum):
    """How to write :attr:`Metric.NON_GHG`."""

    NOMENCLATURE = "non-GHG"
    """``non-GHG`` in every table (nomenclature Table 12(b), annex Table 3, the checkers)."""
    CAPITALISED = "Non-GHG"
    """``Non-GHG`` in every table."""
    ANNEX = "annex"
    """As the annex prints it: ``Non-GHG`` in Tables 2 and 4, ``non-GHG`` in Table 3."""


class ActionDateFormat(StrEnum):
    """How to write Table 3 ``Action date``."""

    DATE = "dd/mm/yyyy"
    """The date format of the other AEF date columns and of the checkers. A date-time is written
    as its UTC date."""
    ISO_8601_UTC = "yyyy-mm-ddThh:mm:ss.sssZ"
    """The Feb 2026 technical metadata ("Action date-time"). A plain date is written
    ``yyyy-mm-dd``."""


class ItmoIdFormat(StrEnum):
    """How to write ``First ID`` / ``Last ID`` in Tables 3 and 4."""

    SERIAL = "serial"
    """The integer serial number (nomenclature field specification)."""
    COMPOSITE = "composite"
    """``<CA ID>-<registry ID>-<first transferring Party>-<serial>-<vintage>``, e.g.
    ``CA0001-THA01-THA-1-2021``, as one syntax checker expects (6/CMA.4 annex I para 5 lists the
    elements but no string format)."""


@dataclass(frozen=True, slots=True)
class SpellingPolicy:
    """What to write where the sources disagree. Import accepts every variant regardless.

    Defaults follow the rule in the domain notes (emit the annex spelling) except where the annex
    is misspelt or contradicts itself; there the nomenclature spelling, which the CARP list of
    common nomenclatures uses, is the default:

    - ``acquisition``: ``Acquisition``. The annex's ``Aquisition`` is a typo that an exact match
      against the nomenclature would reject; :attr:`AcquisitionSpelling.ANNEX` writes it anyway.
    - ``first_transfer_definition``: the annex's ``Authorization`` / ``Use or cancellation``,
      which nomenclature Table 26(b) (action subtypes) also uses.
    - ``metric``: ``non-GHG`` everywhere; the annex itself prints both capitalisations.
    - ``action_date``: ``dd/mm/yyyy``, like every other AEF date and the checkers.
    - ``itmo_id``: integer serials, as the nomenclature field specification types them.
    - ``emit_na``: ``False``. A column that does not apply to a row is left blank; with ``True``
      it reads ``NA``, which the secondary sources also allow.
    - ``quantity_header_nbsp``: ``False`` writes ``Quantity (t CO2 eq)`` with ordinary spaces;
      ``True`` writes the annex's non-breaking spaces around ``CO2``.
    """

    acquisition: AcquisitionSpelling = AcquisitionSpelling.NOMENCLATURE
    first_transfer_definition: FirstTransferDefinitionSpelling = (
        FirstTransferDefinitionSpelling.ANNEX
    )
    metric: MetricSpelling = MetricSpelling.NOMENCLATURE
    action_date: ActionDateFormat = ActionDateFormat.DATE
    itmo_id: ItmoIdFormat = ItmoIdFormat.SERIAL
    emit_na: bool = False
    quantity_header_nbsp: bool = False


DEFAULT_POLICY: Final = SpellingPolicy()

NOT_APPLICABLE: Final = "NA"
"""Cell text for a column that does not apply to the row (written only if the policy says so)."""

_NBSP_QUANTITY_HEADER: Final = "Quantity (t\u00a0CO2\u00a0eq)"
_QUANTITY_HEADER: Final = "Quantity (t CO2 eq)"


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmissionRow:
    """Table 1: Submission, one record per reported year and version (annex II Table 1).

    The three CARP-populated fields are read from a file returned by CARP, but they are always
    written empty, and :func:`validate_report` rejects a report that sets them.
    """

    party: str
    """Party: reporting Party, ISO 3166-1 alpha-3 (nomenclature)."""
    version: str
    """Version: ``X.Y``; the first version is ``1.0``."""
    reported_year: int
    """Reported year: the 1 January-31 December period in which the actions took place."""
    date_of_submission: date
    """Date of submission (``dd/mm/yyyy``)."""
    review_status: str | None = None
    """Review status of the initial report (CARP-populated)."""
    consistency_check_result: str | None = None
    """Result of the consistency check of this AEF submission (CARP-populated)."""
    ndc_first_year: int
    """First year of the NDC implementation period."""
    ndc_last_year: int
    """Last year of the NDC implementation period."""
    ter_report_reference: str | None = None
    """Reference to the Article 6 technical expert review report (CARP-populated link)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRow:
    """Table 2: Authorizations, one row per authorization version (annex II Table 2)."""

    authorization_id: str
    """Authorization ID, assigned by the Party: letters, digits, space and hyphen."""
    date_of_authorization: date
    """Date of authorization."""
    cooperative_approach_id: str
    """Cooperative approach ID, ``CA`` + four digits, assigned by CARP."""
    authorization_version: int
    """Version of the authorization (1, 2, ...)."""
    authorized_quantity: int | None = None
    """Authorized quantity: optional maximum."""
    metric: Metric
    """Metric."""
    gwp_values: str | None = None
    """Applicable GWP value(s)."""
    non_ghg_metric: str | None = None
    """Applicable non-GHG metric: only when the metric is non-GHG."""
    sectors: tuple[Sector, ...]
    """Sector(s): at least one."""
    activity_types: tuple[ActivityType, ...] = ()
    """Activity type(s): requiredness unclear in the sources; treated as optional."""
    purposes: Purpose
    """Purposes for authorization."""
    authorized_party_ids: tuple[str, ...] = ()
    """Authorized Party(ies) ID: alpha-3 codes; empty means any Party."""
    authorized_entity_ids: tuple[str, ...] = ()
    """Authorized entity(ies) ID."""
    oimp_authorized: str | None = None
    """OIMP authorized by the Party (e.g. CORSIA): only when the purposes cover OIMP."""
    authorized_timeframe: str | None = None
    """Authorized timeframe: free text (the sources give three different formats)."""
    terms_and_conditions: str | None = None
    """Authorization terms and conditions."""
    documentation: str | None = None
    """Authorization documentation (CARP-populated hyperlink)."""
    first_transfer_definition: FirstTransferDefinition | None = None
    """First transfer definition for OIMP: only when the purposes cover OIMP."""
    additional_information: str | None = None
    """Additional explanatory information."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRow:
    """Table 3: Actions, one row per homogeneous ITMO block and action (annex II Table 3).

    ``action_date`` is a :class:`datetime.date` or a timezone-aware :class:`datetime.datetime`
    (UTC, millisecond precision). Fields 20-25 apply only to some action types; see
    :func:`validate_report`.
    """

    action_date: date
    """1. Action date: when the action was executed in the Party ITMO registry."""
    action_type: ActionType
    """2. Action type."""
    action_subtype: ActionSubtype | None = None
    """3. Action subtype: must be valid for the action type."""
    cooperative_approach_id: str
    """4. Cooperative approach ID."""
    authorization_id: str
    """5. Authorization ID: must be reported in Table 2."""
    first_transferring_party_id: str
    """6. First transferring participating Party ID."""
    registry_id: str
    """7. Party ITMO registry ID: Party code + two digits, e.g. ``THA01``."""
    first_id: int
    """8. First ID: first serial of the ITMO block."""
    last_id: int
    """9. Last ID: last serial of the ITMO block."""
    underlying_registry_id: UnderlyingRegistry | None = None
    """10. Underlying unit registry ID; ``None`` ("NA") if there is none."""
    first_unit_id: int | None = None
    """11. First unit ID of the underlying unit block."""
    last_unit_id: int | None = None
    """12. Last unit ID of the underlying unit block."""
    metric: Metric
    """13. Metric."""
    gwp_values: str | None = None
    """14. Applicable GWP value(s)."""
    non_ghg_metric: str | None = None
    """15. Applicable non-GHG metric: only for the non-GHG metric."""
    quantity: int
    """16. Quantity (t CO2 eq)."""
    quantity_non_ghg: int | None = None
    """17. Quantity (in non-GHG metric): only for the non-GHG metric."""
    mitigation_type: MitigationType
    """18. Mitigation type."""
    vintage: int
    """19. Vintage: calendar year in which the mitigation outcome occurred."""
    transferring_party_id: str | None = None
    """20. Transferring participating Party ID: Acquisition rows only."""
    acquiring_party_id: str | None = None
    """21. Acquiring participating Party ID: First transfer and Transfer rows only."""
    oimp_purpose: str | None = None
    """22. Purpose for which the ITMO has been used towards or cancelled for OIMP."""
    using_party_id: str | None = None
    """23. Using/cancelling participating Party ID."""
    using_entity_id: str | None = None
    """24. Using/cancelling authorized entity ID: must be reported in Table 5."""
    ndc_use_year: int | None = None
    """25. Calendar year for which the ITMOs are used towards the Party's NDC: NDC use only."""
    consistency_check_result: str | None = None
    """26. Result of the consistency checks (CARP-populated)."""
    additional_information: str | None = None
    """27. Additional explanatory information."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingRow:
    """Table 4: Holdings, one row per ITMO block held (annex II Table 4).

    The table has no year column; the year is Table 1's reported year.
    """

    cooperative_approach_id: str
    authorization_id: str
    first_transferring_party_id: str
    registry_id: str
    first_id: int
    last_id: int
    underlying_registry_id: UnderlyingRegistry | None = None
    first_unit_id: int | None = None
    last_unit_id: int | None = None
    metric: Metric
    gwp_values: str | None = None
    non_ghg_metric: str | None = None
    quantity: int
    quantity_non_ghg: int | None = None
    mitigation_type: MitigationType
    vintage: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizedEntityRow:
    """Table 5: Authorized entities, one row per entity and cooperative approach (annex II)."""

    date_of_authorization: date
    """Date of the authorization: date on which the authorization was issued."""
    name: str
    country_of_incorporation: str
    """Country of incorporation (alpha-3 per the field specification, a name per the
    checkers; not pattern-checked)."""
    identification_number: str
    """Identification number in the country of incorporation."""
    cooperative_approach_id: str
    conditions: str | None = None
    change_and_revocation_conditions: str | None = None
    additional_information: str | None = None


AefRow: TypeAlias = SubmissionRow | AuthorizationRow | ActionRow | HoldingRow | AuthorizedEntityRow
"""Any AEF row."""

Cell: TypeAlias = str | int | None
"""A rendered cell: text, an integer, or blank."""

_ROW_TYPES: Final[Mapping[AefTable, type[AefRow]]] = {
    AefTable.SUBMISSION: SubmissionRow,
    AefTable.AUTHORIZATIONS: AuthorizationRow,
    AefTable.ACTIONS: ActionRow,
    AefTable.HOLDINGS: HoldingRow,
    AefTable.ENTITIES: AuthorizedEntityRow,
}


@dataclass(frozen=True, slots=True)
class AefReport:
    """One AEF submission: Table 1 plus the rows of Tables 2-5."""

    submission: SubmissionRow
    authorizations: tuple[AuthorizationRow, ...] = ()
    actions: tuple[ActionRow, ...] = ()
    holdings: tuple[HoldingRow, ...] = ()
    entities: tuple[AuthorizedEntityRow, ...] = ()

    def rows(self, table: AefTable) -> tuple[AefRow, ...]:
        """The rows of ``table`` (Table 1 has exactly one)."""
        match table:
            case AefTable.SUBMISSION:
                return (self.submission,)
            case AefTable.AUTHORIZATIONS:
                return self.authorizations
            case AefTable.ACTIONS:
                return self.actions
            case AefTable.HOLDINGS:
                return self.holdings
            case AefTable.ENTITIES:
                return self.entities


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


class AefProblem(NamedTuple):
    """One problem: table, 1-based data row (0 = the table as a whole), column header, message."""

    table: AefTable
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.table}, row {self.row}" if self.row else str(self.table)
        return (
            f"{where}, {self.column!r}: {self.message}"
            if self.column
            else f"{where}: {self.message}"
        )


class AefValidationError(InvalidInput):
    """An AEF report or file breaks the format of 4/CMA.6 annex II or the common nomenclatures.

    ``problems`` lists every problem found, not only the first.
    """

    rule = "aef-format"

    def __init__(self, problems: Sequence[AefProblem]) -> None:
        self.problems: tuple[AefProblem, ...] = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:3])
        more = len(self.problems) - 3
        suffix = f"; and {more} more" if more > 0 else ""
        super().__init__(
            f"AEF report has {len(self.problems)} problem(s): {shown}{suffix}",
            problems=[
                {**problem._asdict(), "table": problem.table.value} for problem in self.problems
            ],
        )


class _CellError(ValueError):
    """A cell value that cannot be read; the message goes into an :class:`AefProblem`."""


# --------------------------------------------------------------------------------------------
# Table definitions from aef-v2.json
# --------------------------------------------------------------------------------------------


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
def _data(name: str) -> Mapping[str, Any]:
    """A JSON file of ``ledger/accounting/data``, parsed once."""
    text = (resources.files("ledger.accounting") / "data" / name).read_text(encoding="utf-8")
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise RuntimeError(f"ledger/accounting/data/{name} is not a JSON object")
    return loaded


@cache
def table_spec(table: AefTable) -> TableSpec:
    """The definition of ``table`` from ``aef-v2.json``, bound to its row dataclass by order."""
    raw_table = next(t for t in _data("aef-v2.json")["tables"] if t["title"] == table.value)
    names = [f.name for f in fields(_ROW_TYPES[table])]
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
    return tuple(_header(column, policy) for column in table_spec(table).columns)


def _header(column: ColumnSpec, policy: SpellingPolicy) -> str:
    if policy.quantity_header_nbsp and column.header == _QUANTITY_HEADER:
        return _NBSP_QUANTITY_HEADER
    return column.header


def normalize_header(text: str) -> str:
    """Header text reduced for matching: non-breaking spaces and runs of whitespace become one
    space, typographic apostrophes become ``'``, and case is folded."""
    text = text.replace("\u00a0", " ").replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).casefold()


@cache
def _columns_by_header(table: AefTable) -> Mapping[str, ColumnSpec]:
    return {normalize_header(column.header): column for column in table_spec(table).columns}


@cache
def _table_by_name() -> Mapping[str, AefTable]:
    names: dict[str, AefTable] = {}
    for table in AefTable:
        names[normalize_header(table.value)] = table
        names[normalize_header(table.sheet_name)] = table
    return names


@cache
def _subtypes_by_type() -> Mapping[ActionType, frozenset[ActionSubtype]]:
    """Action subtypes valid for each action type.

    Nomenclature mapping (the transcriber's reading of Table 26(b)); ``Not yet defined`` is valid
    for every type. Extended so that a First transfer may also carry the Adaptation Fund
    subtypes: 4/CMA.6 paras 16-17 record those transfers as a first transfer unless the units
    were already first transferred.
    """
    mapping = _data("nomenclature.json")["lists"]["action_subtypes_by_action_type"]["mapping"]
    result: dict[ActionType, frozenset[ActionSubtype]] = {}
    for action_type in ActionType:
        listed = mapping.get(action_type.value, [])
        allowed = {ActionSubtype(value) for value in listed} | {ActionSubtype.NOT_YET_DEFINED}
        if action_type is ActionType.FIRST_TRANSFER:
            allowed |= {
                ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
                ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
            }
        result[action_type] = frozenset(allowed)
    return result


# --------------------------------------------------------------------------------------------
# Cell codecs
# --------------------------------------------------------------------------------------------


class _Kind(Enum):
    TEXT = auto()
    INT = auto()
    YEAR = auto()
    SERIAL = auto()
    DATE = auto()
    ACTION_DATE = auto()
    ENUM = auto()
    ENUM_LIST = auto()
    TEXT_LIST = auto()


@dataclass(frozen=True, slots=True)
class _Codec:
    kind: _Kind
    enum: type[StrEnum] | None = None


_TEXT = _Codec(_Kind.TEXT)
_INT = _Codec(_Kind.INT)
_YEAR = _Codec(_Kind.YEAR)

_CODECS: Final[Mapping[str, _Codec]] = {
    "party": _TEXT,
    "version": _TEXT,
    "reported_year": _YEAR,
    "date_of_submission": _Codec(_Kind.DATE),
    "review_status": _TEXT,
    "consistency_check_result": _TEXT,
    "ndc_first_year": _YEAR,
    "ndc_last_year": _YEAR,
    "ter_report_reference": _TEXT,
    "authorization_id": _TEXT,
    "date_of_authorization": _Codec(_Kind.DATE),
    "cooperative_approach_id": _TEXT,
    "authorization_version": _INT,
    "authorized_quantity": _INT,
    "metric": _Codec(_Kind.ENUM, Metric),
    "gwp_values": _TEXT,
    "non_ghg_metric": _TEXT,
    "sectors": _Codec(_Kind.ENUM_LIST, Sector),
    "activity_types": _Codec(_Kind.ENUM_LIST, ActivityType),
    "purposes": _Codec(_Kind.ENUM, Purpose),
    "authorized_party_ids": _Codec(_Kind.TEXT_LIST),
    "authorized_entity_ids": _Codec(_Kind.TEXT_LIST),
    "oimp_authorized": _TEXT,
    "authorized_timeframe": _TEXT,
    "terms_and_conditions": _TEXT,
    "documentation": _TEXT,
    "first_transfer_definition": _Codec(_Kind.ENUM, FirstTransferDefinition),
    "additional_information": _TEXT,
    "action_date": _Codec(_Kind.ACTION_DATE),
    "action_type": _Codec(_Kind.ENUM, ActionType),
    "action_subtype": _Codec(_Kind.ENUM, ActionSubtype),
    "first_transferring_party_id": _TEXT,
    "registry_id": _TEXT,
    "first_id": _Codec(_Kind.SERIAL),
    "last_id": _Codec(_Kind.SERIAL),
    "underlying_registry_id": _Codec(_Kind.ENUM, UnderlyingRegistry),
    "first_unit_id": _INT,
    "last_unit_id": _INT,
    "quantity": _INT,
    "quantity_non_ghg": _INT,
    "mitigation_type": _Codec(_Kind.ENUM, MitigationType),
    "vintage": _YEAR,
    "transferring_party_id": _TEXT,
    "acquiring_party_id": _TEXT,
    "oimp_purpose": _TEXT,
    "using_party_id": _TEXT,
    "using_entity_id": _TEXT,
    "ndc_use_year": _YEAR,
    "name": _TEXT,
    "country_of_incorporation": _TEXT,
    "identification_number": _TEXT,
    "conditions": _TEXT,
    "change_and_revocation_conditions": _TEXT,
}

_LIST_SEPARATOR: Final = ", "
_LIST_SPLIT = re.compile(r"[,;\n]")
_NA_MARKERS: Final = frozenset({"na", "n/a"})
_CARP_CELL_TEXTS: Final = frozenset(
    normalize_header(text)
    for text in (
        "{Information in this field is populated by the CARP}",
        "{Link to be produced by the CARP}",
    )
)
"""What the annex prints in CARP-populated cells; read as blank."""

_INTEGER = re.compile(r"[+-]?\d+")
_GROUPED_INTEGER = re.compile(r"\d{1,3}(?:[,\u00a0 ]\d{3})+")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})"
)
_COMPOSITE_ID = re.compile(
    r"(?P<ca>CA\d{4})-(?P<registry>[A-Z]{3}\d{2})-(?P<party>[A-Z]{3})-"
    r"(?P<serial>\d{1,3}(?:,\d{3})+|\d+)-(?P<vintage>\d{4})"
)

_ENUM_ALIASES: Final[Mapping[type[StrEnum], Mapping[str, str]]] = {
    ActionType: {"aquisition": "Acquisition", "acquistion": "Acquisition"},
    FirstTransferDefinition: {
        "authorisation": "Authorization",
        "use of cancellation": "Use or cancellation",
    },
    ActionSubtype: {
        "authorisation": "Authorization",
        "use of cancellation": "Use or cancellation",
    },
}
"""Misspellings found in the sources (annex, checkers), on top of case-insensitive matching."""

_E = TypeVar("_E", bound=StrEnum)


@cache
def _enum_lookup(enum: type[StrEnum]) -> Mapping[str, StrEnum]:
    lookup: dict[str, StrEnum] = {normalize_header(member.value): member for member in enum}
    for alias, value in _ENUM_ALIASES.get(enum, {}).items():
        lookup[alias] = enum(value)
    return lookup


def _enum_member(enum: type[_E], text: str) -> _E | None:
    member = _enum_lookup(enum).get(normalize_header(text))
    return member if isinstance(member, enum) else None


def _spell(value: StrEnum, table: AefTable, policy: SpellingPolicy) -> str:
    if value is ActionType.ACQUISITION:
        return policy.acquisition.value
    if isinstance(value, FirstTransferDefinition):
        if policy.first_transfer_definition is FirstTransferDefinitionSpelling.NOMENCLATURE:
            return {
                FirstTransferDefinition.AUTHORIZATION: "Authorisation",
                FirstTransferDefinition.ISSUANCE: "Issuance",
                FirstTransferDefinition.USE_OR_CANCELLATION: "Use or Cancellation",
            }[value]
        return value.value
    if value is Metric.NON_GHG:
        if policy.metric is MetricSpelling.ANNEX:
            return "non-GHG" if table is AefTable.ACTIONS else "Non-GHG"
        return policy.metric.value
    return value.value


def _dmy(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _render_action_date(value: date, policy: SpellingPolicy) -> str:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
        if policy.action_date is ActionDateFormat.DATE:
            return _dmy(utc.date())
        return (
            f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
        )
    if policy.action_date is ActionDateFormat.DATE:
        return _dmy(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _render_value(table: AefTable, column: ColumnSpec, row: AefRow, policy: SpellingPolicy) -> Cell:
    if column.requirement is Requirement.CARP_POPULATED:
        return None
    value: object = getattr(row, column.field_name)
    if value is None or value == () or value == "":
        if policy.emit_na and _applicability(row, column).need is _Need.NOT_APPLICABLE:
            return NOT_APPLICABLE
        return None
    codec = _CODECS[column.field_name]
    match codec.kind:
        case _Kind.INT | _Kind.YEAR if isinstance(value, int):
            return value
        case _Kind.SERIAL if isinstance(value, int):
            if policy.itmo_id is ItmoIdFormat.COMPOSITE and isinstance(row, ActionRow | HoldingRow):
                return (
                    f"{row.cooperative_approach_id}-{row.registry_id}-"
                    f"{row.first_transferring_party_id}-{value}-{row.vintage:04d}"
                )
            return value
        case _Kind.DATE if isinstance(value, date):
            return _dmy(value)
        case _Kind.ACTION_DATE if isinstance(value, date):
            return _render_action_date(value, policy)
        case _Kind.ENUM if isinstance(value, StrEnum):
            return _spell(value, table, policy)
        case _Kind.ENUM_LIST | _Kind.TEXT_LIST if isinstance(value, tuple):
            return _LIST_SEPARATOR.join(
                _spell(item, table, policy) if isinstance(item, StrEnum) else str(item)
                for item in value
            )
        case _:
            return str(value)


def _is_blank(raw: object, *, carp: bool = False) -> bool:
    """A blank, whitespace-only, ``NA`` or ``N/A`` cell (or, in a CARP column, the annex's
    CARP notice)."""
    if raw is None:
        return True
    if not isinstance(raw, str):
        return False
    text = normalize_header(raw)
    if text == "" or text in _NA_MARKERS:
        return True
    return carp and text in _CARP_CELL_TEXTS


def _decode_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise _CellError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise _CellError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, str):
        text = raw.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _GROUPED_INTEGER.fullmatch(text):
            return int(re.sub(r"[,\u00a0 ]", "", text))
    raise _CellError(f"expected a whole number, got {raw!r}")


def _decode_date(raw: object) -> date:
    if isinstance(raw, datetime):
        if raw.tzinfo is None and raw.time() == time():
            return raw.date()
        raise _CellError(f"expected a date (dd/mm/yyyy), got the date-time {raw.isoformat()}")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if match := _DMY.fullmatch(text):
                day, month, year = (int(part) for part in match.groups())
                return date(year, month, day)
            if _ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError as error:
            raise _CellError(f"not a valid date: {raw!r} ({error})") from None
    raise _CellError(f"expected a date as dd/mm/yyyy, got {raw!r}")


def _decode_action_date(raw: object) -> date:
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            return raw.date() if raw.time() == time() else raw.replace(tzinfo=UTC)
        return raw.astimezone(UTC)
    if isinstance(raw, str) and _ISO_DATETIME.fullmatch(raw.strip()):
        try:
            return datetime.fromisoformat(raw.strip()).astimezone(UTC)
        except ValueError as error:
            raise _CellError(f"not a valid date-time: {raw!r} ({error})") from None
    try:
        return _decode_date(raw)
    except _CellError:
        raise _CellError(
            f"expected dd/mm/yyyy or an ISO 8601 UTC date-time "
            f"(yyyy-mm-ddThh:mm:ss.sssZ), got {raw!r}"
        ) from None


def _decode_text(raw: object) -> str:
    """Text as given; a number typed into a spreadsheet cell becomes its digits."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    raise _CellError(f"expected text, got {raw!r}")


def _decode_version(raw: object) -> str:
    """Table 1 ``Version``: a spreadsheet stores a typed ``1.0`` as the number 1, so a whole
    number reads as ``N.0``."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return f"{raw}.0"
    if isinstance(raw, float) and raw.is_integer():
        return f"{int(raw)}.0"
    return _decode_text(raw)


def _decode_serial(raw: object, cells: Mapping[str, object]) -> int:
    if isinstance(raw, str) and (match := _COMPOSITE_ID.fullmatch(raw.strip())):
        expected = {
            "ca": ("cooperative_approach_id", "Cooperative approach ID"),
            "registry": ("registry_id", "Party ITMO registry ID"),
            "party": ("first_transferring_party_id", "First transferring participating Party ID"),
            "vintage": ("vintage", "Vintage"),
        }
        for group, (field_name, label) in expected.items():
            given = cells.get(field_name)
            given_text = "" if given is None else _decode_text(given).strip()
            if given_text != match[group]:
                raise _CellError(
                    f"composite ITMO identifier {raw!r} does not match the row's {label} "
                    f"({given_text or 'blank'})"
                )
        return int(match["serial"].replace(",", ""))
    return _decode_int(raw)


def _decode_enum(enum: type[StrEnum], raw: object) -> StrEnum:
    if isinstance(raw, str) and (member := _enum_member(enum, raw)) is not None:
        return member
    raise _CellError(f"{raw!r} is not in the common nomenclature list ({_list_name(enum)})")


def _list_name(enum: type[StrEnum]) -> str:
    return "; ".join(member.value for member in enum)


def _split(raw: object) -> list[str]:
    text = _decode_text(raw)
    return [part.strip() for part in _LIST_SPLIT.split(text) if part.strip()]


def _decode(column: ColumnSpec, raw: object, cells: Mapping[str, object]) -> object:
    """Turn one cell into the row field's Python value; ``None`` for a blank or "NA" cell."""
    if _is_blank(raw, carp=column.requirement is Requirement.CARP_POPULATED):
        return () if _CODECS[column.field_name].kind in _LIST_KINDS else None
    codec = _CODECS[column.field_name]
    match codec.kind:
        case _Kind.TEXT if column.field_name == "version":
            return _decode_version(raw)
        case _Kind.TEXT:
            return _decode_text(raw)
        case _Kind.INT | _Kind.YEAR:
            return _decode_int(raw)
        case _Kind.SERIAL:
            return _decode_serial(raw, cells)
        case _Kind.DATE:
            return _decode_date(raw)
        case _Kind.ACTION_DATE:
            return _decode_action_date(raw)
        case _Kind.ENUM:
            assert codec.enum is not None
            return _decode_enum(codec.enum, raw)
        case _Kind.ENUM_LIST:
            assert codec.enum is not None
            enum = codec.enum
            parts = _split(raw)
            unknown = [part for part in parts if _enum_member(enum, part) is None]
            if unknown:
                listed = ", ".join(repr(part) for part in unknown)
                raise _CellError(
                    f"{listed} not in the common nomenclature list ({_list_name(enum)})"
                )
            return tuple(_decode_enum(enum, part) for part in parts)
        case _Kind.TEXT_LIST:
            return tuple(_split(raw))


_LIST_KINDS: Final = frozenset({_Kind.ENUM_LIST, _Kind.TEXT_LIST})


# --------------------------------------------------------------------------------------------
# Rendering and parsing records (shared by JSON, CSV and the workbook)
# --------------------------------------------------------------------------------------------


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
            _header(column, policy): _render_value(table, column, row, policy)
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
    rows, problems = _parse(table, records)
    if problems:
        raise AefValidationError(_sorted(problems))
    return rows


def _parse(
    table: AefTable, records: Iterable[Mapping[str, object]]
) -> tuple[list[AefRow], list[AefProblem]]:
    spec = table_spec(table)
    by_header = _columns_by_header(table)
    row_type = _ROW_TYPES[table]
    rows: list[AefRow] = []
    problems: list[AefProblem] = []
    unknown_seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        cells: dict[str, object] = {}
        for key, raw in record.items():
            column = by_header.get(normalize_header(key))
            if column is None:
                if normalize_header(key) == "":
                    if not _is_blank(raw):
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
                value = _decode(column, cells.get(column.field_name), cells)
            except _CellError as error:
                problems.append(AefProblem(table, number, column.header, str(error)))
                row_ok = False
                continue
            if column.requirement is Requirement.REQUIRED and value in (None, ()):
                problems.append(AefProblem(table, number, column.header, _MISSING))
                row_ok = False
                continue
            values[column.field_name] = value
        if row_ok:
            rows.append(row_type(**values))
    return rows, problems


def _table_key(name: str) -> AefTable | None:
    return _table_by_name().get(normalize_header(name))


_R = TypeVar("_R", SubmissionRow, AuthorizationRow, ActionRow, HoldingRow, AuthorizedEntityRow)


def _only(rows: Iterable[AefRow], row_type: type[_R]) -> tuple[_R, ...]:
    return tuple(row for row in rows if isinstance(row, row_type))


# --------------------------------------------------------------------------------------------
# JSON and CSV
# --------------------------------------------------------------------------------------------


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
        table = _table_key(key)
        if table is None:
            problems.append(AefProblem(AefTable.SUBMISSION, 0, "", f"unknown table {key!r}"))
            continue
        if not isinstance(value, list) or not all(
            isinstance(item, Mapping) and all(isinstance(name, str) for name in item)
            for item in value
        ):
            problems.append(AefProblem(table, 0, "", "expected a list of rows (header -> value)"))
            continue
        rows, table_problems = _parse(table, value)
        parsed[table].extend(rows)
        problems.extend(table_problems)
    return assemble_report(parsed, problems)


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
        raise AefValidationError(_sorted(found))
    return AefReport(
        submission=submissions[0],
        authorizations=_only(rows.get(AefTable.AUTHORIZATIONS, ()), AuthorizationRow),
        actions=_only(rows.get(AefTable.ACTIONS, ()), ActionRow),
        holdings=_only(rows.get(AefTable.HOLDINGS, ()), HoldingRow),
        entities=_only(rows.get(AefTable.ENTITIES, ()), AuthorizedEntityRow),
    )


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
    spacers. Raises :class:`AefValidationError`; row numbers count the data lines from 1.
    """
    lines = [line for line in csv.reader(io.StringIO(text.removeprefix("\ufeff"))) if line]
    if not lines:
        raise AefValidationError([AefProblem(table, 0, "", "no header line")])
    header_line, *data = lines
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
    rows, parse_problems = _parse(table, records)
    problems.extend(parse_problems)
    if problems:
        raise AefValidationError(_sorted(problems))
    return rows


# --------------------------------------------------------------------------------------------
# Applicability of conditional columns
# --------------------------------------------------------------------------------------------


class _Need(Enum):
    REQUIRED = auto()
    ALLOWED = auto()
    NOT_APPLICABLE = auto()
    CARP = auto()


@dataclass(frozen=True, slots=True)
class _Applicability:
    need: _Need
    reason: str = ""


_MISSING: Final = "required value is missing"
_ALLOWED = _Applicability(_Need.ALLOWED)
_REQUIRED = _Applicability(_Need.REQUIRED)
_USE_OR_CANCEL: Final = frozenset(
    {
        ActionType.USE,
        ActionType.CANCELLATION,
        ActionType.VOLUNTARY_CANCELLATION,
        ActionType.FIRST_TRANSFER,
    }
)
_ADAPTATION_FUND: Final = frozenset(
    {
        ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
        ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
    }
)
_OIMP_FIRST_TRANSFER: Final = frozenset(
    {ActionSubtype.AUTHORIZATION, ActionSubtype.ISSUANCE, ActionSubtype.USE_OR_CANCELLATION}
)
"""First-transfer subtypes that are the OIMP definitions of 2/CMA.3 annex para 2(b)."""


def _applicability(row: AefRow, column: ColumnSpec) -> _Applicability:
    """Whether ``column`` is required, allowed or not applicable for ``row``.

    The rules paraphrase the annex footnotes and the field specification's applicability rules
    (``aef-v2.json`` ``requirement.condition``).
    """
    if column.requirement is Requirement.CARP_POPULATED:
        return _Applicability(_Need.CARP, "populated by the CARP; leave it empty")
    rule: _Applicability | None = None
    if isinstance(row, AuthorizationRow):
        rule = _authorization_rule(row, column.field_name)
    elif isinstance(row, ActionRow | HoldingRow):
        rule = _block_rule(row, column.field_name)
        if rule is None and isinstance(row, ActionRow):
            rule = _action_rule(row, column.field_name)
    if rule is not None:
        return rule
    return _REQUIRED if column.requirement is Requirement.REQUIRED else _ALLOWED


def _non_ghg_rule(metric: Metric) -> _Applicability:
    if metric is Metric.NON_GHG:
        return _Applicability(_Need.REQUIRED, "the metric is non-GHG")
    return _Applicability(_Need.NOT_APPLICABLE, "applies only when the metric is non-GHG")


def _authorization_rule(row: AuthorizationRow, name: str) -> _Applicability | None:
    if name == "non_ghg_metric":
        return _non_ghg_rule(row.metric)
    if name in ("oimp_authorized", "first_transfer_definition"):
        if row.purposes.covers_oimp:
            return _Applicability(_Need.REQUIRED, "the purposes include OIMP, IMP or OP")
        return _Applicability(
            _Need.NOT_APPLICABLE, "applies only when the purposes include OIMP, IMP or OP"
        )
    return None


def _block_rule(row: ActionRow | HoldingRow, name: str) -> _Applicability | None:
    if name in ("non_ghg_metric", "quantity_non_ghg"):
        return _non_ghg_rule(row.metric)
    if row.underlying_registry_id is None:
        if name == "underlying_registry_id":
            # Footnote: "NA" if the cooperative approach has no underlying unit registry.
            return _Applicability(_Need.NOT_APPLICABLE, "no underlying unit registry")
        if name in ("first_unit_id", "last_unit_id"):
            return _Applicability(
                _Need.NOT_APPLICABLE, "applies only when an underlying unit registry ID is given"
            )
    return None


def _action_rule(row: ActionRow, name: str) -> _Applicability | None:
    kind = row.action_type
    match name:
        case "transferring_party_id":
            if kind is ActionType.ACQUISITION:
                return _Applicability(_Need.REQUIRED, "on Acquisition rows")
            return _Applicability(_Need.NOT_APPLICABLE, "applies only to Acquisition rows")
        case "acquiring_party_id":
            if kind is ActionType.TRANSFER and row.action_subtype not in _ADAPTATION_FUND:
                return _Applicability(_Need.REQUIRED, "on Transfer rows")
            if (
                kind is ActionType.FIRST_TRANSFER
                and row.action_subtype is ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY
            ):
                return _Applicability(_Need.REQUIRED, "on a First transfer to another Party")
            if kind in (ActionType.TRANSFER, ActionType.FIRST_TRANSFER):
                return _ALLOWED
            return _Applicability(
                _Need.NOT_APPLICABLE, "applies only to First transfer and Transfer rows"
            )
        case "oimp_purpose":
            if kind is ActionType.USE and row.ndc_use_year is not None:
                return _Applicability(
                    _Need.NOT_APPLICABLE,
                    "a Use row with a calendar year is a use towards the Party's NDC",
                )
            if kind is ActionType.FIRST_TRANSFER and row.action_subtype in _OIMP_FIRST_TRANSFER:
                return _Applicability(
                    _Need.REQUIRED,
                    "on an OIMP first transfer (subtype Authorization, Issuance or "
                    "Use or cancellation)",
                )
            if kind in _USE_OR_CANCEL:
                return _ALLOWED
            return _Applicability(
                _Need.NOT_APPLICABLE,
                "applies only to Use, Cancellation and OIMP First transfer rows",
            )
        case "using_party_id" | "using_entity_id":
            if kind in _USE_OR_CANCEL:
                return _ALLOWED
            return _Applicability(
                _Need.NOT_APPLICABLE, "applies only to Use, Cancellation and First transfer rows"
            )
        case "ndc_use_year":
            if kind is ActionType.USE and row.oimp_purpose is None:
                return _Applicability(
                    _Need.REQUIRED,
                    "on a Use towards the Party's NDC; for a use towards OIMP give the "
                    "OIMP purpose instead",
                )
            if kind is ActionType.USE:
                return _Applicability(
                    _Need.NOT_APPLICABLE,
                    "a Use row with an OIMP purpose is not a use towards the Party's NDC",
                )
            return _Applicability(
                _Need.NOT_APPLICABLE, "applies only to Use rows towards the Party's NDC"
            )
    return None


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_PATTERNS: Final[Mapping[str, tuple[re.Pattern[str], str]]] = {
    "party": (re.compile(r"[A-Z]{3}"), "an ISO 3166-1 alpha-3 code such as THA"),
    "first_transferring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "transferring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "acquiring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "using_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "authorized_party_ids": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "version": (re.compile(r"[1-9]\d*\.\d+"), "X.Y, the first version being 1.0"),
    "cooperative_approach_id": (re.compile(r"CA\d{4}"), "CA followed by four digits"),
    "authorization_id": (
        re.compile(r"[A-Za-z0-9 -]+"),
        "letters, digits, spaces and hyphens only",
    ),
    "registry_id": (
        re.compile(r"[A-Z]{3}\d{2}"),
        "the Party code and two digits, such as THA01",
    ),
}
"""Identifier formats of the common nomenclatures (Tables 2, 7, 9(a) and 28)."""

_MINIMUM: Final[Mapping[str, int]] = {
    "authorization_version": 1,
    "authorized_quantity": 1,
    "quantity": 1,
    "quantity_non_ghg": 1,
    "first_id": 0,
    "last_id": 0,
    "first_unit_id": 0,
    "last_unit_id": 0,
}


class _Block(Protocol):
    """The ITMO-block columns that Tables 3 and 4 share."""

    @property
    def cooperative_approach_id(self) -> str: ...
    @property
    def authorization_id(self) -> str: ...
    @property
    def first_transferring_party_id(self) -> str: ...
    @property
    def registry_id(self) -> str: ...
    @property
    def first_id(self) -> int: ...
    @property
    def last_id(self) -> int: ...
    @property
    def underlying_registry_id(self) -> UnderlyingRegistry | None: ...
    @property
    def first_unit_id(self) -> int | None: ...
    @property
    def last_unit_id(self) -> int | None: ...
    @property
    def metric(self) -> Metric: ...
    @property
    def quantity(self) -> int: ...
    @property
    def vintage(self) -> int: ...


def validate_report(report: AefReport) -> None:
    """Check ``report`` against the AEF (4/CMA.6 annex II) and the common nomenclatures.

    Raises :class:`AefValidationError` whose ``problems`` list every problem as
    ``(table, row, column header, message)``, rows counted from 1 within each table. Checked:

    - required values present (blank or whitespace-only text counts as missing);
      CARP-populated columns empty;
    - conditional columns: present where required, blank where they do not apply (Table 2
      non-GHG metric, OIMP purpose and first-transfer definition; Tables 3 and 4 non-GHG metric
      and quantity, underlying unit IDs; Table 3 fields 20-25 by action type);
    - values in the nomenclature lists (metric, sectors, activity types, purposes, action type,
      subtype valid for the type, first-transfer definition, mitigation type, underlying
      registry) and identifier formats (Party codes, ``CANNNN``, Authorization ID, registry ID,
      version ``X.Y``);
    - blocks: First ID <= Last ID, ``quantity == Last - First + 1`` for GHG rows, underlying
      unit IDs given as a pair in order; holdings blocks do not overlap within (cooperative
      approach, registry, first transferring Party, vintage);
    - across tables: Authorization IDs of Tables 3 and 4 are in Table 2 under the same
      cooperative approach; an OIMP first-transfer subtype matches the authorization's
      first-transfer definition; using entities are in Table 5; action dates fall in the
      reported year; NDC-use years fall in the NDC implementation period; a First transfer is
      reported by the first transferring Party.
    """
    problems = check_report(report)
    if problems:
        raise AefValidationError(problems)


def check_report(report: AefReport) -> list[AefProblem]:
    """Every problem :func:`validate_report` would raise, sorted by table, row and column."""
    problems: list[AefProblem] = []
    for table in AefTable:
        spec = table_spec(table)
        for number, row in enumerate(report.rows(table), start=1):
            for column in spec.columns:
                problems.extend(_check_cell(table, number, row, column))
    _check_submission(report.submission, problems)
    _check_authorizations(report.authorizations, problems)
    _check_actions(report, problems)
    _check_holdings(report, problems)
    _check_entities(report.entities, problems)
    return _sorted(problems)


@cache
def _column_order(table: AefTable) -> Mapping[str, int]:
    return {column.header: column.order for column in table_spec(table).columns}


def _sorted(problems: Iterable[AefProblem]) -> list[AefProblem]:
    """Problems without duplicates, by table, row, column order and message."""

    def key(problem: AefProblem) -> tuple[int, int, int, str]:
        order = _column_order(problem.table).get(problem.column, 0)
        return (problem.table.number, problem.row, order, problem.message)

    return sorted(set(problems), key=key)


def _check_cell(table: AefTable, number: int, row: AefRow, column: ColumnSpec) -> list[AefProblem]:
    value: object = getattr(row, column.field_name)
    rule = _applicability(row, column)

    def problem(message: str) -> list[AefProblem]:
        return [AefProblem(table, number, column.header, message)]

    blank = value is None or value == () or (isinstance(value, str) and value.strip() == "")
    if blank:
        if rule.need is _Need.REQUIRED:
            return problem(f"{_MISSING} ({rule.reason})" if rule.reason else _MISSING)
        if isinstance(value, str):
            return problem("blank text; leave the field as None")
        return []
    if rule.need is _Need.CARP:
        return problem(rule.reason)
    if rule.need is _Need.NOT_APPLICABLE:
        return problem(f"not applicable: {rule.reason}; leave it blank")
    return [
        AefProblem(table, number, column.header, message)
        for message in _value_problems(column.field_name, value)
    ]


def _value_problems(name: str, value: object) -> list[str]:
    codec = _CODECS[name]
    messages: list[str] = []
    match codec.kind:
        case _Kind.TEXT:
            if not isinstance(value, str):
                return [f"expected text, got {value!r}"]
            if normalize_header(value) in _NA_MARKERS:
                return [
                    f"{value!r} marks a column that does not apply; give the value or leave "
                    "the field as None"
                ]
            if name in _PATTERNS:
                pattern, description = _PATTERNS[name]
                if not pattern.fullmatch(value):
                    messages.append(f"{value!r} is not {description}")
        case _Kind.INT | _Kind.SERIAL | _Kind.YEAR:
            if not isinstance(value, int) or isinstance(value, bool):
                return [f"expected a whole number, got {value!r}"]
            if codec.kind is _Kind.YEAR and not 1000 <= value <= 9999:
                messages.append(f"{value} is not a four-digit year")
            minimum = _MINIMUM.get(name)
            if minimum is not None and value < minimum:
                messages.append(f"must be at least {minimum}, got {value}")
        case _Kind.DATE:
            if not isinstance(value, date) or isinstance(value, datetime):
                return [f"expected a date, got {value!r}"]
        case _Kind.ACTION_DATE:
            if not isinstance(value, date):
                return [f"expected a date or a UTC date-time, got {value!r}"]
            if isinstance(value, datetime):
                if value.utcoffset() is None:
                    messages.append("a date-time must be timezone-aware (UTC)")
                if value.microsecond % 1000:
                    messages.append("the AEF date-time carries milliseconds, not microseconds")
        case _Kind.ENUM:
            assert codec.enum is not None
            if not isinstance(value, codec.enum):
                messages.append(
                    f"{value!r} is not in the common nomenclature list ({_list_name(codec.enum)})"
                )
        case _Kind.ENUM_LIST | _Kind.TEXT_LIST:
            if not isinstance(value, tuple):
                return [f"expected a tuple, got {value!r}"]
            for item in value:
                messages.extend(_list_item_problems(name, codec, item))
    return messages


def _list_item_problems(name: str, codec: _Codec, item: object) -> list[str]:
    if codec.enum is not None:
        if isinstance(item, codec.enum):
            return []
        return [f"{item!r} is not in the common nomenclature list ({_list_name(codec.enum)})"]
    if not isinstance(item, str) or item != item.strip() or item == "":
        return [f"list item {item!r} must be non-empty text without surrounding spaces"]
    if _LIST_SPLIT.search(item):
        return [f"list item {item!r} must not contain ',', ';' or a line break"]
    if normalize_header(item) in _NA_MARKERS:
        return [f"list item {item!r} marks a column that does not apply"]
    if name in _PATTERNS:
        pattern, description = _PATTERNS[name]
        if not pattern.fullmatch(item):
            return [f"{item!r} is not {description}"]
    return []


def _well_formed(name: str, value: str) -> bool:
    """``value`` is non-blank and has the identifier format of field ``name``.

    Cross-table rules run only on well-formed values, so that one bad cell gives one problem.
    """
    pattern = _PATTERNS.get(name)
    return bool(value.strip()) and (pattern is None or pattern[0].fullmatch(value) is not None)


def _check_submission(row: SubmissionRow, problems: list[AefProblem]) -> None:
    if row.ndc_first_year > row.ndc_last_year:
        problems.append(
            AefProblem(
                AefTable.SUBMISSION,
                1,
                table_spec(AefTable.SUBMISSION).column("ndc_last_year").header,
                f"{row.ndc_last_year} is before the first year {row.ndc_first_year}",
            )
        )


def _check_authorizations(rows: Sequence[AuthorizationRow], problems: list[AefProblem]) -> None:
    spec = table_spec(AefTable.AUTHORIZATIONS)
    seen: dict[tuple[str, int], int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.authorization_id, row.authorization_version)
        if key in seen:
            problems.append(
                AefProblem(
                    AefTable.AUTHORIZATIONS,
                    number,
                    spec.column("authorization_version").header,
                    f"authorization {row.authorization_id!r} version "
                    f"{row.authorization_version} is already in row {seen[key]}",
                )
            )
        else:
            seen[key] = number


def _check_block(table: AefTable, number: int, row: _Block, problems: list[AefProblem]) -> None:
    spec = table_spec(table)

    def add(field_name: str, message: str) -> None:
        problems.append(AefProblem(table, number, spec.column(field_name).header, message))

    if row.first_id > row.last_id:
        add("last_id", f"Last ID {row.last_id} is before First ID {row.first_id}")
    elif row.metric is Metric.GHG and row.quantity != row.last_id - row.first_id + 1:
        add(
            "quantity",
            f"quantity {row.quantity} does not match the block {row.first_id}-{row.last_id} "
            f"({row.last_id - row.first_id + 1} units)",
        )
    if row.underlying_registry_id is not None:
        if row.first_unit_id is None and row.last_unit_id is not None:
            add("first_unit_id", "give both First unit ID and Last unit ID, or neither")
        elif row.last_unit_id is None and row.first_unit_id is not None:
            add("last_unit_id", "give both First unit ID and Last unit ID, or neither")
        elif (
            row.first_unit_id is not None
            and row.last_unit_id is not None
            and row.first_unit_id > row.last_unit_id
        ):
            add(
                "last_unit_id",
                f"Last unit ID {row.last_unit_id} is before First unit ID {row.first_unit_id}",
            )


def _check_authorization_reference(
    table: AefTable,
    number: int,
    row: _Block,
    authorizations: Mapping[str, Sequence[AuthorizationRow]],
    problems: list[AefProblem],
) -> Sequence[AuthorizationRow]:
    spec = table_spec(table)
    found = authorizations.get(row.authorization_id, ())
    if not _well_formed("authorization_id", row.authorization_id):
        return found
    if not found:
        problems.append(
            AefProblem(
                table,
                number,
                spec.column("authorization_id").header,
                f"Authorization ID {row.authorization_id!r} is not reported in "
                f"{AefTable.AUTHORIZATIONS}",
            )
        )
        return found
    approaches = sorted({a.cooperative_approach_id for a in found if a.cooperative_approach_id})
    if (
        approaches
        and _well_formed("cooperative_approach_id", row.cooperative_approach_id)
        and row.cooperative_approach_id not in approaches
    ):
        problems.append(
            AefProblem(
                table,
                number,
                spec.column("cooperative_approach_id").header,
                f"authorization {row.authorization_id!r} is under cooperative approach "
                f"{', '.join(approaches)} in {AefTable.AUTHORIZATIONS}, "
                f"not {row.cooperative_approach_id}",
            )
        )
    return found


def _authorizations_by_id(report: AefReport) -> dict[str, list[AuthorizationRow]]:
    by_id: dict[str, list[AuthorizationRow]] = {}
    for authorization in report.authorizations:
        by_id.setdefault(authorization.authorization_id, []).append(authorization)
    return by_id


def _year_of(value: date) -> int:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).year
    return value.year


def _check_actions(report: AefReport, problems: list[AefProblem]) -> None:
    table = AefTable.ACTIONS
    spec = table_spec(table)
    submission = report.submission
    authorizations = _authorizations_by_id(report)
    entity_ids = {entity.identification_number for entity in report.entities}
    for number, row in enumerate(report.actions, start=1):

        def add(field_name: str, message: str, number: int = number) -> None:
            problems.append(AefProblem(table, number, spec.column(field_name).header, message))

        _check_block(table, number, row, problems)
        found = _check_authorization_reference(table, number, row, authorizations, problems)
        subtype = row.action_subtype
        if subtype is not None and subtype not in _subtypes_by_type()[row.action_type]:
            valid = "; ".join(sorted(s.value for s in _subtypes_by_type()[row.action_type]))
            add(
                "action_subtype",
                f"{subtype.value!r} is not a subtype of {row.action_type.value!r} (valid: {valid})",
            )
        if isinstance(row.action_date, date) and _year_of(row.action_date) != (
            submission.reported_year
        ):
            add(
                "action_date",
                f"the action date is outside the reported year {submission.reported_year}",
            )
        if (
            row.action_type is ActionType.FIRST_TRANSFER
            and _well_formed("party", submission.party)
            and _well_formed("first_transferring_party_id", row.first_transferring_party_id)
            and row.first_transferring_party_id != submission.party
        ):
            add(
                "first_transferring_party_id",
                f"a First transfer is reported by the first transferring Party; this report is "
                f"{submission.party}'s",
            )
        if row.ndc_use_year is not None and not (
            submission.ndc_first_year <= row.ndc_use_year <= submission.ndc_last_year
        ):
            add(
                "ndc_use_year",
                f"{row.ndc_use_year} is outside the NDC implementation period "
                f"{submission.ndc_first_year}-{submission.ndc_last_year}",
            )
        if found and row.action_type is ActionType.FIRST_TRANSFER:
            if row.oimp_purpose is not None and not any(a.purposes.covers_oimp for a in found):
                add(
                    "oimp_purpose",
                    f"authorization {row.authorization_id!r} does not cover OIMP, IMP or OP",
                )
            definitions = {
                a.first_transfer_definition.value
                for a in found
                if a.first_transfer_definition is not None
            }
            if (
                subtype is not None
                and subtype in _OIMP_FIRST_TRANSFER
                and definitions
                and subtype.value not in definitions
            ):
                add(
                    "action_subtype",
                    f"authorization {row.authorization_id!r} defines the OIMP first transfer as "
                    f"{', '.join(sorted(definitions))}",
                )
        if row.using_entity_id is not None and row.using_entity_id not in entity_ids:
            add(
                "using_entity_id",
                f"entity {row.using_entity_id!r} is not reported in {AefTable.ENTITIES} "
                "(Identification number)",
            )


def _check_holdings(report: AefReport, problems: list[AefProblem]) -> None:
    table = AefTable.HOLDINGS
    spec = table_spec(table)
    authorizations = _authorizations_by_id(report)
    blocks: dict[tuple[str, str, str, int], list[tuple[int, int, int]]] = {}
    for number, row in enumerate(report.holdings, start=1):
        _check_block(table, number, row, problems)
        _check_authorization_reference(table, number, row, authorizations, problems)
        if row.first_id <= row.last_id:
            key = (
                row.cooperative_approach_id,
                row.registry_id,
                row.first_transferring_party_id,
                row.vintage,
            )
            blocks.setdefault(key, []).append((row.first_id, row.last_id, number))
    for ranges in blocks.values():
        ranges.sort()
        reach_last, reach_row = -1, 0
        for first, last, number in ranges:
            if first <= reach_last:
                problems.append(
                    AefProblem(
                        table,
                        number,
                        spec.column("first_id").header,
                        f"block {first}-{last} overlaps the block in row {reach_row}",
                    )
                )
            if last > reach_last:
                reach_last, reach_row = last, number


def _check_entities(rows: Sequence[AuthorizedEntityRow], problems: list[AefProblem]) -> None:
    spec = table_spec(AefTable.ENTITIES)
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.identification_number, row.cooperative_approach_id)
        if key in seen:
            problems.append(
                AefProblem(
                    AefTable.ENTITIES,
                    number,
                    spec.column("identification_number").header,
                    f"entity {row.identification_number!r} under {row.cooperative_approach_id} "
                    f"is already in row {seen[key]}",
                )
            )
        else:
            seen[key] = number
