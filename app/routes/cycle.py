"""The reporting cycle: the secretariat's result of its consistency check of a submitted AEF,
imported per action, and the open inconsistency flags of a Party (4/CMA.6 paras 29-32,
39-40)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth import AdminOrRegistryDep, ReaderDep
from app.deps import ReadUowDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.routes.reports import READ_PROBLEMS, PartyCode, ReportedYear
from app.routes.reports import _ensure_party_writer as ensure_party_writer
from app.schemas.cycle import OpenFlagPublic, ReviewResultCreate, ReviewResultPublic
from ledger.accounting import cycle
from ledger.ports import UnitOfWork

router = APIRouter(prefix="/v1", tags=["cycle"])


@router.post(
    "/parties/{code}/aef/{reported_year}/review-results",
    status_code=201,
    response_model=ReviewResultPublic,
    responses=write_responses(201, 404, 409),
)
def create_review_result(
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

    return write.run(operation)


@router.get("/parties/{code}/inconsistency-flags", responses=READ_PROBLEMS)
def list_inconsistency_flags(
    code: PartyCode, uow: ReadUowDep, _: ReaderDep
) -> list[OpenFlagPublic]:
    """The Party's ITMOs flagged inconsistent and not resolved (their use towards the NDC is
    refused), each with the entry that raised the flag and its reasons."""
    return [OpenFlagPublic.of_flag(flag) for flag in cycle.open_flags(uow, code)]
