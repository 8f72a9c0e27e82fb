"""Import files read into an import plan (``ledger.imports``), for ``a6ledger import`` and
``POST /v1/imports``.

A JSON Lines file holds one action per line, in the shapes of the API's request bodies::

    {"action": "transfer", "body": {...the body of POST /v1/transfers...}}
    {"action": "emissions", "party": "JPN", "body": {...POST /v1/parties/JPN/emissions...}}

``action`` names the request (:data:`LINE_ACTIONS`); a request whose path names a Party or an
authorization takes it as the line's ``party`` or ``authorization_id``; ``comment`` is free text
the import ignores. Each body is validated by the API's own request model and becomes the same
use-case call the route makes, with the body's ``action_date`` (an authorization's and an
entity's: ``authorized_on``). A line that cannot be read (not JSON, an unknown action, a body the
API would refuse with 422) is refused with its line number and rule before anything runs.

An AEF file is read by ``ledger.adapters.import_files`` and its Table 3 rows mapped to actions by
``ledger.imports.aef_table3``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.problems import BODY_UNPARSABLE, HTTP_PROBLEMS, REQUEST_VALIDATION
from app.schemas import (
    AccountCreate,
    AcquisitionCreate,
    AuthorizationCreate,
    AuthorizationId,
    AuthorizedEntityCreate,
    AuthorizeUnitsCreate,
    CancellationCreate,
    CooperativeApproachCreate,
    DatedRequest,
    IssuanceCreate,
    LongText,
    NdcDeclarationIn,
    OimpUseCreate,
    PartyCode,
    PartyCreate,
    RegistryCreate,
    RequestModel,
    TransferCreate,
    UseCreate,
)
from app.schemas_reports import EmissionsCreate, NdcTargetCreate, PolicyChoiceCreate
from ledger.accounting import reporting
from ledger.adapters.import_files import (
    ImportFormat,
    JsonLine,
    file_sha256,
    read_json_lines,
    read_table3,
)
from ledger.errors import InvalidInput, LedgerError
from ledger.imports import ImportPlan, ImportRow, Refusal, RowAction, plan_import, row_digest
from ledger.imports.aef_table3 import table3_rows
from ledger.registry import services
from ledger.registry.dating import Dating

Build = Callable[[Any, str, int], RowAction]
"""A line's body (validated), its path member (``""`` if none) and the deployment's
``end_of_period_btr_after`` -> the use-case call the route would make."""


def _party(body: PartyCreate, _: str, __: int) -> RowAction:
    party = body.to_domain()
    return lambda uow, actor: services.register_party(uow, party, actor)


def _registry(body: RegistryCreate, _: str, __: int) -> RowAction:
    registry = body.to_domain()
    return lambda uow, actor: services.register_registry(uow, registry, actor)


def _approach(body: CooperativeApproachCreate, _: str, __: int) -> RowAction:
    approach = body.to_domain()
    return lambda uow, actor: services.register_cooperative_approach(uow, approach, actor)


def _account(body: AccountCreate, _: str, __: int) -> RowAction:
    account = body.to_domain()
    return lambda uow, actor: services.open_account(uow, account, actor)


def _ndc(body: NdcDeclarationIn, party: str, __: int) -> RowAction:
    declaration = body.to_domain()
    return lambda uow, actor: services.declare_ndc(uow, party, declaration, actor)


def _ndc_amendment(body: NdcDeclarationIn, party: str, __: int) -> RowAction:
    declaration = body.to_domain()
    return lambda uow, actor: reporting.amend_ndc(uow, party, declaration, actor)


def _policy(body: PolicyChoiceCreate, party: str, __: int) -> RowAction:
    return lambda uow, actor: reporting.record_policy_choice(
        uow,
        party,
        actor,
        averaging_basis=body.averaging_basis,
        elapsed_years_inclusive=body.elapsed_years_inclusive,
    )


def _authorization(body: AuthorizationCreate, _: str, btr_after: int) -> RowAction:
    try:
        draft = body.to_domain()
    except ValueError as exc:
        raise InvalidInput(str(exc), field="first_transfer_definition") from exc
    dating = Dating(None, body.restates, btr_after)
    return lambda uow, actor: services.record_authorization(uow, draft, actor, dating=dating)


def _entity(body: AuthorizedEntityCreate, _: str, __: int) -> RowAction:
    entity = body.to_domain()
    return lambda uow, actor: services.record_authorized_entity(uow, entity, actor)


def _authorize_units(body: AuthorizeUnitsCreate, authorization: str, btr_after: int) -> RowAction:
    selection = body.selection.to_domain()
    return lambda uow, actor: services.authorize_units(
        uow, authorization, body.account_id, selection, actor, dating=body.dating(btr_after)
    )


def _issuance(body: IssuanceCreate, _: str, btr_after: int) -> RowAction:
    issuance = services.Issuance(
        registry_id=body.registry_id,
        attributes=body.attributes.to_domain(),
        shares=tuple(
            services.IssuanceShare(s.account_id, s.quantity, s.authorization_id, s.underlying_first)
            for s in body.shares
        ),
        decision_reference=body.decision_reference,
    )
    return lambda uow, actor: services.issue(uow, issuance, actor, dating=body.dating(btr_after))


def _transfer(body: TransferCreate, _: str, btr_after: int) -> RowAction:
    order = services.TransferOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.reference
    )
    return lambda uow, actor: services.transfer(uow, order, actor, dating=body.dating(btr_after))


def _acquisition(body: AcquisitionCreate, _: str, btr_after: int) -> RowAction:
    order = services.ExternalAcquisition(
        from_registry=body.from_registry,
        to_account=body.to_account,
        attributes=body.attributes.to_domain(),
        first=body.first,
        last=body.last,
        authorization_id=body.authorization_id,
        authorization_version=body.authorization_version,
        first_transferred=body.first_transferred,
        underlying_first=body.underlying_first,
        reference=body.reference,
    )
    return lambda uow, actor: services.acquire_from_external(
        uow, order, actor, dating=body.dating(btr_after)
    )


def _use(body: UseCreate, _: str, btr_after: int) -> RowAction:
    order = services.UseOrder(
        body.from_account,
        body.to_account,
        body.selection.to_domain(),
        use_year=body.use_year,
        reference=body.reference,
    )
    return lambda uow, actor: services.use_for_ndc(uow, order, actor, dating=body.dating(btr_after))


def _oimp_use(body: OimpUseCreate, _: str, btr_after: int) -> RowAction:
    order = services.UseOrder(
        body.from_account,
        body.to_account,
        body.selection.to_domain(),
        oimp_purpose=body.oimp_purpose,
        entity_id=body.entity_id,
        reference=body.reference,
    )
    return lambda uow, actor: services.use_for_oimp(
        uow, order, actor, dating=body.dating(btr_after)
    )


def _cancellation(body: CancellationCreate, _: str, btr_after: int) -> RowAction:
    order = services.CancellationOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.kind, body.reference
    )
    return lambda uow, actor: services.cancel(uow, order, actor, dating=body.dating(btr_after))


def _emissions(body: EmissionsCreate, party: str, btr_after: int) -> RowAction:
    return lambda uow, actor: reporting.record_emissions(
        uow,
        party,
        body.year,
        body.value,
        actor,
        metric_unit=body.metric_unit,
        dating=body.dating(btr_after),
    )


def _target(body: NdcTargetCreate, party: str, btr_after: int) -> RowAction:
    trajectory: dict[int, int] | None = None
    if body.trajectory is not None:
        try:
            trajectory = {int(year): value for year, value in body.trajectory.items()}
        except ValueError as exc:
            raise InvalidInput("trajectory keys must be years", field="trajectory") from exc
    return lambda uow, actor: reporting.record_ndc_target(
        uow,
        party,
        actor,
        dating=body.dating(btr_after),
        budget=body.budget,
        trajectory=trajectory,
        target_level=body.target_level,
        period_start=body.period_start,
    )


@dataclass(frozen=True, slots=True)
class LineAction:
    """What a line's ``action`` names: the request model of its body, the route's path
    parameter (taken from the line's member of that name), whether it is reference data
    (applied before every dated action) and the use-case call."""

    schema: type[RequestModel]
    build: Build
    path: str | None = None
    reference_data: bool = False


LINE_ACTIONS: dict[str, LineAction] = {
    "party": LineAction(PartyCreate, _party, reference_data=True),
    "registry": LineAction(RegistryCreate, _registry, reference_data=True),
    "cooperative_approach": LineAction(CooperativeApproachCreate, _approach, reference_data=True),
    "account": LineAction(AccountCreate, _account, reference_data=True),
    "ndc": LineAction(NdcDeclarationIn, _ndc, "party", reference_data=True),
    "ndc_amendment": LineAction(NdcDeclarationIn, _ndc_amendment, "party", reference_data=True),
    "adjustment_policy": LineAction(PolicyChoiceCreate, _policy, "party", reference_data=True),
    "authorization": LineAction(AuthorizationCreate, _authorization),
    "authorized_entity": LineAction(AuthorizedEntityCreate, _entity),
    "authorize_units": LineAction(AuthorizeUnitsCreate, _authorize_units, "authorization_id"),
    "issuance": LineAction(IssuanceCreate, _issuance),
    "transfer": LineAction(TransferCreate, _transfer),
    "acquisition": LineAction(AcquisitionCreate, _acquisition),
    "use": LineAction(UseCreate, _use),
    "oimp_use": LineAction(OimpUseCreate, _oimp_use),
    "cancellation": LineAction(CancellationCreate, _cancellation),
    "emissions": LineAction(EmissionsCreate, _emissions, "party"),
    "target": LineAction(NdcTargetCreate, _target, "party"),
}
"""Every action a line may name, with the route whose body it carries:

``party`` POST /v1/parties; ``registry`` /v1/registries; ``cooperative_approach``
/v1/cooperative-approaches; ``account`` /v1/accounts; ``ndc`` /v1/parties/{party}/ndc;
``ndc_amendment`` /v1/parties/{party}/ndc/amendments; ``adjustment_policy``
/v1/parties/{party}/adjustment-policy; ``authorization`` /v1/authorizations;
``authorized_entity`` /v1/authorized-entities; ``authorize_units``
/v1/authorizations/{authorization_id}/units; ``issuance`` /v1/issuances; ``transfer``
/v1/transfers; ``acquisition`` /v1/acquisitions; ``use`` /v1/uses; ``oimp_use``
/v1/oimp-uses; ``cancellation`` /v1/cancellations; ``emissions``
/v1/parties/{party}/emissions; ``target`` /v1/parties/{party}/targets."""


class ImportLine(BaseModel):
    """The envelope of one line: the action, its path parameter, its body, a comment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(min_length=1, max_length=64)
    body: dict[str, Any]
    party: PartyCode | None = None
    authorization_id: AuthorizationId | None = None
    comment: LongText | None = None


def _schema_refusal(line: int, action: str, error: ValidationError, prefix: str) -> Refusal:
    errors = [
        {
            "location": [prefix, *(str(part) for part in err.get("loc", ()))],
            "message": str(err.get("msg", "")),
            "kind": str(err.get("type", "")),
        }
        for err in error.errors()
    ]
    fields = ", ".join(".".join(e["location"]) for e in errors)
    return Refusal(
        row=line,
        action=action,
        rule="request-schema",
        problem_type=REQUEST_VALIDATION.slug,
        title=REQUEST_VALIDATION.title,
        detail=f"invalid value(s) at: {fields}",
        details={"errors": errors},
    )


def _line_row(line: JsonLine, btr_after: int) -> ImportRow | Refusal:
    """The import row of one JSON line, or why it cannot be one."""
    if line.value is None:
        return Refusal(
            row=line.line,
            action="?",
            rule=HTTP_PROBLEMS[400][1],
            problem_type=BODY_UNPARSABLE.slug,
            title=BODY_UNPARSABLE.title,
            detail=line.error or "not a JSON object",
        )
    name = str(line.value.get("action", "?"))
    try:
        envelope = ImportLine.model_validate(line.value)
    except ValidationError as exc:
        return _schema_refusal(line.line, name, exc, "line")
    spec = LINE_ACTIONS.get(envelope.action)
    try:
        if spec is None:
            raise InvalidInput(
                f"unknown action {envelope.action!r}; one of {', '.join(sorted(LINE_ACTIONS))}",
                field="action",
            )
        path = _path_member(envelope, spec)
        try:
            body = spec.schema.model_validate(envelope.body)
        except ValidationError as exc:
            return _schema_refusal(line.line, name, exc, "body")
        apply = spec.build(body, path, btr_after)
    except LedgerError as exc:
        return Refusal.of(line.line, name, exc)
    return ImportRow(
        row=line.line,
        action=name,
        apply=apply,
        digest=row_digest(line.text),
        action_date=_action_date(body),
        reference_data=spec.reference_data,
    )


def _path_member(envelope: ImportLine, spec: LineAction) -> str:
    given = {"party": envelope.party, "authorization_id": envelope.authorization_id}
    for member, value in given.items():
        if member == spec.path and value is None:
            raise InvalidInput(f"action {envelope.action!r} needs `{member}`", field=member)
        if member != spec.path and value is not None:
            raise InvalidInput(f"action {envelope.action!r} takes no `{member}`", field=member)
    return "" if spec.path is None else given[spec.path] or ""


def _action_date(body: RequestModel) -> date | None:
    if isinstance(body, DatedRequest):
        return body.action_date
    if isinstance(body, AuthorizationCreate | AuthorizedEntityCreate):
        return body.authorized_on
    return None


def plan_file(
    data: bytes,
    fmt: ImportFormat,
    *,
    party: str | None = None,
    end_of_period_btr_after: int,
) -> ImportPlan:
    """The import plan of a file's bytes. An AEF file that cannot be read raises its error
    (:class:`~ledger.accounting.aef.AefValidationError` lists every problem); unreadable lines
    of a JSON Lines file are kept in the plan as refusals."""
    digest = file_sha256(data)
    if fmt is ImportFormat.JSONL:
        rows: list[ImportRow] = []
        refusals: list[Refusal] = []
        for line in read_json_lines(data):
            found = _line_row(line, end_of_period_btr_after)
            if isinstance(found, ImportRow):
                rows.append(found)
            else:
                refusals.append(found)
        return plan_import(digest, fmt.value, rows, refusals)
    table = read_table3(data, fmt, party)
    return plan_import(
        digest,
        fmt.value,
        table3_rows(table.party, table.actions, end_of_period_btr_after=end_of_period_btr_after),
    )
