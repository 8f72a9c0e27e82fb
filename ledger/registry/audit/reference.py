"""Replay checks of the reference-data entries: Parties, NDCs, registries, cooperative
approaches, accounts, first-transfer definitions, authorizations (versions and revocations),
authorized entities, non-GHG conversions and Joint Committee decisions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ledger.errors import (
    AccountTypeMismatch,
    AlreadyRegistered,
    AuthorizationChangeForbidden,
    AuthorizedEntityNotFound,
    FirstTransferDefinitionConflict,
    InvalidInput,
    NdcPeriodReported,
)
from ledger.log.chain import Entry
from ledger.registry import ndc, rules
from ledger.registry.audit.base import (
    AuditBase,
    _Broken,
    external_account_id,
)
from ledger.registry.codec import from_json
from ledger.registry.dating import ACTION_DATE, action_date
from ledger.registry.model import (
    ACCOUNT_ID,
    AUTHORIZATION_ID,
    CA_ID,
    PARTY_CODE,
    REGISTRY_ID,
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    FirstTransferDefinition,
    NdcDeclaration,
    Registry,
)
from ledger.registry.services.conversions import read_conversion
from ledger.registry.services.jcm import (
    read_decision,
)


class ReferenceChecks(AuditBase):
    """The handlers of the entries that record reference data."""

    def _party_registered(self, entry: Entry) -> None:
        party = ndc.registered_party(entry.payload["party"])
        self._well_formed(PARTY_CODE, party.code, "Party code")
        if self.state.get_party(party.code) is not None:
            raise AlreadyRegistered(f"Party {party.code} is registered twice")
        for declaration in party.declarations:
            ndc.check_declaration(declaration)

    def _ndc_declared(self, entry: Entry) -> None:
        party = self._party(entry.payload["party"])
        declaration = from_json(NdcDeclaration, entry.payload["ndc"])
        ndc.check_declaration(declaration)
        # The very same declaration again changes nothing (ledgers from before successive NDC
        # periods repeat it); another one must be a new period, disjoint from the others.
        ndc.check_new_period(party, declaration)

    def _ndc_amended(self, entry: Entry) -> None:
        p: Mapping[str, Any] = entry.payload
        party = self._party(p["party"])
        declaration = from_json(NdcDeclaration, p["ndc"])
        ndc.check_declaration(declaration)
        period = ndc.period_to_amend(party, declaration)
        if p["version"] != period.version + 1 or period.declaration == declaration:
            raise _Broken("ndc-versions-in-sequence", "an amendment is the next version")
        reported = [
            year
            for (code, year, _version) in self.state.submissions
            if code == party.code and declaration.covers(year)
        ]
        if reported:
            raise NdcPeriodReported(
                f"{party.code} submitted its AEF for {min(reported)}, in the period amended"
            )

    def _registry_registered(self, entry: Entry) -> None:
        registry = from_json(Registry, entry.payload["registry"])
        self._well_formed(REGISTRY_ID, registry.registry_id, "registry id")
        self._party(registry.party)
        if not registry.registry_id.startswith(registry.party):
            raise InvalidInput("a Party ITMO registry id starts with its Party code")
        if self.state.get_registry(registry.registry_id) is not None:
            raise AlreadyRegistered(f"registry {registry.registry_id} is registered twice")

    def _approach_registered(self, entry: Entry) -> None:
        approach = from_json(CooperativeApproach, entry.payload["approach"])
        self._well_formed(CA_ID, approach.ca_id, "cooperative approach id")
        if len(set(approach.parties)) < 2:
            raise InvalidInput("a cooperative approach needs at least two participating Parties")
        for code in approach.parties:
            self._party(code)
        if self.state.get_cooperative_approach(approach.ca_id) is not None:
            raise AlreadyRegistered(f"{approach.ca_id} is registered twice")

    def _account_opened(self, entry: Entry) -> None:
        account = from_json(Account, entry.payload["account"])
        self._well_formed(ACCOUNT_ID, account.account_id, "account id")
        registry = self._registry(account.registry_id)
        if registry.hosted:
            if not account.account_id.startswith(account.registry_id + "-"):
                raise InvalidInput("an account id starts with its registry id and a hyphen")
        elif (
            account.account_id != external_account_id(registry.registry_id)
            or account.account_type is not AccountType.HOLDING
        ):
            raise AccountTypeMismatch("accounts are opened only in registries hosted here")
        if self.state.get_account(account.account_id) is not None:
            raise AlreadyRegistered(f"account {account.account_id} is opened twice")
        rules.check_account_definition(account)

    def _definition_declared(self, entry: Entry) -> None:
        p: Mapping[str, Any] = entry.payload
        code, ca_id = p["party"], p["ca_id"]
        self._party(code)
        if code not in self._approach(ca_id).parties:
            raise InvalidInput(f"{code} does not participate in {ca_id}")
        FirstTransferDefinition(p["definition"])
        if self.state.get_first_transfer_definition(str(code), str(ca_id)) is not None:
            raise FirstTransferDefinitionConflict(
                f"{code} declares its OIMP first-transfer definition for {ca_id} again"
            )

    def _authorization_recorded(self, entry: Entry) -> None:
        granted = from_json(Authorization, entry.payload["authorization"])
        self._well_formed(AUTHORIZATION_ID, granted.authorization_id, "authorization id")
        self._party(granted.party)
        if granted.party not in self._approach(granted.ca_id).parties:
            raise InvalidInput(f"{granted.party} does not participate in {granted.ca_id}")
        for code in granted.authorized_parties:
            self._party(code)
        for entity_id in granted.authorized_entities:
            if self.state.get_entity(entity_id) is None:
                raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded")
        if granted.vintage_from > granted.vintage_to:
            raise InvalidInput("vintage_from must not exceed vintage_to")
        rules.check_vintage(granted.vintage_from)
        if granted.quantity is not None and granted.quantity <= 0:
            raise InvalidInput("an authorized quantity must be positive")
        rules.check_authorization_elements(granted)
        if granted.tracking_registry is not None:
            self._registry(granted.tracking_registry)
        if granted.purposes.covers_oimp != (granted.first_transfer_definition is not None):
            raise InvalidInput("an OIMP authorization, and only one, states its definition")
        if not granted.purposes.covers_oimp and granted.oimp_authorized is not None:
            raise InvalidInput("OIMP applies only to OIMP purposes")
        definition = granted.first_transfer_definition
        if definition is not None:
            declared = self.state.get_first_transfer_definition(granted.party, granted.ca_id)
            if declared is not definition:
                raise FirstTransferDefinitionConflict(
                    f"{granted.party} declared {declared} for {granted.ca_id}, not {definition}"
                )
        if ACTION_DATE in entry.payload and action_date(entry) != granted.authorized_on:
            raise _Broken("authorization-dated", "an authorization is dated its authorized_on")
        if granted.recorded_seq != entry.seq:
            raise _Broken("authorization-recorded-once", "recorded_seq is not the entry's seq")
        previous = self.state.get_authorization(granted.authorization_id)
        if previous is None:
            if granted.version != 1 or granted.revoked:
                raise AuthorizationChangeForbidden("a new authorization starts at version 1")
            return
        if granted.version != previous.version + 1:
            raise AuthorizationChangeForbidden("authorization versions follow each other")
        rules.check_not_revoked(previous)
        if granted.revoked:
            assert granted.revoked_on is not None
            unchanged = dataclasses.replace(
                previous,
                version=granted.version,
                authorized_on=granted.authorized_on,
                revoked_on=granted.revoked_on,
                revocation_reason=granted.revocation_reason,
                recorded_seq=granted.recorded_seq,
            )
            if granted != unchanged or granted.revoked_on < previous.authorized_on:
                raise _Broken(
                    "authorization-revocation",
                    "a revoking version changes nothing but its date and the revocation",
                )
            last = self._first_transferred_on.get(granted.authorization_id)
            if last is not None and granted.revoked_on <= last:
                raise AuthorizationChangeForbidden(
                    f"units were first transferred under it on {last.isoformat()}"
                )
        if (previous.party, previous.ca_id) != (granted.party, granted.ca_id):
            raise AuthorizationChangeForbidden("a version changes the Party or approach")
        held = self.state.authorized_quantity(granted.authorization_id)
        if granted.quantity is not None and granted.quantity < held:
            raise AuthorizationChangeForbidden("the new quantity is below the units authorized")

    def _conversion_recorded(self, entry: Entry) -> None:
        conversion = read_conversion(entry)
        self._approach(conversion.ca_id)
        rules.check_conversion(conversion, self._conversions)
        if action_date(entry) != conversion.authorized_on:
            raise _Broken("conversion-dated", "a conversion is dated its authorized_on")
        self._conversions.append(conversion)

    def _entity_recorded(self, entry: Entry) -> None:
        entity = from_json(AuthorizedEntity, entry.payload["entity"])
        if ACTION_DATE in entry.payload and action_date(entry) != entity.authorized_on:
            raise _Broken("authorization-dated", "an entity is dated its authorized_on")
        self._approach(entity.ca_id)
        if not entity.entity_id.strip() or not entity.name.strip():
            raise InvalidInput("an authorized entity needs an id and a name")
        if self.state.get_entity(entity.entity_id) is not None:
            raise AlreadyRegistered(f"entity {entity.entity_id} is recorded twice")

    def _decision_recorded(self, entry: Entry) -> None:
        decision = read_decision(entry.payload)
        if decision.decision_id in self._decisions:
            raise AlreadyRegistered(f"decision {decision.decision_id} is recorded twice")
        self._decisions[decision.decision_id] = decision
