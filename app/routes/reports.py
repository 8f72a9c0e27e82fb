"""Reports: emissions and targets (inputs, recorded as ledger entries), corresponding
adjustments with the entries behind each figure, the BTR structured summary, AEF tables and
submissions, and consistency checks against a counterpart Party's Table 3.

Reports carry an ``ETag`` derived from the tree size they were computed at: a report is a pure
function of the ledger prefix, so ``If-None-Match`` answers 304 until the ledger grows. Every
report route takes ``as_of``: the report computed from the first ``as_of`` entries (a tree size,
e.g. one a checkpoint signed or a submission recorded).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth import (
    AdminOrRegistryDep,
    Principal,
    ReaderDep,
    ReconcilingDep,
    Role,
    ensure_may_date,
)
from app.auth import ensure_registry as ensure_acting_registry
from app.deps import ReadUowDep, SettingsDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.pagination import CursorDep, LimitDep, Page, page_of
from app.problems import problem_responses
from app.schemas_reports import (
    AdaptationContributionCreate,
    AdaptationContributionPublic,
    AdjustmentReportPublic,
    ConsistencyCheckCreate,
    ConsistencyCheckPublic,
    EmissionsCreate,
    EmissionsPublic,
    NdcTargetCreate,
    NdcTargetPublic,
    PolicyChoiceCreate,
    PolicyChoicePublic,
    RegularInformationPublic,
    RestatementPublic,
    StructuredSummaryPublic,
    SubmissionCreate,
    SubmissionPublic,
)
from ledger.accounting import aef, consistency, cycle, reporting
from ledger.adapters import aef_files
from ledger.errors import InvalidInput, NotFound
from ledger.ports import UnitOfWork
from ledger.registry import services

router = APIRouter(prefix="/v1", tags=["reports"])


class SubmissionNotFound(NotFound):
    """No AEF submission of that Party, reported year and version was recorded."""

    problem_type = "submission-not-found"
    title = "No AEF submission of that Party, reported year and version was recorded"
    rule = "submission-exists"


READ_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)
PartyCode = Annotated[str, Path(pattern=r"^[A-Z]{3}$")]
PeriodStart = Annotated[
    int | None,
    Query(ge=1990, le=2100, description="First year of the NDC period reported (e.g. 2031)"),
]
AsOf = Annotated[
    int | None,
    Query(
        ge=0,
        le=2**63 - 1,
        description="Compute the report from the first as_of entries (a tree size); default: "
        "the whole ledger",
    ),
]
ReportedYear = Annotated[int, Path(ge=1990, le=2100)]


def _ensure_party_writer(
    uow: UnitOfWork, principal: Principal, party: str, action_date: date | None = None
) -> None:
    """Admin, or a registry token of one of the Party's registries (which alone may date the
    action other than today)."""
    services.party_of(uow, party)
    registries = [r.registry_id for r in uow.projection.registries() if r.party == party]
    ensure_may_date(principal, registries, action_date, uow.now().date())
    if principal.role is Role.admin:
        return
    if principal.role is Role.registry and principal.registry_id is not None:
        registry = uow.projection.get_registry(principal.registry_id)
        if registry is not None and registry.party == party:
            return
    ensure_acting_registry(principal, f"a registry of {party}")


def _cached(request: Request, tree_size: int, body: bytes, media_type: str) -> Response:
    digest = hashlib.sha256(body).hexdigest()[:16]
    etag = f'"{tree_size}-{digest}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "A6-Tree-Size": str(tree_size)}
    wanted = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


# --- inputs --------------------------------------------------------------------------------------


@router.post(
    "/parties/{code}/emissions",
    status_code=201,
    response_model=EmissionsPublic,
    responses=write_responses(201, 404, 409),
)
async def record_emissions(
    code: PartyCode,
    body: EmissionsCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Record the Party's NDC-covered emissions (or non-GHG indicator) for a year. Restating a
    year appends a new entry; reports show both the earlier and the restated value."""
    dating = body.dating(settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> EmissionsPublic:
        _ensure_party_writer(uow, principal, code, body.action_date)
        appended = reporting.record_emissions(
            uow,
            code,
            body.year,
            body.value,
            principal.actor,
            metric_unit=body.metric_unit,
            dating=dating,
        )
        return EmissionsPublic(party=code, year=body.year, value=body.value, seq=appended.seq)

    return await write.run_async(operation)


@router.post(
    "/parties/{code}/adaptation-contributions",
    status_code=201,
    response_model=AdaptationContributionPublic,
    responses=write_responses(201, 404, 409),
)
async def record_adaptation_contribution(
    code: PartyCode,
    body: AdaptationContributionCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Record a monetary contribution of the Party to the Adaptation Fund for one of its
    cooperative approaches (2/CMA.3 annex paras 37-38), reported in its regular information."""
    dating = body.dating(settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> AdaptationContributionPublic:
        _ensure_party_writer(uow, principal, code, body.action_date)
        appended = reporting.record_adaptation_contribution(
            uow,
            code,
            body.ca_id,
            body.amount,
            body.currency,
            principal.actor,
            reference=body.reference,
            dating=dating,
        )
        return AdaptationContributionPublic(
            party=code,
            ca_id=body.ca_id,
            amount=body.amount,
            currency=body.currency,
            seq=appended.seq,
        )

    return await write.run_async(operation)


@router.get(
    "/parties/{code}/regular-information",
    response_model=RegularInformationPublic,
    responses={**READ_PROBLEMS, 304: {"description": "Not modified"}},
)
def read_regular_information(
    code: PartyCode,
    request: Request,
    uow: ReadUowDep,
    _: ReaderDep,
    as_of: AsOf = None,
) -> Response:
    """Share of proceeds and OMGE for the Party's regular information (2/CMA.3 annex paras
    38, 40): ITMOs transferred to the Adaptation Fund, cancellations to deliver OMGE and recorded
    monetary contributions to the Adaptation Fund, per approach and year."""
    size = uow.log.size() if as_of is None else as_of
    info = reporting.regular_information_for(uow, code, tree_size=size)
    body = RegularInformationPublic.of(info).model_dump_json().encode()
    return _cached(request, size, body, "application/json")


@router.post(
    "/parties/{code}/targets",
    status_code=201,
    response_model=NdcTargetPublic,
    responses=write_responses(201, 404, 409),
)
async def record_target(
    code: PartyCode,
    body: NdcTargetCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Record the budget and/or indicative trajectory and the target level of one NDC period
    (``period_start``; may be left out while the Party has one period). Supersedes the period's
    previous record."""
    trajectory: dict[int, int] | None = None
    if body.trajectory is not None:
        try:
            trajectory = {int(year): value for year, value in body.trajectory.items()}
        except ValueError as exc:
            raise InvalidInput("trajectory keys must be years", field="trajectory") from exc
    dating = body.dating(settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> NdcTargetPublic:
        _ensure_party_writer(uow, principal, code, body.action_date)
        appended = reporting.record_ndc_target(
            uow,
            code,
            principal.actor,
            dating=dating,
            budget=body.budget,
            trajectory=trajectory,
            target_level=body.target_level,
            period_start=body.period_start,
        )
        return NdcTargetPublic(party=code, seq=appended.seq)

    return await write.run_async(operation)


@router.post(
    "/parties/{code}/adjustment-policy",
    status_code=201,
    response_model=PolicyChoicePublic,
    responses=write_responses(201, 404, 409),
)
async def record_policy_choice(
    code: PartyCode,
    body: PolicyChoiceCreate,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Record the Party's choice of the accounting settings the decisions leave to it (how it
    applies the averaging method: ``averaging_basis``, ``elapsed_years_inclusive``). A setting
    left out (or null) stays the deployment's; the Party's choice wins over the deployment's
    default in every report of the Party. Supersedes the previous choice."""

    def operation(uow: UnitOfWork) -> PolicyChoicePublic:
        _ensure_party_writer(uow, principal, code)
        appended = reporting.record_policy_choice(
            uow,
            code,
            principal.actor,
            averaging_basis=body.averaging_basis,
            elapsed_years_inclusive=body.elapsed_years_inclusive,
        )
        return PolicyChoicePublic(
            party=code,
            seq=appended.seq,
            averaging_basis=body.averaging_basis,
            elapsed_years_inclusive=body.elapsed_years_inclusive,
        )

    return await write.run_async(operation)


# --- corresponding adjustments and the BTR summary ----------------------------------------------


@router.get(
    "/parties/{code}/adjustments",
    response_model=AdjustmentReportPublic,
    responses={**READ_PROBLEMS, 304: {"description": "Not modified"}},
)
def read_adjustments(
    code: PartyCode,
    request: Request,
    uow: ReadUowDep,
    _: ReaderDep,
    settings: SettingsDep,
    as_of: AsOf = None,
    period_start: PeriodStart = None,
) -> Response:
    """Per year of one NDC period: first transferred (by vintage), used (by year of use), net,
    the corresponding adjustment under the period's method, the emissions balance and cumulative
    figures. Every figure lists the ledger entries behind it. ``period_start`` names the period
    (default: the period of the current year); ``as_of`` computes it at an earlier tree size.
    ``policy`` states the accounting settings used and which the Party chose."""
    size = uow.log.size() if as_of is None else as_of
    report = reporting.adjustments_as_of(
        uow, code, size, settings.adjustment_policy, period_start=period_start
    )
    body = AdjustmentReportPublic.of(report, size).model_dump_json().encode()
    return _cached(request, size, body, "application/json")


@router.get("/parties/{code}/adjustments/restatements", responses=READ_PROBLEMS)
def read_restatements(
    code: PartyCode,
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    settings: SettingsDep,
    since: Annotated[int, Query(ge=0, le=2**63 - 1)],
    period_start: PeriodStart = None,
    as_of: AsOf = None,
) -> Page[RestatementPublic]:
    """Figures of one NDC period that changed since the ledger had ``since`` entries (e.g. the
    tree size of the last submission), as of ``as_of`` entries (default: now): what was
    reported before, and the restated value with the entries behind it (an action dated in a
    submitted year, sent with ``restates``, is among them); by year and field. Both are computed
    under the accounting policy in force then."""

    def key(restatement: RestatementPublic) -> str:
        return f"{restatement.year}:{restatement.field}"

    after = cursor.after_key()
    restated = reporting.restated_since(
        uow, code, since, settings.adjustment_policy, period_start=period_start, as_of=as_of
    )
    found = sorted((RestatementPublic.of(r) for r in restated), key=key)
    return page_of([r for r in found if after is None or key(r) > after][: limit + 1], limit, key)


@router.get(
    "/parties/{code}/btr-summary",
    response_model=StructuredSummaryPublic,
    responses={**READ_PROBLEMS, 304: {"description": "Not modified"}},
)
def read_structured_summary(
    code: PartyCode,
    request: Request,
    uow: ReadUowDep,
    _: ReaderDep,
    settings: SettingsDep,
    period_start: PeriodStart = None,
    as_of: AsOf = None,
) -> Response:
    """BTR structured summary (decision 5/CMA.3, CTF Table 4, Article 6 rows) for each year of
    one NDC period (``period_start``; default: the period of the current year), with the 23(j)
    breakdowns and the accounting policy used; ``as_of`` computes it at an earlier tree size."""
    size = uow.log.size() if as_of is None else as_of
    summary = reporting.structured_summary_for(
        uow, code, settings.adjustment_policy, period_start=period_start, tree_size=size
    )
    breakdowns = reporting.breakdowns_for(
        uow, code, settings.adjustment_policy, period_start=period_start, tree_size=size
    )
    body = StructuredSummaryPublic.of(summary, breakdowns).model_dump_json().encode()
    return _cached(request, size, body, "application/json")


# --- AEF -----------------------------------------------------------------------------------------


@router.get(
    "/parties/{code}/aef/{reported_year}",
    response_class=Response,
    responses={
        200: {
            "description": "AEF Tables 1-5 (JSON; a ZIP of one CSV per table; or the workbook)",
            "content": {
                "application/json": {},
                "application/zip": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
        },
        304: {"description": "Not modified"},
        **READ_PROBLEMS,
    },
)
def read_aef(
    code: PartyCode,
    reported_year: ReportedYear,
    request: Request,
    uow: ReadUowDep,
    _: ReaderDep,
    format: Annotated[aef_files.AefFormat, Query()] = aef_files.AefFormat.JSON,
    version: Annotated[str | None, Query(pattern=r"^\d+\.\d+$")] = None,
    as_of: AsOf = None,
) -> Response:
    """The Party's AEF for the reported year: a submitted ``version`` exactly as submitted, or
    a draft of the next version from the ledger as it stands (or as it stood at ``as_of``
    entries, which must then include the submission of ``version``). Tables 2 to 5 hold what was
    dated by 31 December of the reported year. A report with a missing required value is refused
    with the table, row and column at fault (never "NA" filler). A submitted ``version`` whose
    result the secretariat returned (``POST .../review-results``) shows it in the "Result of the
    consistency check" columns of Tables 1 and 3 (4/CMA.6 para 29 notations)."""
    size = uow.log.size() if as_of is None else as_of
    if version is not None and not any(
        s.reported_year == reported_year and s.version == version and s.seq < size
        for s in reporting.submissions(uow, code)
    ):
        raise SubmissionNotFound(
            f"{code} has no submitted version {version} of its AEF for {reported_year}",
            party=code,
            reported_year=reported_year,
            version=version,
        )
    report = reporting.aef_report_for(uow, code, reported_year, version, tree_size=size)
    results = (
        None
        if version is None
        else cycle.review_results(uow, code, reported_year, version, tree_size=size)
    )
    body = aef_files.export_aef(report, format, results=results)
    response = _cached(request, size, body, format.media_type)
    if format is not aef_files.AefFormat.JSON:
        suffix = "zip" if format is aef_files.AefFormat.CSV else "xlsx"
        name = f"aef-{code}-{reported_year}-{report.submission.version}.{suffix}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post(
    "/parties/{code}/aef/{reported_year}/submissions",
    status_code=201,
    response_model=SubmissionPublic,
    responses=write_responses(201, 404, 409),
)
async def create_submission(
    code: PartyCode,
    reported_year: ReportedYear,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
    body: SubmissionCreate | None = None,
) -> Response:
    """Record the submission of the AEF for the reported year: version 1.0, then 1.1, ... The
    report must be complete; the entry records the tree size it was built from. Refused (409,
    ``initial-report-before-annual-information``) while the Party has recorded no initial report
    for a cooperative approach the AEF reports on (4/CMA.6 paras 26-27)."""
    if body is not None and body.reported_year != reported_year:
        raise InvalidInput("the body's reported_year differs from the path", field="reported_year")

    def operation(uow: UnitOfWork) -> SubmissionPublic:
        _ensure_party_writer(uow, principal, code)
        version = cycle.submit(uow, code, reported_year, principal.actor)
        recorded = [
            s
            for s in reporting.submissions(uow, code)
            if s.reported_year == reported_year and s.version == version
        ]
        return SubmissionPublic.of(recorded[-1])

    return await write.run_async(operation)


@router.get("/parties/{code}/aef-submissions", responses=READ_PROBLEMS)
def list_submissions(
    code: PartyCode, uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[SubmissionPublic]:
    """Every AEF submission of the Party (all reported years and versions), by ledger seq."""
    services.party_of(uow, code)
    after = cursor.after_seq()
    found = [
        SubmissionPublic.of(s)
        for s in reporting.submissions(uow, code)
        if after is None or s.seq > after
    ]
    return page_of(found[: limit + 1], limit, lambda s: s.seq)


# --- consistency checks --------------------------------------------------------------------------


@router.post(
    "/consistency-checks",
    status_code=200,
    response_model=ConsistencyCheckPublic,
    responses=write_responses(200, 404, 409),
)
def create_consistency_check(
    body: ConsistencyCheckCreate, principal: ReconcilingDep, write: IdempotentWriteDep
) -> Response:
    """Reproduce the secretariat's automated checks before submission: the Party's AEF against
    the counterpart's Table 3 (transfers against acquisitions, both ways) and the completeness
    and accuracy of mandatory fields, with the official notations. With ``record`` the
    findings are appended to the ledger and the blocks concerned are refused for NDC use; a
    registry token flags only blocks held in its own Party's registries."""
    counterpart = None if body.counterpart is None else aef.from_json(body.counterpart)

    def operation(uow: UnitOfWork) -> ConsistencyCheckPublic:
        if principal.role is Role.registry:
            _ensure_party_writer(uow, principal, body.party)
        own = reporting.aef_report_for(uow, body.party, body.reported_year, body.version)
        result = consistency.check_against_counterpart(
            own, counterpart, date_tolerance=timedelta(days=body.date_tolerance_days)
        )
        if not body.record:
            return ConsistencyCheckPublic.of(result, None, 0)
        registries = None
        if principal.role is Role.registry:
            own_party = services.registry_of(uow, principal.registry_id or "").party
            registries = [
                r.registry_id for r in uow.projection.registries() if r.party == own_party
            ]
        recorded = consistency.record_findings(uow, result, principal.actor, registries=registries)
        return ConsistencyCheckPublic.of(result, recorded.seq, len(recorded.flagged))

    return write.run(operation)
