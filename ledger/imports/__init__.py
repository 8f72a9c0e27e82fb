"""Historical import: loading an existing registry's history, dated action by dated action.

A file (JSON Lines of API request bodies, or a Party's AEF Table 3) becomes an
:class:`~ledger.imports.plan.ImportPlan`: its rows as calls of the registry's use cases, in the
order they happened (reference data first, then by action date, then in file order). The plan
runs in batches, each one unit of work recorded with an ``import.batch`` entry, so an interrupted
import resumes where it stopped and never applies a row twice; or as a dry run that reports
every row that would be refused and appends nothing (:func:`~ledger.imports.run.run_import`).

- :mod:`~ledger.imports.plan`: rows, refusals, the plan and its order;
- :mod:`~ledger.imports.progress`: the ``import.batch`` entries and how far an import got;
- :mod:`~ledger.imports.run`: the batches and the dry run;
- :mod:`~ledger.imports.aef_table3`: AEF Table 3 rows mapped to the actions they record;
- :mod:`~ledger.imports.errors`: why an import stops.

Reading the files is ``ledger.adapters.import_files``; reading the lines of a JSON Lines file
as the API's request bodies is the app's (``app.import_lines``), which owns those shapes.
"""

from ledger.imports.aef_table3 import table3_rows
from ledger.imports.errors import ImportFileUnreadable, ImportRowRefused, refusal_details
from ledger.imports.plan import ImportPlan, ImportRow, Refusal, RowAction, plan_import, row_digest
from ledger.imports.progress import IMPORT_BATCH, BatchRecord, batch_records, committed_rows
from ledger.imports.run import (
    BATCH_SIZE,
    CommittedBatch,
    ImportReport,
    Progress,
    ProgressEvent,
    run_import,
)

__all__ = [
    "BATCH_SIZE",
    "IMPORT_BATCH",
    "BatchRecord",
    "CommittedBatch",
    "ImportFileUnreadable",
    "ImportPlan",
    "ImportReport",
    "ImportRow",
    "ImportRowRefused",
    "Progress",
    "ProgressEvent",
    "Refusal",
    "RowAction",
    "batch_records",
    "committed_rows",
    "plan_import",
    "refusal_details",
    "row_digest",
    "run_import",
    "table3_rows",
]
