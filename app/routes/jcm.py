"""Joint Committee decisions of the JCM: recorded as entries; issuance citing one
(``POST /v1/issuances`` with ``decision_reference``) follows it and never exceeds it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.auth import ReaderDep, RegistryWriterDep
from app.auth import ensure_registry as ensure_acting_registry
from app.deps import ReadUowDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.routes.reports import READ_PROBLEMS
from app.schemas.jcm import JcDecisionCreate, JcDecisionPublic
from ledger.ports import UnitOfWork
from ledger.registry import services

router = APIRouter(prefix="/v1", tags=["jcm"])
DecisionId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/]+$")]


@router.post(
    "/jcm-decisions",
    status_code=201,
    response_model=JcDecisionPublic,
    responses=write_responses(201, 404, 409),
)
async def create_jc_decision(
    body: JcDecisionCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Record a Joint Committee decision on issuance for the caller's registry (a
    ``jcm.decision.recorded`` entry): project, monitoring period, total and its split between
    the governments and the project participants. An issuance citing it as
    ``decision_reference`` then goes only to its accounts, within each share."""
    decision = body.to_domain()

    def operation(uow: UnitOfWork) -> JcDecisionPublic:
        ensure_acting_registry(principal, decision.registry_id)
        services.record_decision(uow, decision, principal.actor)
        return JcDecisionPublic.of(services.decision_of(uow, decision.decision_id))

    return await write.run_async(operation)


@router.get("/jcm-decisions/{decision_id}", responses=READ_PROBLEMS)
def read_jc_decision(decision_id: DecisionId, uow: ReadUowDep, _: ReaderDep) -> JcDecisionPublic:
    """A recorded Joint Committee decision with the quantity issued and remaining per share."""
    return JcDecisionPublic.of(services.decision_of(uow, decision_id))
