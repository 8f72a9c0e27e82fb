"""Regressions found in review: every path to a lost or duplicated first transfer, and a
registry flagging another Party's units inconsistent."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.errors import (
    AlreadyFirstTransferred,
    InvalidInput,
    NotFirstTransferred,
)
from ledger.registry import services
from ledger.registry.model import FirstTransferDefinition, Purpose, Registry
from tests.integration.registry.world import assert_nothing_changed, entries, read, write
from tests.registry_world import (
    ADMIN,
    NOW,
    attributes,
    authorization,
    first_transfer_counts,
    issuance,
    quantity,
    serials,
    use,
)


def test_a_version_adding_oimp_first_transfers_units_bound_to_it(world: Engine) -> None:
    """v1 is NDC only and units are bound to it; v2 (dated the day it is recorded) adds OIMP
    with the "Authorization" definition: those units are first transferred when v2 is recorded,
    once."""
    write(world, lambda u: services.record_authorization(u, authorization("THA-A"), "THA01"))
    write(world, lambda u: services.issue(u, issuance(("THA01-GOV", 100, None)), "THA01"))
    write(
        world,
        lambda u: services.authorize_units(u, "THA-A", "THA01-GOV", quantity(100), "THA01"),
    )
    assert first_transfer_counts(entries(world)) == {}
    write(
        world,
        lambda u: services.record_authorization(
            u,
            authorization(
                "THA-A",
                purposes=Purpose.NDC_AND_OIMP,
                oimp_authorized="CORSIA",
                first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
                authorized_on=NOW.date(),
            ),
            "THA01",
        ),
    )
    counts = first_transfer_counts(entries(world))
    assert len(counts) == 100
    assert set(counts.values()) == {1}
    write(
        world,
        lambda u: services.use_for_oimp(
            u,
            services.UseOrder("THA01-GOV", "THA01-OIMP", quantity(100), oimp_purpose="CORSIA"),
            "THA01",
        ),
    )
    assert set(first_transfer_counts(entries(world)).values()) == {1}
    facts = read(world, lambda u: reporting.party_facts(u, "THA").first_transfers)
    assert sum(f.quantity for f in facts) == 100


def test_ndc_use_needs_units_that_were_first_transferred(world: Engine) -> None:
    write(world, lambda u: services.record_authorization(u, authorization("THA-A"), "THA01"))
    write(
        world,
        lambda u: services.register_registry(
            u, Registry("JPN02", "JPN", "Japan external", False), ADMIN
        ),
    )
    order = services.ExternalAcquisition(
        from_registry="JPN02",
        to_account="JPN01-GOV",
        attributes=attributes("THA02"),
        first=1,
        last=50,
        authorization_id="THA-A",
        authorization_version=None,
        first_transferred=False,
    )
    write(world, lambda u: services.acquire_from_external(u, order, "JPN01"))
    assert_nothing_changed(
        world,
        lambda u: services.use_for_ndc(u, use("JPN01-GOV", "JPN01-NDC", quantity(50)), "JPN01"),
        NotFirstTransferred,
        "ndc-use-of-itmos-only",
    )


def test_units_crossing_parties_through_an_external_registry_arrive_first_transferred(
    world: Engine,
) -> None:
    write(world, lambda u: services.record_authorization(u, authorization("THA-A"), "THA01"))
    write(
        world,
        lambda u: services.register_registry(
            u, Registry("THA02", "THA", "Thai external", False), ADMIN
        ),
    )
    write(world, lambda u: services.issue(u, issuance(("THA01-GOV", 100, "THA-A")), "THA01"))
    write(
        world,
        lambda u: services.transfer(
            u, services.TransferOrder("THA01-GOV", "THA02-EXTERNAL", quantity(100)), "THA01"
        ),
    )
    order = services.ExternalAcquisition(
        from_registry="THA02",
        to_account="JPN01-GOV",
        attributes=attributes("THA01"),
        first=1,
        last=100,
        authorization_id="THA-A",
        authorization_version=None,
        first_transferred=True,
    )
    arrived = write(world, lambda u: services.acquire_from_external(u, order, "JPN01"))
    assert all(b.first_transfer_seq == -1 for b in arrived)


def test_itmos_arrive_with_their_authorization_and_are_never_first_transferred_again(
    world: Engine,
) -> None:
    write(
        world,
        lambda u: services.record_authorization(
            u,
            authorization(
                "THA-O",
                purposes=Purpose.OIMP,
                oimp_authorized="CORSIA",
                first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
            ),
            "THA01",
        ),
    )
    order = services.ExternalAcquisition(
        from_registry="CHE01",
        to_account="THA01-GOV",
        attributes=attributes("THA02"),
        first=1,
        last=10,
        authorization_id=None,
        authorization_version=None,
        first_transferred=True,
    )
    assert_nothing_changed(
        world,
        lambda u: services.acquire_from_external(u, order, "THA01"),
        InvalidInput,
        "invalid-input",
    )
    with_authorization = replace(order, authorization_id="THA-O", authorization_version=1)
    write(world, lambda u: services.acquire_from_external(u, with_authorization, "THA01"))
    assert_nothing_changed(
        world,
        lambda u: services.authorize_units(
            u, "THA-O", "THA01-GOV", serials((1, 10), registry_id="THA02"), "THA01"
        ),
        AlreadyFirstTransferred,
        "one-first-transfer",
    )
