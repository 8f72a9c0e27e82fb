"""Agreed electronic format (AEF) for Article 6.2 annual information, decision 4/CMA.6 annex II.

The AEF has five tables: Table 1 Submission, Table 2 Authorizations, Table 3 Actions, Table 4
Holdings and Table 5 Authorized entities. Their headers, column order and requirement status are
read from ``data/aef-v2.json``. The value lists come from the "List of common nomenclatures under
Article 6, paragraph 2" (``data/nomenclature.json``). Both files say where each item comes from
and how far to trust it; ``data/README.md`` sums that up.

The package is pure and uses only the standard library. Import it as a whole
(``from ledger.accounting import aef``); its modules are:

- :mod:`~ledger.accounting.aef.nomenclature`: the tables, the closed value sets and identifier
  formats, and the package data;
- :mod:`~ledger.accounting.aef.policy`: :class:`SpellingPolicy`, what is written where the
  sources disagree;
- :mod:`~ledger.accounting.aef.rows`: typed row values (:class:`SubmissionRow`,
  :class:`AuthorizationRow`, :class:`ActionRow`, :class:`HoldingRow`,
  :class:`AuthorizedEntityRow`) and :class:`AefReport`;
- :mod:`~ledger.accounting.aef.columns`: column specifications bound to the row fields;
- :mod:`~ledger.accounting.aef.cells` and :mod:`~ledger.accounting.aef.records`: cell codecs,
  and rows as header -> cell records (:func:`render_records`, :func:`parse_records`), on which
  every file format is built;
- :mod:`~ledger.accounting.aef.formats`: JSON (:func:`to_json`, :func:`from_json`) and CSV
  (:func:`to_csv`, :func:`from_csv`). The bytes of a file (JSON, a ZIP of CSVs, the Excel
  workbook) are the adapters' business: ``ledger.adapters.aef_files`` and
  ``ledger.adapters.aef_xlsx``;
- :mod:`~ledger.accounting.aef.validation` (with :mod:`~ledger.accounting.aef.applicability` and
  :mod:`~ledger.accounting.aef.table_checks`): :func:`validate_report` and :func:`check_report`,
  which list every problem as ``(table, row, column header, message)``
  (:mod:`~ledger.accounting.aef.problems`).

Round trip: for every report that :func:`validate_report` accepts, exporting it and importing the
result gives equal row objects. Under the default ``dd/mm/yyyy`` action-date format a
date-time is written as its UTC date, so keep ``action_date`` a :class:`datetime.date` there, or
use :attr:`ActionDateFormat.ISO_8601_UTC`.

Where the sources spell a value differently, import accepts every variant (case-insensitively)
and :class:`SpellingPolicy` chooses what is written. "NA" is written only in a column that does
not apply to the row, and only if the policy asks for it; a missing required value is never
written as "NA".
"""

from ledger.accounting.aef.columns import (
    ColumnSpec,
    TableSpec,
    headers,
    normalize_header,
    table_spec,
)
from ledger.accounting.aef.formats import from_csv, from_json, to_csv, to_json
from ledger.accounting.aef.nomenclature import (
    ActionSubtype,
    ActionType,
    ActivityType,
    AefTable,
    Requirement,
    Sector,
    UnderlyingRegistry,
)
from ledger.accounting.aef.policy import (
    DEFAULT_POLICY,
    NOT_APPLICABLE,
    AcquisitionSpelling,
    ActionDateFormat,
    FirstTransferDefinitionSpelling,
    ItmoIdFormat,
    MetricSpelling,
    SpellingPolicy,
)
from ledger.accounting.aef.problems import AefProblem, AefValidationError
from ledger.accounting.aef.records import assemble_report, parse_records, render_records
from ledger.accounting.aef.results import ConsistencyResults, with_results, without_results
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
from ledger.accounting.aef.validation import check_report, validate_report
from ledger.registry.model import FirstTransferDefinition, Metric, MitigationType, Purpose

__all__ = [
    "ConsistencyResults",
    "with_results",
    "without_results",
    "DEFAULT_POLICY",
    "NOT_APPLICABLE",
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
