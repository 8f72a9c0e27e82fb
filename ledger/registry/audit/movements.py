"""Replay checks of the entries that act on units: issuance (and its Joint Committee decision),
authorization of units, first transfer, transfer, acquisition, use, OIMP use, cancellation, and
the inconsistency flags of checks and review results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import partial
from typing import Any

from ledger.errors import (
    AccountTypeMismatch,
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    AuthorizedEntityNotFound,
    FirstTransferPending,
    InvalidInput,
    NdcNotDeclared,
    OwnUnitsNotUsable,
    RegistryDoesNotOwnUnits,
    SerialsNotHeld,
    UnitsNotAuthorized,
)
from ledger.log.chain import Entry
from ledger.registry import rules
from ledger.registry.audit.base import (
    AuditBase,
    _Acted,
    _Broken,
    external_account_id,
)
from ledger.registry.dating import action_date
from ledger.registry.model import (
    Account,
    AccountType,
    CancellationKind,
    Registry,
    UnitAttributes,
    UnitBlock,
)
from ledger.registry.projection import block_key
from ledger.registry.services.jcm import (
    DecisionQuantityExceeded,
    IssuanceOutsideDecision,
    JcDecision,
)


class MovementChecks(AuditBase):
    """The handlers of the entries that act on units."""

    # --- actions ---------------------------------------------------------------------------

    def _issued(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        registry = self._registry(p["registry_id"])
        if not registry.hosted:
            raise AccountTypeMismatch("units are issued only into registries hosted here")
        if not acted or p.get("superseded") or len(acted) != len(p["blocks"]):
            raise _Broken("units-conserved", "an issuance only creates blocks")
        attributes = acted[0].after.attributes
        if (
            attributes.registry_id != registry.registry_id
            or attributes.first_transferring_party != registry.party
        ):
            raise InvalidInput("issued units originate in the issuing registry and its Party")
        if registry.party not in self._approach(attributes.ca_id).parties:
            raise InvalidInput(f"{registry.party} does not participate in {attributes.ca_id}")
        rules.check_vintage(attributes.vintage)
        rules.check_unit_metric(attributes)
        decision = self._follows_decision(entry, registry.registry_id, attributes, acted)
        serial = self.state.next_serial(block_key(acted[0].after))
        pending: dict[str, int] = defaultdict(int)
        for item in acted:
            block = item.after
            if item.before is not None or block.attributes != attributes:
                raise _Broken("units-conserved", "an issuance creates blocks of one kind")
            if block.first != serial:
                raise _Broken(
                    "serials-issued-in-order",
                    f"block {block.block_id} starts at {block.first}, not at {serial}",
                )
            serial = block.last + 1
            self._new_block_fields(block)
            if block.first_transferred or block.authorization_version is not None:
                raise _Broken("units-conserved", "issued units start not first transferred")
            account = self._account(block.account_id)
            direct = decision is not None and account.registry_id != registry.registry_id
            if account.account_type is not AccountType.HOLDING or (
                account.registry_id != registry.registry_id and not direct
            ):
                raise AccountTypeMismatch(f"issuance into {account.account_id}")
            if direct and block.authorization_id is None:
                raise UnitsNotAuthorized("a share issued directly is issued under an authorization")
            if block.authorization_id is not None:
                granted = self._version_for(entry, block.authorization_id)
                self._dated(entry, partial(rules.check_issuance_date, granted))
                pending[block.authorization_id] += block.quantity
                rules.check_units_fit_authorization(
                    granted,
                    attributes,
                    self.state.authorized_quantity(block.authorization_id)
                    + pending[block.authorization_id],
                )

    def _follows_decision(
        self, entry: Entry, registry_id: str, attributes: UnitAttributes, acted: list[_Acted]
    ) -> JcDecision | None:
        """An issuance citing a recorded Joint Committee decision follows it
        (``services.jcm.check_follows_decision``): its registry, approach, monitoring period,
        accounts and, with every earlier issuance citing it, each share's quantity."""
        reference = entry.payload.get("decision_reference")
        decision = self._decisions.get(reference) if isinstance(reference, str) else None
        if decision is None:
            return None
        if (registry_id, attributes.ca_id) != (decision.registry_id, decision.ca_id) or not (
            decision.monitoring_from.year <= attributes.vintage <= decision.monitoring_to.year
        ):
            raise IssuanceOutsideDecision(f"the issuance does not follow {decision.decision_id}")
        decided = {s.account_id: s.quantity for s in decision.shares}
        for item in acted:
            account_id = item.after.account_id
            if account_id not in decided:
                raise IssuanceOutsideDecision(f"{decision.decision_id} issues nothing to it")
            key = (decision.decision_id, account_id)
            self._decision_issued[key] += item.after.quantity
            if self._decision_issued[key] > decided[account_id]:
                raise DecisionQuantityExceeded(
                    f"{decision.decision_id} decided {decided[account_id]} for {account_id}"
                )
        return decision

    def _units_authorized(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        granted = self._version_for(entry, p["authorization_id"])
        if p["version"] != granted.version:
            raise AuthorizationChangeForbidden("units are authorized under the version in force")
        total = self.state.authorized_quantity(granted.authorization_id)
        for item in acted:
            before = self._existing(item)
            account = self._account(before.account_id)
            if self._party_of_account(account) != granted.party:
                raise RegistryDoesNotOwnUnits(
                    f"{granted.party} authorizes only units held in its own registries"
                )
            rules.check_not_retired(before)
            rules.check_not_first_transferred(before)
            if before.authorization_id is not None:
                raise AuthorizationChangeForbidden(f"block {before.block_id} is authorized")
            self._only(item, {"authorization_id"})
            if item.after.authorization_id != granted.authorization_id:
                raise _Broken("action-changes-its-fields-only", "units bound elsewhere")
            total += before.quantity
            rules.check_units_fit_authorization(granted, before.attributes, total)

    def _first_transfer(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        acquiring = p.get("acquiring_party")
        to_account = p.get("to_account")
        subtype = p.get("subtype")
        omge = subtype in {k.value for k in CancellationKind if k is not CancellationKind.OTHER}
        for item in acted:
            before = self._existing(item)
            if "from_account" in p:
                self._held_by(before, p["from_account"])
            source = self._account(before.account_id)
            rules.check_not_retired(before)
            rules.check_authorized(before)
            rules.check_not_first_transferred(before)
            granted = self._version_for(entry, before.authorization_id)
            latest = self._authorization(before.authorization_id, None)
            on = action_date(entry)
            known = self._first_transferred_on.get(granted.authorization_id)
            if known is None or on > known:
                self._first_transferred_on[granted.authorization_id] = on
            self._only(item, {"first_transfer_seq", "authorization_version", "account_id"})
            after = item.after
            if after.first_transfer_seq != entry.seq or after.authorization_version != (
                granted.version
            ):
                raise _Broken(
                    "one-first-transfer", "the first transfer pins this entry and the version"
                )
            if after.account_id != (to_account or before.account_id):
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if after.account_id != before.account_id:
                destination = self._account(after.account_id)
                party = self._party_of_account(destination)
                if destination.account_type is AccountType.HOLDING:
                    if acquiring != party or party == self._party_of_account(source):
                        raise AccountTypeMismatch("a first transfer goes to another Party")
                    if not latest.purposes.covers_ndc:
                        raise FirstTransferPending(
                            f"serials {before.first}-{before.last} are authorized for OIMP only"
                        )
                elif destination.account_type is not AccountType.ADAPTATION_FUND:
                    raise AccountTypeMismatch("use and cancellation have their own actions")
            elif acquiring is not None:
                # Direct issuance: the units were issued into the acquiring Party's registry.
                holder = self._party_of_account(source)
                if acquiring != holder or holder == before.attributes.first_transferring_party:
                    raise AccountTypeMismatch("a first transfer goes to another Party")
                if not latest.purposes.covers_ndc:
                    raise FirstTransferPending(
                        f"serials {before.first}-{before.last} are authorized for OIMP only"
                    )
            elif not (omge or granted.purposes.covers_oimp or latest.purposes.covers_oimp):
                raise UnitsNotAuthorized(
                    f"nothing fires the first transfer of serials {before.first}-{before.last}"
                )
            if acquiring is not None:
                allowed = partial(rules.check_transfer_allowed, granted, str(acquiring))
                self._dated(entry, allowed)
            else:
                self._dated(entry, partial(rules.check_timeframe, granted))

    def _transfer(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source = self._account(p["from_account"])
        destination = self._account(p["to_account"])
        if source.account_id == destination.account_id:
            raise InvalidInput("source and destination accounts are the same")
        if source.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch("units move only out of holding accounts")
        if destination.account_type not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND):
            raise AccountTypeMismatch("transfers go to a holding or Adaptation Fund account")
        if not self._registry(source.registry_id).hosted:
            raise RegistryDoesNotOwnUnits("units in an external registry are moved by that one")
        acquiring_party = self._party_of_account(destination)
        international = acquiring_party != self._party_of_account(source)
        if p["international"] is not international or p["acquiring_party"] != (
            acquiring_party if international else None
        ):
            raise _Broken("transfer-parties", "the entry misstates the Parties of the transfer")
        leaving = international or destination.account_type is AccountType.ADAPTATION_FUND
        for item in acted:
            before = self._existing(item)
            self._held_by(before, source.account_id)
            rules.check_not_retired(before)
            self._only(item, {"account_id"})
            if item.after.account_id != destination.account_id:
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if leaving:
                rules.check_authorized(before)
                if not before.first_transferred:
                    raise FirstTransferPending(
                        f"serials {before.first}-{before.last} leave before their first transfer"
                    )
            if international:
                granted = self._authorization(before.authorization_id, before.authorization_version)
                allowed = partial(rules.check_transfer_allowed, granted, acquiring_party)
                self._dated(entry, allowed)

    def _acquisition(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        destination = self._account(p["to_account"])
        destination_registry = self._registry(destination.registry_id)
        if not destination_registry.hosted:
            raise AccountTypeMismatch("acquisitions are recorded by registries hosted here")
        if p.get("from_registry") is None:
            # The receiving side of a transfer between hosted registries, recorded right after
            # it: the units are already there, first transferred, and stay as they are.
            if destination.account_type not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND):
                raise AccountTypeMismatch("transfers go to a holding or Adaptation Fund account")
            if p["transferring_party"] == destination_registry.party:
                raise _Broken("transfer-parties", "an acquisition comes from another Party")
            for item in acted:
                before = self._existing(item)
                self._only(item, set())
                self._held_by(before, destination.account_id)
                rules.check_first_transferred(before)
            return
        if destination.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch(
                "acquisitions from external registries go to a holding account"
            )
        source = self._registry(p["from_registry"])
        if source.hosted:
            raise InvalidInput("transfers between hosted registries are recorded by `transfer`")
        if p["transferring_party"] != source.party:
            raise _Broken("transfer-parties", "the entry misstates the transferring Party")
        international = destination_registry.party != source.party
        for item in acted:
            after = item.after
            if item.before is None:
                self._external_block(after, destination, source, international)
                continue
            before = item.before
            self._held_by(before, external_account_id(source.registry_id))
            rules.check_not_retired(before)
            self._only(item, {"account_id", "first_transfer_seq"})
            if after.account_id != destination.account_id:
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if after.first_transfer_seq != before.first_transfer_seq and not (
                international
                and before.first_transfer_seq is None
                and after.first_transfer_seq == -1
            ):
                raise _Broken("one-first-transfer", "the first transfer cannot change here")

    def _external_block(
        self, block: UnitBlock, destination: Account, source: Registry, international: bool
    ) -> None:
        """Units arriving from an external registry for the first time."""
        self._new_block_fields(block)
        rules.check_vintage(block.attributes.vintage)
        self._approach(block.attributes.ca_id)
        origin = self.state.get_registry(block.attributes.registry_id)
        if origin is not None and origin.hosted:
            raise SerialsNotHeld("units issued here can only come back, not arrive anew")
        if block.account_id != destination.account_id:
            raise _Broken("action-changes-its-fields-only", "units arrive elsewhere")
        overlapping = self._overlapping(block)
        if overlapping:
            raise _Broken(
                "serial-held-once", f"serials {block.first}-{block.last} are already held here"
            )
        if block.first_transfer_seq not in (None, -1):
            raise _Broken("one-first-transfer", "arriving units were first transferred elsewhere")
        if block.first_transferred and block.authorization_id is None:
            raise InvalidInput("ITMOs arrive with the authorization they were transferred under")
        if international and not block.first_transferred:
            raise UnitsNotAuthorized("units from another Party must already be ITMOs")

    def _use(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source, destination, registry = self._source_and_destination(entry, (AccountType.NDC_USE,))
        party = self._party(registry.party)
        if p["using_party"] != party.code:
            raise _Broken("use-by-holding-party", "the entry misstates the using Party")
        if not party.ndc_periods:
            raise NdcNotDeclared(f"{party.code} has not declared its NDC period")
        use_year = p["use_year"]
        if not isinstance(use_year, int) or isinstance(use_year, bool):
            raise InvalidInput("use towards an NDC needs the calendar year of use")
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            rules.check_use_within_ndc_periods(party, before.attributes.vintage, use_year)
            rules.check_use_year_not_before_vintage(before.attributes.vintage, use_year)
            rules.check_authorized(before)
            granted = self._authorization(before.authorization_id, before.authorization_version)
            rules.check_purpose(granted, ndc=True)
            if before.attributes.first_transferring_party == party.code:
                raise OwnUnitsNotUsable(f"serials {before.first}-{before.last} are {party.code}'s")
            rules.check_first_transferred(before)
            rules.check_not_inconsistent(before)
            rules.check_usable_metric(
                party.ndc_covering(use_year), before, lambda: self._conversions, action_date(entry)
            )

    def _oimp_use(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source, destination, registry = self._source_and_destination(entry, (AccountType.OIMP_USE,))
        purpose = p["oimp_purpose"]
        entity_id = p.get("entity_id")
        if not purpose:
            raise InvalidInput("OIMP use needs the purpose")
        if entity_id is not None and self.state.get_entity(str(entity_id)) is None:
            raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded")
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            rules.check_authorized(before)
            granted = self._authorization(before.authorization_id, before.authorization_version)
            rules.check_purpose(granted, ndc=False)
            if granted.oimp_authorized not in (None, purpose):
                raise AuthorizationLimitExceeded(f"authorized for OIMP {granted.oimp_authorized}")
            entity = None if entity_id is None else str(entity_id)
            allowed = partial(rules.check_transfer_allowed, granted, registry.party, entity=entity)
            self._dated(entry, allowed)
            if not before.first_transferred:
                raise FirstTransferPending(
                    f"serials {before.first}-{before.last} are used before their first transfer"
                )

    def _cancellation(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        kind = CancellationKind(p["subtype"])
        wanted = (
            AccountType.CANCELLATION
            if kind is CancellationKind.OTHER
            else AccountType.VOLUNTARY_CANCELLATION
        )
        source, destination, _registry = self._source_and_destination(entry, (wanted,))
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            if before.first_transferred or before.authorization_id is None:
                continue
            granted = self._authorization(before.authorization_id, None)
            if kind is not CancellationKind.OTHER or granted.purposes.covers_oimp:
                raise FirstTransferPending(
                    f"serials {before.first}-{before.last} are cancelled before the first "
                    "transfer this cancellation is"
                )

    def _flagged(self, entry: Entry, acted: list[_Acted]) -> None:
        """A check or review result flags blocks and resolves open flags, each with a reason:
        it changes nothing but the flag."""
        raw: Any = entry.payload.get("resolved", ())
        resolved = {int(r["block_id"]): str(r["reason"]) for r in raw}
        if len(resolved) != len(raw) or not set(resolved) <= {i.after.block_id for i in acted}:
            raise _Broken("flag-resolved-once", "the entry resolves blocks it does not record")
        for item in acted:
            before = self._existing(item)
            if item.after.block_id in resolved:
                self._only(item, {"inconsistent"})
                if not before.inconsistent or item.after.inconsistent:
                    raise _Broken(
                        "flag-resolved-once", f"block {before.block_id} has no open flag to resolve"
                    )
                if not resolved[item.after.block_id].strip():
                    raise _Broken("flag-resolved-with-reason", "a flag is resolved without reason")
                continue
            if before.inconsistent:
                raise _Broken("flagged-once", f"block {before.block_id} is already flagged")
            self._only(item, {"inconsistent"})
            if not item.after.inconsistent:
                raise _Broken("action-changes-its-fields-only", "the flag is not set")
