"""Authorization use cases on the in-memory fakes: versions of an authorization, authorized
entities, and the authorization of held units (which first-transfers units whose OIMP definition
is "Authorization")."""

from __future__ import annotations

from datetime import date

from ledger.errors import (
    AlreadyRegistered,
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    InvalidInput,
    RegistryDoesNotOwnUnits,
)
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import Authorization, FirstTransferDefinition, Purpose
from tests.fakes import FakeUnitOfWork
from tests.registry_world import NOW, authorization, entity, issuance, quantity
from tests.unit.registry.in_memory import act, assert_refused, holdings, kinds_since


def record(uow: FakeUnitOfWork, draft: Authorization) -> Authorization:
    return act(uow, lambda u: services.record_authorization(u, draft, "THA01"))


def corsia(quantity_: int | None = None) -> Authorization:
    """Mongolia's CORSIA authorization: first transfer at authorization, entity MNG-E1 only."""
    return authorization(
        "MNG-CORSIA",
        "MNG",
        "CA0002",
        Purpose.OIMP,
        quantity=quantity_,
        authorized_entities=("MNG-E1",),
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
    )


def test_each_recording_of_an_authorization_is_a_new_version(uow: FakeUnitOfWork) -> None:
    first = record(uow, authorization("THA-NDC", quantity=100))
    second = record(uow, authorization("THA-NDC", quantity=200))
    assert (first.version, second.version) == (1, 2)
    assert second.recorded_seq == first.recorded_seq + 1
    assert uow.projection.get_authorization("THA-NDC") == second
    assert uow.projection.get_authorization("THA-NDC", 1) == first


def test_refused_authorizations_leave_the_ledger_unchanged(uow: FakeUnitOfWork) -> None:
    record(uow, authorization("THA-NDC"))
    assert_refused(
        uow,
        lambda u: services.record_authorization(u, authorization("THA-NDC", "JPN"), "JPN01"),
        AuthorizationChangeForbidden,
        "authorization-change",
    )
    assert_refused(
        uow,
        lambda u: services.record_authorization(
            u, authorization("THA-2", vintage_from=2026, vintage_to=2025), "THA01"
        ),
        InvalidInput,
        "invalid-input",
    )
    assert_refused(
        uow,
        lambda u: services.record_authorization(
            u, authorization("THA-3", purposes=Purpose.OIMP), "THA01"
        ),
        InvalidInput,
        "invalid-input",
    )


def test_an_authorized_entity_is_recorded_once(uow: FakeUnitOfWork) -> None:
    start = uow.log.size()
    act(uow, lambda u: services.record_authorized_entity(u, entity("MNG-E1"), "MNG01"))
    assert kinds_since(uow, start) == ["authorized_entity.recorded"]
    assert_refused(
        uow,
        lambda u: services.record_authorized_entity(u, entity("MNG-E1"), "MNG01"),
        AlreadyRegistered,
        "unique-identifier",
    )


def test_authorizing_held_units_first_transfers_them_under_that_definition(
    uow: FakeUnitOfWork,
) -> None:
    act(uow, lambda u: services.record_authorized_entity(u, entity("MNG-E1"), "MNG01"))
    mongolian = issuance(("MNG01-GOV", 100, None), registry_id="MNG01", ca_id="CA0002")
    act(uow, lambda u: services.issue(u, mongolian, "MNG01"))
    start = uow.log.size()
    act(uow, lambda u: services.record_authorization(u, corsia(quantity_=80), "MNG01"))
    authorized = act(
        uow,
        lambda u: services.authorize_units(u, "MNG-CORSIA", "MNG01-GOV", quantity(60), "MNG01"),
    )
    assert kinds_since(uow, start) == [
        "first_transfer_definition.declared",
        "authorization.recorded",
        "units.authorized",
        "itmo.first_transfer",
    ]
    assert [(b.first, b.last, b.authorization_version) for b in authorized] == [(1, 60, 1)]
    assert all(b.first_transferred for b in authorized)
    assert holdings(uow) == {"MNG01-GOV": [(1, 60, False), (61, 100, False)]}
    assert_refused(
        uow,
        lambda u: services.authorize_units(u, "MNG-CORSIA", "MNG01-GOV", quantity(21), "MNG01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    assert_refused(
        uow,
        lambda u: services.authorize_units(u, "MNG-CORSIA", "JPN01-GOV", quantity(1), "MNG01"),
        RegistryDoesNotOwnUnits,
        "owning-registry-moves",
    )


def test_a_refusal_after_the_first_entries_rolls_the_whole_action_back(
    uow: FakeUnitOfWork,
) -> None:
    """A new version (dated the day it is recorded) adding OIMP with first transfer at
    authorization appends the definition and the version, then finds it cannot first-transfer
    the bound units (the version has expired): nothing of it stays."""
    record(uow, authorization("THA-NDC"))
    act(uow, lambda u: services.issue(u, issuance(("THA01-GOV", 10, "THA-NDC")), "THA01"))
    expired = authorization(
        "THA-NDC",
        purposes=Purpose.NDC_AND_OIMP,
        first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
        authorized_on=NOW.date(),
        valid_until=date(2025, 12, 31),
    )
    before = uow.log.size()
    size_at_refusal: list[int] = []

    def new_version(u: UnitOfWork) -> None:
        try:
            services.record_authorization(u, expired, "THA01")
        finally:
            size_at_refusal.append(u.log.size())

    assert_refused(uow, new_version, AuthorizationLimitExceeded, "authorization-limits")
    assert size_at_refusal == [before + 2]
    assert uow.log.size() == before
    assert uow.projection.get_first_transfer_definition("THA", "CA0001") is None
