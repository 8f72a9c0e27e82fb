"""The reporting cycle (2/CMA.3 annex paras 18-20; 4/CMA.6 paras 26-40): initial reports and
their updates, the pre-check and status of a year's AEF, the secretariat's result of its
consistency check of a submitted AEF imported per action, and the open inconsistency flags of a
Party. Submitting is ``POST /v1/parties/{code}/aef/{year}/submissions`` (``reports``)."""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.auth import AdminOrRegistryDep, ReaderDep
from app.deps import ReadUowDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.routes.reports import READ_PROBLEMS, PartyCode, ReportedYear
from app.routes.reports import _ensure_party_writer as ensure_party_writer
from app.schemas.cycle import (
    CycleStatusPublic,
    InitialReportCreate,
    InitialReportSummary,
    OpenFlagPublic,
    PreCheckCreate,
    PreCheckPublic,
    ReviewResultCreate,
    ReviewResultPublic,
)
from ledger.accounting import aef, cycle
from ledger.adapters.initial_report_xlsx import write_initial_report
from ledger.ports import UnitOfWork

router = APIRouter(prefix="/v1", tags=["cycle"])


@router.post(
    "/parties/{code}/aef/{reported_year}/review-results",
    status_code=201,
    response_model=ReviewResultPublic,
    responses=write_responses(201, 404, 409),
)
async def create_review_result(
    code: PartyCode,
    reported_year: ReportedYear,
    body: ReviewResultCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Import the secretariat's result of its consistency check of a submitted AEF version, per
    submission and per Table 3 row, in the notations of 4/CMA.6 para 29. A row "Checked,
    inconsistencies identified" flags its ITMOs held in the Party's registries (NDC use refused,
    para 40), with the secretariat's reason; a row "Checked, no inconsistencies identified"
    resolves their open flags (the corrected submission verified, para 32). Recorded as one
    ``consistency.reviewed`` entry."""
    result = body.domain(code, reported_year)

    def operation(uow: UnitOfWork) -> ReviewResultPublic:
        ensure_party_writer(uow, principal, code)
        return ReviewResultPublic.of(cycle.record_review(uow, result, principal.actor))

    return await write.run_async(operation)


@router.get("/parties/{code}/inconsistency-flags", responses=READ_PROBLEMS)
def list_inconsistency_flags(
    code: PartyCode, uow: ReadUowDep, _: ReaderDep
) -> list[OpenFlagPublic]:
    """The Party's ITMOs flagged inconsistent and not resolved (their use towards the NDC is
    refused), each with the entry that raised the flag and its reasons."""
    return [OpenFlagPublic.of_flag(flag) for flag in cycle.open_flags(uow, code)]


CaIdPath = Annotated[str, Path(pattern=r"^CA\d{4}$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DocumentFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"


@router.post(
    "/parties/{code}/initial-reports",
    status_code=201,
    response_model=InitialReportSummary,
    responses=write_responses(201, 404, 409),
)
async def create_initial_report(
    code: PartyCode,
    body: InitialReportCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Record the Party's initial report for a cooperative approach it participates in
    (version 1), or an updated initial report (the next version), as an
    ``initial_report.recorded`` entry (2/CMA.3 annex paras 18-19). An AEF reporting on ITMOs of
    an approach is not submittable before the Party's initial report for it (4/CMA.6 para
    26)."""
    draft = body.domain(code)

    def operation(uow: UnitOfWork) -> InitialReportSummary:
        ensure_party_writer(uow, principal, code)
        return InitialReportSummary.of(cycle.record_initial_report(uow, draft, principal.actor))

    return await write.run_async(operation)


@router.get("/parties/{code}/initial-reports", responses=READ_PROBLEMS)
def list_initial_reports(
    code: PartyCode, uow: ReadUowDep, _: ReaderDep
) -> list[InitialReportSummary]:
    """Every initial report and update of the Party, oldest first."""
    return [InitialReportSummary.of(r) for r in cycle.initial_reports(uow, code)]


@router.get(
    "/parties/{code}/initial-reports/{ca_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The report as JSON, or as a workbook in the document's layout",
            "content": {"application/json": {}, XLSX: {}},
        },
        **READ_PROBLEMS,
    },
)
def read_initial_report(
    code: PartyCode,
    ca_id: CaIdPath,
    uow: ReadUowDep,
    _: ReaderDep,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    format: Annotated[DocumentFormat, Query()] = DocumentFormat.JSON,
) -> Response:
    """The Party's initial report for the approach (the latest version, or ``version``): each
    element under its paragraph of 2/CMA.3 annex para 18, the duration and expected mitigation,
    and what the ledger held when it was recorded (NDC, authorizations, first-transfer
    definition)."""
    report = cycle.initial_report(uow, code, ca_id, version)
    if format is DocumentFormat.XLSX:
        name = f"initial-report-{code}-{ca_id}-v{report.version}.xlsx"
        return Response(
            write_initial_report(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    body = json.dumps(cycle.to_document(report), ensure_ascii=False, sort_keys=True)
    return Response(body.encode(), media_type="application/json")


@router.post(
    "/parties/{code}/aef/{reported_year}/pre-checks",
    status_code=200,
    response_model=PreCheckPublic,
    responses=write_responses(200, 404, 409),
)
def create_pre_check(
    code: PartyCode,
    reported_year: ReportedYear,
    body: PreCheckCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Pre-check the draft AEF of the year before submitting it: completeness, the checks
    against the guidance (vintage, NDC period, authorization date, quantity and Parties, serials
    first transferred or used twice across years, the stock-flow reconciliation of Table 4 and,
    in the ledger, per account type and vintage) and
    the transfers and acquisitions against the other Parties' AEFs (hosted here, or given as
    ``counterparts``; every Party the Table 3 rows transfer to or acquire from included; a pair
    split across 31 December matched with the other year's AEF), with the notations of
    4/CMA.6 para 29; whether it is submittable and why not; the due date (15 April of the
    following year). With ``record`` the result is appended as an ``aef.pre_checked``
    entry."""
    counterparts = [aef.from_json(report) for report in body.counterparts]

    def operation(uow: UnitOfWork) -> PreCheckPublic:
        ensure_party_writer(uow, principal, code)
        check = cycle.pre_check(
            uow,
            code,
            reported_year,
            counterparts,
            date_tolerance=timedelta(days=body.date_tolerance_days),
        )
        seq = cycle.record_pre_check(uow, check, principal.actor) if body.record else None
        return PreCheckPublic.of(check, seq)

    return write.run(operation)


@router.get("/parties/{code}/aef/{reported_year}/status", responses=READ_PROBLEMS)
def read_cycle_status(
    code: PartyCode, reported_year: ReportedYear, uow: ReadUowDep, _: ReaderDep
) -> CycleStatusPublic:
    """Where the Party's annual information for the year stands: its stage (draft, pre-checked,
    submitted, inconsistencies identified, correcting, consistent, not checked), the due date
    and whether it is overdue, each submitted version (late or not, with the secretariat's
    result), the last pre-check and the number of open inconsistency flags."""
    return CycleStatusPublic.of(cycle.cycle_status(uow, code, reported_year))
