"""Authorizations (and their versions), authorized entities, and the authorization of held units
(AEF action "Authorization"), which first-transfers units whose OIMP definition says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ledger.errors import (
    AlreadyRegistered,
    AuthorizationChangeForbidden,
    AuthorizedEntityNotFound,
    InvalidInput,
    RegistryDoesNotOwnUnits,
)
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.codec import to_json
from ledger.registry.dating import UNDATED, Dating, action_date, date_action
from ledger.registry.model import (
    AUTHORIZATION_ID,
    Authorization,
    AuthorizedEntity,
    FirstTransferDefinition,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.services.blocks import blocks_payload, carve_blocks, total_quantity
from ledger.registry.services.lookups import (
    account_of,
    approach_of,
    authorization_in_force,
    authorization_of,
    party_of,
    registry_of,
    require_format,
)
from ledger.registry.services.movements import record_first_transfer
from ledger.registry.services.reference_data import declare_first_transfer_definition


def record_authorization(
    uow: UnitOfWork, draft: Authorization, actor: str, *, dating: Dating = UNDATED
) -> Authorization:
    """Record a new authorization, or a new version of an existing one.

    The version number is assigned here. A new version never rewrites ITMOs already first
    transferred: those keep the version they were first transferred under (4/CMA.6 paras 7-9).

    Its action date is its date of authorization (``authorized_on``; ``dating`` says whether it
    restates a reported year): not in the future, and in a year whose AEF the Party submitted
    only as a restatement, since it changes that year's Table 2.
    """
    require_format(AUTHORIZATION_ID, draft.authorization_id, "authorization id")
    party_of(uow, draft.party)
    approach = approach_of(uow, draft.ca_id)
    if draft.party not in approach.parties:
        raise InvalidInput(f"{draft.party} does not participate in {draft.ca_id}")
    for code in draft.authorized_parties:
        party_of(uow, code)
    for entity_id in draft.authorized_entities:
        if uow.projection.get_entity(entity_id) is None:
            raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded", entity=entity_id)
    if draft.vintage_from > draft.vintage_to:
        raise InvalidInput("vintage_from must not exceed vintage_to")
    rules.check_vintage(draft.vintage_from)
    if draft.revoked_on is not None:
        raise InvalidInput(
            "an authorization is revoked by revoke_authorization", field="revoked_on"
        )
    rules.check_authorization_elements(draft)
    if draft.tracking_registry is not None:
        registry_of(uow, draft.tracking_registry)
    if draft.quantity is not None and draft.quantity <= 0:
        raise InvalidInput("an authorized quantity must be positive", quantity=draft.quantity)
    if draft.purposes.covers_oimp and draft.first_transfer_definition is None:
        raise InvalidInput(
            "an authorization covering OIMP must state the first-transfer definition",
            field="first_transfer_definition",
        )
    if not draft.purposes.covers_oimp and (
        draft.first_transfer_definition is not None or draft.oimp_authorized is not None
    ):
        raise InvalidInput("first-transfer definition and OIMP apply only to OIMP purposes")
    previous = uow.projection.get_authorization(draft.authorization_id)
    version = 1
    if previous is not None:
        rules.check_not_revoked(previous)
        if (previous.party, previous.ca_id) != (draft.party, draft.ca_id):
            raise AuthorizationChangeForbidden(
                "a new version cannot change the authorizing Party or cooperative approach",
                authorization_id=draft.authorization_id,
            )
        if draft.quantity is not None and draft.quantity < uow.projection.authorized_quantity(
            draft.authorization_id
        ):
            raise AuthorizationChangeForbidden(
                "the new quantity is below the units already authorized under it",
                authorization_id=draft.authorization_id,
            )
        version = previous.version + 1
    when = date_action(uow, replace(dating, action_date=draft.authorized_on), (draft.party,))
    if draft.first_transfer_definition is not None:
        declare_first_transfer_definition(
            uow, draft.party, draft.ca_id, draft.first_transfer_definition, actor
        )
    authorization = replace(draft, version=version, recorded_seq=uow.log.size())
    payload: dict[str, JsonValue] = {"authorization": to_json(authorization), **when.payload()}
    record_entry(uow, "authorization.recorded", payload, actor)
    definition = authorization.first_transfer_definition
    if authorization.purposes.covers_oimp and definition in (
        FirstTransferDefinition.AUTHORIZATION,
        FirstTransferDefinition.ISSUANCE,
    ):
        # Units already bound to this authorization become OIMP-authorized now: under these
        # definitions their first transfer is due at once (it cannot wait for a later event).
        assert definition is not None
        pending = [
            b
            for b in uow.projection.authorized_blocks(authorization.authorization_id)
            if not b.first_transferred and not b.retired
        ]
        if pending:
            record_first_transfer(uow, pending, definition.value, None, actor, when=when)
    return authorization


def revoke_authorization(
    uow: UnitOfWork,
    authorization_id: str,
    revoked_on: date,
    reason: str,
    actor: str,
    *,
    dating: Dating = UNDATED,
) -> Authorization:
    """Revoke an authorization: a new version, identical but for its date (``revoked_on``) and
    the revocation, recorded as an ``authorization.recorded`` entry dated ``revoked_on``.

    Units first transferred before keep the version they were first transferred under and
    move, are used or cancelled as before (4/CMA.6 para 7). From ``revoked_on`` on, no unit is
    bound to the authorization, issued under it or first transferred under it
    (:class:`~ledger.errors.AuthorizationRevoked`); units bound to it but not yet first
    transferred stay where they are. A revoked authorization gets no further version."""
    previous = authorization_of(uow, authorization_id)
    rules.check_not_revoked(previous)
    if not reason.strip():
        raise InvalidInput("a revocation gives its reason", field="reason")
    if revoked_on < previous.authorized_on:
        raise InvalidInput(
            f"version {previous.version} is dated {previous.authorized_on.isoformat()}: the "
            "revocation cannot be dated before it",
            field="revoked_on",
        )
    last = _last_first_transfer_on(uow, authorization_id)
    if last is not None and revoked_on <= last:
        raise AuthorizationChangeForbidden(
            f"units were first transferred under {authorization_id} on {last.isoformat()}: "
            "the revocation is dated after that day",
            authorization_id=authorization_id,
            last_first_transfer=last.isoformat(),
        )
    when = date_action(uow, replace(dating, action_date=revoked_on), (previous.party,))
    revoked = replace(
        previous,
        version=previous.version + 1,
        authorized_on=revoked_on,
        revoked_on=revoked_on,
        revocation_reason=reason,
        recorded_seq=uow.log.size(),
    )
    rules.check_authorization_elements(revoked)
    payload: dict[str, JsonValue] = {"authorization": to_json(revoked), **when.payload()}
    record_entry(uow, "authorization.recorded", payload, actor)
    return revoked


def _last_first_transfer_on(uow: UnitOfWork, authorization_id: str) -> date | None:
    """The latest action date of a first transfer under the authorization (recorded here)."""
    seqs = sorted(
        {
            b.first_transfer_seq
            for b in uow.projection.authorized_blocks(authorization_id)
            if b.first_transfer_seq is not None and b.first_transfer_seq >= 0
        }
    )
    dates = [action_date(Entry.from_canonical(body)) for body in uow.log.read_seqs(seqs)]
    return max(dates, default=None)


def record_authorized_entity(
    uow: UnitOfWork, entity: AuthorizedEntity, actor: str
) -> AppendedEntry:
    """Record an authorized entity; its action date is its date of authorization, not in the
    future. (It enters a Party's Table 5 through the authorizations and actions that name it,
    which are dated themselves.)"""
    approach_of(uow, entity.ca_id)
    if not entity.entity_id.strip() or not entity.name.strip():
        raise InvalidInput("an authorized entity needs an id and a name")
    if uow.projection.get_entity(entity.entity_id) is not None:
        raise AlreadyRegistered(f"entity {entity.entity_id} exists", entity=entity.entity_id)
    when = date_action(uow, Dating(entity.authorized_on), ())
    payload: dict[str, JsonValue] = {"entity": to_json(entity), **when.payload()}
    return record_entry(uow, "authorized_entity.recorded", payload, actor)


def authorize_units(
    uow: UnitOfWork,
    authorization_id: str,
    account_id: str,
    selection: UnitSelection,
    actor: str,
    *,
    dating: Dating = UNDATED,
) -> list[UnitBlock]:
    """Bind held, unauthorized units to an authorization (AEF action "Authorization"), dated
    ``dating``'s action date, on or after the authorization's date. If the Party's OIMP
    definition is "Authorization" — or "Issuance" for units issued before they were authorized
    — the first transfer is recorded now."""
    authorization = authorization_of(uow, authorization_id)
    account = account_of(uow, account_id)
    registry = registry_of(uow, account.registry_id)
    if registry.party != authorization.party:
        raise RegistryDoesNotOwnUnits(
            f"{authorization.party} can authorize only units held in its own registries"
        )
    when = date_action(uow, dating, (registry.party,))
    authorization = authorization_in_force(uow, authorization_id, when.on)
    carved = carve_blocks(
        uow,
        account_id,
        selection,
        eligible=lambda block: block.authorization_id is None and not block.first_transferred,
        on=when.on,
    )
    for block in carved.acted:
        rules.check_not_first_transferred(block)
        if block.authorization_id is not None:
            raise AuthorizationChangeForbidden(
                f"serials {block.first}-{block.last} are already authorized under "
                f"{block.authorization_id}",
                block_id=block.block_id,
            )
    total = uow.projection.authorized_quantity(authorization_id)
    for block in carved.acted:
        total += block.quantity
        rules.check_units_fit_authorization(authorization, block.attributes, total)
    acted = [replace(b, authorization_id=authorization_id) for b in carved.acted]
    payload: dict[str, JsonValue] = {
        "authorization_id": authorization_id,
        "version": authorization.version,
        "quantity": total_quantity(acted),
        **when.payload(),
        **blocks_payload(uow, [*carved.remainders, *acted], acted, carved.superseded),
    }
    record_entry(uow, "units.authorized", payload, actor)
    definition = authorization.first_transfer_definition
    if authorization.purposes.covers_oimp and definition in (
        FirstTransferDefinition.AUTHORIZATION,
        FirstTransferDefinition.ISSUANCE,
    ):
        assert definition is not None
        acted = record_first_transfer(uow, acted, definition.value, None, actor, when=when)
    return acted
