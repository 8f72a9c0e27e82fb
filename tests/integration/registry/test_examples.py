"""Golden cases T7 and T8 of article6.md §2.3, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from ledger.errors import (
    AccountTypeMismatch,
    UnitsAlreadyRetired,
    UnitsNotAuthorized,
    UseOutsideNdcPeriod,
    VintageBefore2021,
)
from ledger.registry import services
from ledger.registry.model import FirstTransferDefinition, Purpose
from tests.integration.registry.world import (
    assert_nothing_changed,
    blocks_in,
    entries,
    held_quantity,
    kinds_since,
    size,
    write,
)
from tests.registry_world import (
    acted_blocks,
    attributes,
    authorization,
    first_transfer_counts,
    issuance,
    move,
    quantity,
    serials,
    use,
)

ISSUED_ON = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TRANSFERRED_ON = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)


def test_t7_dual_authorization_is_first_transferred_at_issuance(world: Engine) -> None:
    """ "NDC and OIMP" with the OIMP definition "Issuance": the first transfer is recorded at the
    10 Mar 2026 issuance (the earlier event); the 5 Jun 2026 international move is a plain
    transfer, and the host's adjustment is booked once, to the vintage year."""
    write(
        world,
        lambda uow: services.record_authorization(
            uow,
            authorization(
                "THA-DUAL",
                purposes=Purpose.NDC_AND_OIMP,
                first_transfer_definition=FirstTransferDefinition.ISSUANCE,
                oimp_authorized="CORSIA",
                authorized_parties=("JPN",),
            ),
            "THA01",
        ),
    )
    start = size(world)
    write(
        world,
        lambda uow: services.issue(
            uow, issuance(("THA01-GOV", 500, "THA-DUAL"), vintage=2025), "T"
        ),
        when=ISSUED_ON,
    )
    issued, first_transfer = entries(world, start)
    assert (issued.kind, first_transfer.kind) == ("mo.issued", "itmo.first_transfer")
    assert first_transfer.timestamp == ISSUED_ON
    assert first_transfer.payload["subtype"] == "Issuance"
    assert first_transfer.payload["acquiring_party"] is None
    (held,) = blocks_in(world, "THA01-GOV")
    assert (held.first_transfer_seq, held.authorization_version) == (first_transfer.seq, 1)

    start = size(world)
    write(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(500)), "T"),
        when=TRANSFERRED_ON,
    )
    moved, acquired = entries(world, start)
    assert (moved.kind, acquired.kind) == ("itmo.transfer", "itmo.acquisition")
    assert moved.timestamp == TRANSFERRED_ON
    assert (moved.payload["acquiring_party"], moved.payload["international"]) == ("JPN", True)
    assert acquired.payload["transferring_party"] == "THA"
    (arrived,) = blocks_in(world, "JPN01-GOV")
    assert (arrived.first, arrived.last) == (1, 500)
    assert arrived.first_transfer_seq == first_transfer.seq

    all_entries = entries(world)
    counts = first_transfer_counts(all_entries)
    assert set(counts.values()) == {1}
    assert len(counts) == 500
    # FT by vintage, as the host's corresponding adjustment books it: once, to 2025.
    booked: dict[int, int] = {}
    for entry in all_entries:
        if entry.kind == "itmo.first_transfer":
            for block in acted_blocks(entry):
                if block.attributes.first_transferring_party == "THA":
                    vintage = block.attributes.vintage
                    booked[vintage] = booked.get(vintage, 0) + block.quantity
    assert booked == {2025: 500}


def test_t8_rejects(world: Engine) -> None:
    write(
        world,
        lambda uow: services.record_authorization(
            uow, authorization("THA-NDC", authorized_parties=("JPN",)), "THA01"
        ),
    )
    write(
        world,
        lambda uow: services.issue(
            uow, issuance(("THA01-GOV", 100, "THA-NDC"), ("THA01-PP", 50, None)), "T"
        ),
    )
    write(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(100)), "T"),
    )

    # Use of a vintage-2020 ITMO: no such unit can even enter the ledger (para 1(e)).
    assert_nothing_changed(
        world,
        lambda uow: services.issue(uow, issuance(("THA01-GOV", 10, None), vintage=2020), "T"),
        VintageBefore2021,
        "vintage-from-2021",
    )
    assert_nothing_changed(
        world,
        lambda uow: services.acquire_from_external(
            uow,
            services.ExternalAcquisition(
                from_registry="CHE01",
                to_account="JPN01-GOV",
                attributes=attributes("CHE01", "CA0001", 2020),
                first=1,
                last=10,
                authorization_id="CHE-2020",
                authorization_version=1,
                first_transferred=True,
            ),
            "JPN01",
        ),
        VintageBefore2021,
        "vintage-from-2021",
    )
    # Use for use-year 2031 of an ITMO whose vintage lies in 2021-2030 (para 8(b)).
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(
            uow, use("JPN01-GOV", "JPN01-NDC", quantity(10), use_year=2031), "J"
        ),
        UseOutsideNdcPeriod,
        "use-within-ndc-period",
    )
    # First transfer of an MO with no authorization (4/CMA.6 para 11).
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("THA01-PP", "JPN01-GOV", quantity(10)), "T"),
        UnitsNotAuthorized,
        "authorization-before-first-transfer",
    )
    # Second use of the same serial (para 21(e)).
    start = size(world)
    write(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", serials((1, 10))), "J"),
    )
    assert kinds_since(world, start) == ["itmo.use"]
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", serials((1, 10))), "J"),
        UnitsAlreadyRetired,
        "one-time-use",
    )
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-NDC", "JPN01-NDC", serials((1, 10))), "J"),
        AccountTypeMismatch,
        "account-type",
    )
    assert held_quantity(world) == {"JPN01-GOV": 90, "JPN01-NDC": 10, "THA01-PP": 50}
