"""Shared look-ups of the use cases: load a record or raise its named "not found" error,
and the checks of identifiers and ownership every action family makes."""

from __future__ import annotations

from datetime import date
from re import Pattern

from ledger.errors import (
    AccountNotFound,
    AuthorizationNotFound,
    BlockNotFound,
    CooperativeApproachNotFound,
    InvalidInput,
    PartyNotFound,
    RegistryDoesNotOwnUnits,
    RegistryNotFound,
)
from ledger.ports import UnitOfWork
from ledger.registry import rules
from ledger.registry.model import (
    Account,
    Authorization,
    CooperativeApproach,
    Party,
    Registry,
    parse_itmo_id,
)
from ledger.registry.projection import BlockEvent


def require_format(pattern: Pattern[str], value: str, what: str) -> None:
    """Refuse an identifier that does not have its documented format."""
    if not pattern.match(value):
        raise InvalidInput(f"{value!r} is not a valid {what}", field=what, value=value)


def party_of(uow: UnitOfWork, code: str) -> Party:
    party = uow.projection.get_party(code)
    if party is None:
        raise PartyNotFound(f"Party {code} is not registered", party=code)
    return party


def registry_of(uow: UnitOfWork, registry_id: str) -> Registry:
    registry = uow.projection.get_registry(registry_id)
    if registry is None:
        raise RegistryNotFound(f"registry {registry_id} is not known", registry_id=registry_id)
    return registry


def approach_of(uow: UnitOfWork, ca_id: str) -> CooperativeApproach:
    approach = uow.projection.get_cooperative_approach(ca_id)
    if approach is None:
        raise CooperativeApproachNotFound(
            f"cooperative approach {ca_id} is not registered", ca_id=ca_id
        )
    return approach


def account_of(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.projection.get_account(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=account_id)
    return account


def authorization_of(
    uow: UnitOfWork, authorization_id: str, version: int | None = None
) -> Authorization:
    found = uow.projection.get_authorization(authorization_id, version)
    if found is None:
        raise AuthorizationNotFound(
            f"authorization {authorization_id} does not exist", authorization_id=authorization_id
        )
    return found


def authorization_in_force(uow: UnitOfWork, authorization_id: str, on: date) -> Authorization:
    """The version of the authorization in force on ``on``: the latest one dated on or before
    it. :class:`~ledger.errors.ActionBeforeAuthorization` if even its first version is dated
    later."""
    found = authorization_of(uow, authorization_id)
    while found.authorized_on > on and found.version > 1:
        found = authorization_of(uow, authorization_id, found.version - 1)
    rules.check_authorized_by(found, on)
    return found


def external_account_id(registry_id: str) -> str:
    """Where units sit once transferred to an external registry."""
    return f"{registry_id}-EXTERNAL"


def ensure_registry_owns_account(uow: UnitOfWork, account_id: str, registry_id: str) -> None:
    """Only the registry holding units can move them (the HTTP layer passes the caller's
    registry)."""
    account = account_of(uow, account_id)
    if account.registry_id != registry_id:
        raise RegistryDoesNotOwnUnits(
            f"account {account_id} belongs to {account.registry_id}, not {registry_id}",
            account_id=account_id,
            registry_id=registry_id,
        )


def serial_history(uow: UnitOfWork, itmo_id: str) -> list[BlockEvent]:
    """Every action on the unit ``itmo_id`` (``CA0001-THA01-THA-<serial>-<vintage>``), in seq
    order; :class:`InvalidInput` for a malformed id, :class:`BlockNotFound` for a unit this
    ledger never held."""
    try:
        ca_id, registry_id, party, serial, vintage = parse_itmo_id(itmo_id)
    except ValueError as exc:
        raise InvalidInput(str(exc), itmo_id=itmo_id) from exc
    events = uow.projection.block_history((ca_id, registry_id, party, vintage), serial)
    if not events:
        raise BlockNotFound(f"no unit {itmo_id} on this ledger", itmo_id=itmo_id)
    return events
