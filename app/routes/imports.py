"""Historical import over HTTP: ``POST /v1/imports`` (admin only), the route of ``a6ledger
import``.

The import runs in the request, batch after batch, each batch one transaction with its
``import.batch`` ledger entry (``ledger.imports``). It needs no ``Idempotency-Key``: it is
idempotent by content, since a file, or its first rows, already imported is never imported
twice: posting it again continues an interrupted import, or imports nothing more.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.admission import StorageDep
from app.auth import AdminDep
from app.deps import SettingsDep
from app.idempotency import TREE_SIZE_HEADER, WRITE_RESPONSE_HEADERS
from app.imports import plan_file
from app.problems import problem_responses
from app.schemas.imports import ImportCreate, ImportReportPublic
from ledger.imports import run_import

router = APIRouter(prefix="/v1", tags=["imports"])

REPORT_HEADERS = {TREE_SIZE_HEADER: WRITE_RESPONSE_HEADERS[TREE_SIZE_HEADER]}


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportReportPublic,
    responses={
        **problem_responses(401, 403, 409, 413, 422),
        200: {
            "model": ImportReportPublic,
            "description": "A dry run, or a file whose rows were all imported before: nothing "
            "was appended",
            "headers": REPORT_HEADERS,
        },
        201: {"description": "Batches of rows were imported", "headers": REPORT_HEADERS},
    },
)
def create_import(
    body: ImportCreate, principal: AdminDep, storage: StorageDep, settings: SettingsDep
) -> JSONResponse:
    """Load an existing registry's history: a JSON Lines file of dated actions in the request
    shapes of this API (one ``{"action", "body"}`` object per line), or a Party's AEF whose
    Table 3 rows are mapped to the actions they record (see the README, "Loading history").

    Rows run in action-date order (reference data first; equal dates in file order) through the
    same use cases as the API, every rule applied, in batches of A6LEDGER_IMPORT_BATCH_SIZE
    rows: each batch is atomic and recorded by an ``import.batch`` entry naming the file's
    SHA-256 and its rows, so posting the same file again continues after the last committed
    batch and imports nothing twice. A refused row stops the import (409
    ``import-row-refused``, naming the row and its rule; earlier batches stay). Lines that
    cannot be read refuse the whole file (422 ``import-file-unreadable``). With ``dry_run``,
    every row that would be refused is reported, with its row and rule, and nothing is
    appended."""
    plan = plan_file(
        body.file_bytes(),
        body.format,
        party=body.party,
        end_of_period_btr_after=settings.end_of_period_btr_after,
    )
    report = run_import(
        storage,
        plan,
        principal.actor,
        batch_size=settings.import_batch_size,
        dry_run=body.dry_run,
    )
    return JSONResponse(
        ImportReportPublic.of(report).model_dump(mode="json"),
        status_code=201 if report.batches else 200,
        headers={TREE_SIZE_HEADER: str(report.tree_size)},
    )
