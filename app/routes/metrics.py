"""``GET /metrics``: the service's Prometheus metrics (:mod:`app.metrics`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth import CallerDep
from app.deps import PublicReadUowDep, SettingsDep
from app.metrics import CONTENT_TYPE_LATEST, ServiceMetrics
from app.problems import problem_responses
from app.routes.log import require_reader

router = APIRouter(tags=["health"])


async def require_scraper(settings: SettingsDep, caller: CallerDep) -> None:
    """Anyone (``A6LEDGER_METRICS_ACCESS=public``) or, by default, a reading role's token."""
    await require_reader(settings.metrics_access, caller)


@router.get(
    "/metrics",
    operation_id="health-read_metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
            "description": "Prometheus text exposition format",
        },
        **problem_responses(401),
    },
)
def read_metrics(
    request: Request, _: Annotated[None, Depends(require_scraper)], uow: PublicReadUowDep
) -> Response:
    """Request rate and latency by route template, append latency, the tree size, the last
    signed checkpoint (its tree size and age), idempotency replays and rule refusals by rule,
    in the Prometheus text format. Who may scrape: ``A6LEDGER_METRICS_ACCESS``."""
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(metrics.exposition(uow.log.size()), media_type=CONTENT_TYPE_LATEST)
