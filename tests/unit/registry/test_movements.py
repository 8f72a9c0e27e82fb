"""Movements on the in-memory fakes: the first international transfer and the acquisition the
receiving registry records, domestic transfers, and transfers through an external registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ledger.errors import InsufficientHoldings, SerialsNotHeld, UnitsNotAuthorized
from ledger.registry import services
from ledger.registry.model import UnitBlock
from ledger.registry.services import FIRST_TRANSFER_TO_PARTY
from tests.fakes import FakeUnitOfWork
from tests.registry_world import attributes, authorization, issuance, move, quantity
from tests.unit.registry.in_memory import act, assert_refused, entries, holdings, kinds_since


def thai_units(uow: FakeUnitOfWork, **changes: Any) -> None:
    """Thailand authorizes 100 units for NDC use (serials 1..100 in THA01-GOV) and issues 50
    unauthorized ones to its project participant (serials 101..150 in THA01-PP)."""
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC", **changes), "T"))
    shares = issuance(("THA01-GOV", 100, "THA-NDC"), ("THA01-PP", 50, None))
    act(uow, lambda u: services.issue(u, shares, "THA01"))


def transfer(uow: FakeUnitOfWork, order: services.TransferOrder) -> list[UnitBlock]:
    return act(uow, lambda u: services.transfer(u, order, "THA01"))


def test_a_first_international_transfer_is_acquired_by_the_hosted_receiver(
    uow: FakeUnitOfWork,
) -> None:
    thai_units(uow)
    start = uow.log.size()
    moved = transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(30)))
    assert kinds_since(uow, start) == ["itmo.first_transfer", "itmo.acquisition"]
    first_transfer, acquisition = entries(uow, start)
    assert first_transfer.payload["subtype"] == FIRST_TRANSFER_TO_PARTY
    assert first_transfer.payload["acquiring_party"] == "JPN"
    assert acquisition.payload["transferring_party"] == "THA"
    assert all(b.first_transfer_seq == start and b.authorization_version == 1 for b in moved)
    assert holdings(uow) == {
        "JPN01-GOV": [(1, 30, False)],
        "THA01-GOV": [(31, 100, False)],
        "THA01-PP": [(101, 150, False)],
    }


def test_a_domestic_transfer_is_not_a_first_transfer(uow: FakeUnitOfWork) -> None:
    thai_units(uow)
    start = uow.log.size()
    moved = transfer(uow, move("THA01-PP", "THA01-GOV", quantity(20)))
    assert kinds_since(uow, start) == ["itmo.transfer"]
    assert [(b.first, b.last, b.first_transferred) for b in moved] == [(101, 120, False)]


def test_refused_transfers_leave_the_ledger_unchanged(uow: FakeUnitOfWork) -> None:
    thai_units(uow)
    assert_refused(
        uow,
        lambda u: services.transfer(u, move("THA01-PP", "JPN01-GOV", quantity(10)), "THA01"),
        UnitsNotAuthorized,
        "authorization-before-first-transfer",
    )
    assert_refused(
        uow,
        lambda u: services.transfer(u, move("THA01-GOV", "JPN01-GOV", quantity(101)), "THA01"),
        InsufficientHoldings,
        "holdings-non-negative",
    )


def test_units_leave_for_an_external_registry_and_come_back(uow: FakeUnitOfWork) -> None:
    thai_units(uow, authorized_parties=())

    def returning(first: int, last: int) -> services.ExternalAcquisition:
        return services.ExternalAcquisition(
            from_registry="CHE01",
            to_account="JPN01-GOV",
            attributes=attributes(),
            first=first,
            last=last,
            authorization_id="THA-NDC",
            authorization_version=1,
            first_transferred=True,
        )

    assert_refused(
        uow,
        lambda u: services.acquire_from_external(u, returning(1, 5), "JPN01"),
        SerialsNotHeld,
        "serial-held-by-account",
    )
    start = uow.log.size()
    transfer(uow, move("THA01-GOV", "CHE01-EXTERNAL", quantity(10)))
    act(uow, lambda u: services.acquire_from_external(u, returning(3, 7), "JPN01"))
    assert kinds_since(uow, start) == ["itmo.first_transfer", "itmo.acquisition"]
    assert holdings(uow)["CHE01-EXTERNAL"] == [(1, 2, False), (8, 10, False)]
    assert holdings(uow)["JPN01-GOV"] == [(3, 7, False)]
    # Units that originate in the external registry are new here.
    swiss = replace(
        returning(1, 50),
        attributes=replace(attributes(), registry_id="CHE01", first_transferring_party="CHE"),
    )
    start = uow.log.size()
    act(uow, lambda u: services.acquire_from_external(u, swiss, "JPN01"))
    assert kinds_since(uow, start) == ["itmo.acquisition"]
    assert holdings(uow)["JPN01-GOV"] == [(1, 50, False), (3, 7, False)]
