"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import CheckpointStateDep, StorageDep
from ledger.adapters.sql.migrations import UnknownRevision
from ledger.errors import LedgerError
from ledger.log.chain import ChainFault, entry_hash, verify_chain
from ledger.log.checkpoints import guard_consistency

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str


class ReadinessPublic(BaseModel):
    status: str
    database: str
    tree_size: int | None = None
    detail: str | None = None


@router.get("/healthz", operation_id="health-read_health")
def read_health() -> HealthPublic:
    """Liveness: the process answers."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    operation_id="health-read_readiness",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "Not ready"}},
)
def read_readiness(
    request: Request, storage: StorageDep, signed_trees: CheckpointStateDep
) -> ReadinessPublic | JSONResponse:
    """Readiness: the database answers and is at the latest migration (else ``database`` is
    ``migrations-pending`` and ``detail`` names them), the last entry links to its predecessor,
    each holdings projection table holds the rows the service wrote, and the projection rows
    match their digests and the ledger entries they are bound to (a window of rows per probe,
    resumed by the next, so every row is checked within rows/2000 probes; a bad row keeps the
    service not ready until it is restored; the full re-derivation from the log is
    ``a6ledger verify-db``), and the service would sign and append: the stored log holds the
    largest tree the log signed (as the shared table, the signer's file and this process
    remember it) and its Merkle tree has no leaf beyond its last entry."""
    try:
        _, pending = request.app.state.pending_migrations()
        if pending:
            return _not_ready("migrations-pending", f"migrations pending: {', '.join(pending)}")
        with storage.unit_of_work(write=False) as uow:
            # First: the remembered trees are read before the snapshot starts, so a tree another
            # replica signs meanwhile is in the snapshot too.
            guard_consistency(uow.log, signed_trees)
            uow.log.check_extendable()
            size = uow.log.size()
            fault = _check_head(uow.log.read_entries(max(0, size - 3), size), size)
            if fault is not None:
                return _not_ready("fault", f"ledger head fails at seq {fault.seq}: {fault.reason}")
            uow.log.root(size)
            difference = uow.projection.check_stored()
            if difference is not None:
                return _not_ready(
                    "fault", f"the projection does not match the ledger: {difference}"
                )
    except LedgerError as exc:
        return _not_ready("fault", exc.message)
    except UnknownRevision as exc:
        return _not_ready("migrations-unknown", str(exc))
    except Exception as exc:  # database unreachable: report it, do not crash the probe
        return _not_ready("unreachable", type(exc).__name__)
    return ReadinessPublic(status="ready", database="ok", tree_size=size)


def _check_head(bodies: list[bytes], size: int) -> ChainFault | None:
    """Verify the last few links of the chain (the full check is ``a6ledger verify-db``)."""
    start = size - len(bodies)
    if start == 0:
        return verify_chain(bodies, 0)
    return verify_chain(bodies[1:], start + 1, entry_hash(bodies[0]))


def _not_ready(database: str, detail: str) -> JSONResponse:
    body = ReadinessPublic(status="not-ready", database=database, detail=detail)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
