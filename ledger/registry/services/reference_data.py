"""Reference data: Parties and their NDCs, registries, cooperative approaches, accounts and the
OIMP first-transfer definitions. Each is one entry (a registry hosted elsewhere also opens the
account its units sit in once transferred there)."""

from __future__ import annotations

from ledger.errors import (
    AccountTypeMismatch,
    AlreadyRegistered,
    FirstTransferDefinitionConflict,
    InvalidInput,
)
from ledger.log.canonical import JsonValue
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import ndc, rules
from ledger.registry.codec import to_json
from ledger.registry.model import (
    ACCOUNT_ID,
    CA_ID,
    PARTY_CODE,
    REGISTRY_ID,
    Account,
    AccountType,
    CooperativeApproach,
    FirstTransferDefinition,
    NdcDeclaration,
    Party,
    Registry,
)
from ledger.registry.services.lookups import (
    approach_of,
    external_account_id,
    party_of,
    registry_of,
    require_format,
)


def register_party(uow: UnitOfWork, party: Party, actor: str) -> AppendedEntry:
    """Register a Party, with its first NDC period or none (further periods: :func:`declare_ndc`).
    The declaration is validated completely (:func:`ledger.registry.ndc.check_declaration`)."""
    require_format(PARTY_CODE, party.code, "Party code (ISO 3166-1 alpha-3)")
    if uow.projection.get_party(party.code) is not None:
        raise AlreadyRegistered(f"Party {party.code} is already registered", party=party.code)
    payload = ndc.registered_party_payload(party)
    for declaration in party.declarations:
        ndc.check_declaration(declaration)
    return record_entry(uow, "party.registered", {"party": payload}, actor)


def declare_ndc(
    uow: UnitOfWork, party_code: str, declaration: NdcDeclaration, actor: str
) -> AppendedEntry | None:
    """Declare one of the Party's NDC periods: type, period, CA method, NDC year and non-GHG
    unit. The declaration is validated completely, and the period may not overlap another one of
    the Party's (successive periods, e.g. 2021-2030 then 2031-2035). The method applies
    consistently over the whole period (2/CMA.3 para 7): a declared period changes only by
    amendment (``ledger.accounting.reporting.amend_ndc``). Declaring the very same period again
    records nothing and returns ``None``."""
    party = party_of(uow, party_code)
    ndc.check_declaration(declaration)
    if not ndc.check_new_period(party, declaration):
        return None
    payload: dict[str, JsonValue] = {"party": party_code, "ndc": to_json(declaration)}
    return record_entry(uow, "ndc.declared", payload, actor)


def register_registry(uow: UnitOfWork, registry: Registry, actor: str) -> AppendedEntry:
    require_format(REGISTRY_ID, registry.registry_id, "registry id (Party code + 2 digits)")
    party_of(uow, registry.party)
    if not registry.registry_id.startswith(registry.party):
        raise InvalidInput("a Party ITMO registry id starts with its Party code")
    if uow.projection.get_registry(registry.registry_id) is not None:
        raise AlreadyRegistered(
            f"registry {registry.registry_id} already exists", registry_id=registry.registry_id
        )
    appended = record_entry(uow, "registry.registered", {"registry": to_json(registry)}, actor)
    if not registry.hosted:
        holding = Account(
            external_account_id(registry.registry_id),
            registry.registry_id,
            AccountType.HOLDING,
            f"Units held in external registry {registry.registry_id}",
        )
        appended = record_entry(uow, "account.opened", {"account": to_json(holding)}, actor)
    return appended


def register_cooperative_approach(
    uow: UnitOfWork, approach: CooperativeApproach, actor: str
) -> AppendedEntry:
    require_format(CA_ID, approach.ca_id, "cooperative approach id (CA + 4 digits)")
    if len(set(approach.parties)) < 2:
        raise InvalidInput("a cooperative approach needs at least two participating Parties")
    for code in approach.parties:
        party_of(uow, code)
    if uow.projection.get_cooperative_approach(approach.ca_id) is not None:
        raise AlreadyRegistered(f"{approach.ca_id} already exists", ca_id=approach.ca_id)
    return record_entry(
        uow, "cooperative_approach.registered", {"approach": to_json(approach)}, actor
    )


def open_account(uow: UnitOfWork, account: Account, actor: str) -> AppendedEntry:
    require_format(ACCOUNT_ID, account.account_id, "account id (<registry id>-<name>)")
    registry = registry_of(uow, account.registry_id)
    if not registry.hosted:
        raise AccountTypeMismatch("accounts are opened only in registries hosted here")
    if not account.account_id.startswith(account.registry_id + "-"):
        raise InvalidInput("an account id starts with its registry id and a hyphen")
    rules.check_account_definition(account)
    if uow.projection.get_account(account.account_id) is not None:
        raise AlreadyRegistered(
            f"account {account.account_id} exists", account_id=account.account_id
        )
    return record_entry(uow, "account.opened", {"account": to_json(account)}, actor)


def declare_first_transfer_definition(
    uow: UnitOfWork, party_code: str, ca_id: str, definition: FirstTransferDefinition, actor: str
) -> AppendedEntry | None:
    """One OIMP first-transfer definition per (Party, cooperative approach); repeating the same
    one is a no-op, a different one is refused."""
    party_of(uow, party_code)
    approach = approach_of(uow, ca_id)
    if party_code not in approach.parties:
        raise InvalidInput(f"{party_code} does not participate in {ca_id}")
    existing = uow.projection.get_first_transfer_definition(party_code, ca_id)
    if existing is definition:
        return None
    if existing is not None:
        raise FirstTransferDefinitionConflict(
            f"{party_code} already defined the OIMP first transfer for {ca_id} as "
            f"{existing.value!r}",
            party=party_code,
            ca_id=ca_id,
            declared=existing.value,
            requested=definition.value,
        )
    payload: dict[str, JsonValue] = {
        "party": party_code,
        "ca_id": ca_id,
        "definition": definition.value,
    }
    return record_entry(uow, "first_transfer_definition.declared", payload, actor)
