"""Every Article 6.2 registry rule on both databases (article6.md §1, §4).

Each rejected action raises exactly the named error (with its ``rule``) and leaves the ledger size,
the checkpoint root and the holdings projection as they were.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import (
    AccountTypeMismatch,
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    AuthorizedEntityNotFound,
    FirstTransferDefinitionConflict,
    InsufficientHoldings,
    NdcAlreadyDeclared,
    OwnUnitsNotUsable,
    PurposeNotAuthorized,
    RegistryDoesNotOwnUnits,
    SerialsNotHeld,
    UnitsAlreadyRetired,
    UnitsFlaggedInconsistent,
    UnitsNotAuthorized,
    UseOutsideNdcPeriod,
    VintageBefore2021,
)
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import (
    FirstTransferDefinition,
    Purpose,
    UnitSelection,
)
from tests.integration.registry.world import (
    assert_nothing_changed,
    blocks_in,
    entries,
    held_quantity,
    holdings,
    kinds_since,
    read,
    size,
    write,
)
from tests.registry_world import (
    NDC_2021_2030,
    NOW,
    attributes,
    authorization,
    entity,
    first_transfer_counts,
    issuance,
    move,
    quantity,
    serials,
    use,
)

# Loops bind their variable as a defaulted lambda parameter (ruff B023); mypy cannot infer such a
# lambda against the helpers' one-argument Callable, hence `type: ignore[misc]` on those lambdas.

THA_NDC = "THA-NDC"
MNG_OIMP = "MNG-CORSIA"


def thai_ndc_units(
    engine: Engine, authorized: int = 100, unauthorized: int = 0, **changes: Any
) -> None:
    """Thailand authorizes Japan's share for NDC use (by default only Japan may acquire) and issues
    it into THA01-GOV as serials 1..authorized; an unauthorized share goes to THA01-PP."""
    changes.setdefault("authorized_parties", ("JPN",))

    def act(uow: UnitOfWork) -> None:
        services.record_authorization(uow, authorization(THA_NDC, **changes), "THA01")
        shares: list[tuple[str, int, str | None]] = [("THA01-GOV", authorized, THA_NDC)]
        if unauthorized:
            shares.append(("THA01-PP", unauthorized, None))
        services.issue(uow, issuance(*shares), "THA01")

    write(engine, act)


def transfer(engine: Engine, order: services.TransferOrder, when: datetime | None = None) -> None:
    def act(uow: UnitOfWork) -> None:
        services.transfer(uow, order, "test")

    write(engine, act, when=when or NOW)


def japan_holds(engine: Engine, n: int = 100, **changes: Any) -> None:
    """Japan holds THA's NDC-authorized serials 1..n in JPN01-GOV, first transferred to it."""
    thai_ndc_units(engine, n, **changes)
    transfer(engine, move("THA01-GOV", "JPN01-GOV", quantity(n)))


def mongolian_oimp_units(engine: Engine, n: int = 100) -> None:
    """Mongolia authorizes n units for CORSIA (OIMP, first transfer at authorization) held by
    MNG01-GOV, to be used by entity MNG-E1 only; MNG-E2 is recorded but not authorized."""

    def act(uow: UnitOfWork) -> None:
        for entity_id in ("MNG-E1", "MNG-E2"):
            services.record_authorized_entity(uow, entity(entity_id), "MNG01")
        services.issue(
            uow, issuance(("MNG01-GOV", n, None), registry_id="MNG01", ca_id="CA0002"), "MNG01"
        )
        services.record_authorization(
            uow,
            authorization(
                MNG_OIMP,
                "MNG",
                "CA0002",
                Purpose.OIMP,
                authorized_entities=("MNG-E1",),
                oimp_authorized="CORSIA",
                first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
            ),
            "MNG01",
        )
        services.authorize_units(uow, MNG_OIMP, "MNG01-GOV", quantity(n), "MNG01")

    write(engine, act)


# --- only authorized units can be first transferred ----------------------------------------------


def test_only_authorized_units_can_be_first_transferred(world: Engine) -> None:
    thai_ndc_units(world, 100, unauthorized=50)
    rule = "authorization-before-first-transfer"
    for destination in ("JPN01-GOV", "CHE01-EXTERNAL", "THA01-AF"):
        error = assert_nothing_changed(
            world,
            lambda uow, d=destination: services.transfer(  # type: ignore[misc]
                uow, move("THA01-PP", d, quantity(10)), "THA01"
            ),
            UnitsNotAuthorized,
            rule,
        )
        assert error.details["block_id"] is not None

    # Unauthorized units may move within Thailand...
    start = size(world)
    transfer(world, move("THA01-PP", "THA01-GOV", quantity(50)))
    assert kinds_since(world, start) == ["itmo.transfer"]
    assert entries(world, start)[0].payload["international"] is False
    # ...but a mixed selection is refused whole: nothing leaves, not even the authorized part.
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(110)), "THA01"),
        UnitsNotAuthorized,
        rule,
    )
    # Thailand's own NDC-authorized units, never first transferred, are not ITMOs to use.
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("THA01-GOV", "THA01-NDC", quantity(10)), "THA01"),
        OwnUnitsNotUsable,
        "use-of-acquired-itmos-only",
    )


# --- at most one first transfer per serial -------------------------------------------------------


def test_at_most_one_first_transfer_per_serial(world: Engine) -> None:
    thai_ndc_units(world, 100, authorized_parties=())
    start = size(world)
    transfer(world, move("THA01-GOV", "JPN01-GOV", quantity(100)))
    assert kinds_since(world, start) == ["itmo.first_transfer", "itmo.acquisition"]
    first_transfer = entries(world, start)[0]
    assert first_transfer.payload["subtype"] == "First transfer to another Party"
    assert first_transfer.payload["acquiring_party"] == "JPN"

    # Later international moves are plain transfers, never another first transfer.
    start = size(world)
    transfer(world, move("JPN01-GOV", "CHE01-EXTERNAL", quantity(40)))
    assert kinds_since(world, start) == ["itmo.transfer"]
    assert entries(world, start)[0].payload["acquiring_party"] == "CHE"
    assert entries(world, start)[0].payload["international"] is True

    start = size(world)
    write(
        world,
        lambda uow: services.acquire_from_external(
            uow,
            services.ExternalAcquisition(
                from_registry="CHE01",
                to_account="JPN01-GOV",
                attributes=attributes(),
                first=1,
                last=10,
                authorization_id=THA_NDC,
                authorization_version=1,
                first_transferred=True,
            ),
            "JPN01",
        ),
    )
    assert kinds_since(world, start) == ["itmo.acquisition"]

    start = size(world)
    transfer(world, move("JPN01-GOV", "THA01-GOV", serials((41, 60))))
    assert kinds_since(world, start) == ["itmo.transfer", "itmo.acquisition"]

    all_entries = entries(world)
    assert first_transfer_counts(all_entries) == {
        (("CA0001", "THA01", "THA", 2021), serial): 1 for serial in range(1, 101)
    }
    # Every piece split off since keeps the first-transfer status and the pinned version.
    active = read(world, lambda uow: uow.projection.active_blocks())
    assert len(active) > 1
    assert {(b.first_transfer_seq, b.authorization_version) for b in active} == {
        (first_transfer.seq, 1)
    }
    assert held_quantity(world) == {"CHE01-EXTERNAL": 30, "JPN01-GOV": 50, "THA01-GOV": 20}


# --- a serial sits in exactly one account --------------------------------------------------------


def test_a_serial_sits_in_exactly_one_account(world: Engine) -> None:
    thai_ndc_units(world, 100, unauthorized=50)  # GOV: 1..100, PP: 101..150
    rule = "serial-held-by-account"
    for source, ranges, missing in (
        ("THA01-PP", ((1, 10),), (1, 10)),  # held, but by THA01-GOV
        ("THA01-GOV", ((95, 105),), (101, 105)),  # partly held
        ("THA01-GOV", ((151, 160),), (151, 160)),  # never issued
        ("THA01-GOV", ((1, 5), (120, 121)), (120, 121)),  # second range not held
    ):
        error = assert_nothing_changed(
            world,
            lambda uow, s=source, r=ranges: services.transfer(  # type: ignore[misc]
                uow, move(s, "JPN01-GOV", serials(*r)), "THA01"
            ),
            SerialsNotHeld,
            rule,
        )
        assert (error.details["first"], error.details["last"]) == missing
    # An external registry cannot deliver serials that sit in an account here.
    assert_nothing_changed(
        world,
        lambda uow: services.acquire_from_external(
            uow,
            services.ExternalAcquisition(
                from_registry="CHE01",
                to_account="JPN01-GOV",
                attributes=attributes(),
                first=90,
                last=110,
                authorization_id=THA_NDC,
                authorization_version=1,
                first_transferred=True,
            ),
            "JPN01",
        ),
        SerialsNotHeld,
        rule,
    )
    # Two ranges out of one block split it in five; each serial still sits in one account.
    transfer(world, move("THA01-GOV", "JPN01-GOV", serials((11, 20), (31, 40))))
    assert holdings(world) == {
        "JPN01-GOV": [(11, 20, False), (31, 40, False)],
        "THA01-GOV": [(1, 10, False), (21, 30, False), (41, 100, False)],
        "THA01-PP": [(101, 150, False)],
    }


# --- nothing moves after use or cancellation -----------------------------------------------------


def test_nothing_moves_after_use_or_cancellation(world: Engine) -> None:
    japan_holds(world, 100)
    write(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", serials((1, 30))), "J"),
    )
    write(
        world,
        lambda uow: services.cancel(
            uow,
            services.CancellationOrder("JPN01-GOV", "JPN01-CANCEL", serials((31, 40))),
            "J",
        ),
    )
    assert holdings(world) == {
        "JPN01-CANCEL": [(31, 40, True)],
        "JPN01-GOV": [(41, 100, False)],
        "JPN01-NDC": [(1, 30, True)],
    }
    # Used or cancelled serials are refused as such (one-time use), wherever they are named.
    for selection in (serials((1, 30)), serials((25, 35)), serials((31, 40))):
        assert_nothing_changed(
            world,
            lambda uow, s=selection: services.use_for_ndc(  # type: ignore[misc]
                uow, use("JPN01-GOV", "JPN01-NDC", s), "J"
            ),
            UnitsAlreadyRetired,
            "one-time-use",
        )
        assert_nothing_changed(
            world,
            lambda uow, s=selection: services.transfer(  # type: ignore[misc]
                uow, move("JPN01-GOV", "CHE01-EXTERNAL", s), "J"
            ),
            UnitsAlreadyRetired,
            "one-time-use",
        )
    # Selecting them by range in the terminal account where they sit is refused too.
    terminal_actions = [
        lambda uow: services.use_for_ndc(uow, use("JPN01-NDC", "JPN01-NDC", serials((1, 30))), "J"),
        lambda uow: services.transfer(uow, move("JPN01-NDC", "JPN01-GOV", serials((1, 30))), "J"),
        lambda uow: services.transfer(
            uow, move("JPN01-CANCEL", "CHE01-EXTERNAL", serials((31, 40))), "J"
        ),
        lambda uow: services.cancel(
            uow, services.CancellationOrder("JPN01-NDC", "JPN01-CANCEL", serials((1, 5))), "J"
        ),
        lambda uow: services.use_for_oimp(
            uow,
            services.UseOrder("JPN01-CANCEL", "JPN01-OIMP", serials((31, 40)), oimp_purpose="X"),
            "J",
        ),
    ]
    for action in terminal_actions:
        assert_nothing_changed(world, action, AccountTypeMismatch, "account-type")
    # Retired units never count as holdings.
    error = assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(61)), "J"),
        InsufficientHoldings,
        "holdings-non-negative",
    )
    assert (error.details["available"], error.details["requested"]) == (60, 61)


# --- vintage from 2021 ---------------------------------------------------------------------------


def test_vintage_from_2021(world: Engine) -> None:
    rule = "vintage-from-2021"
    error = assert_nothing_changed(
        world,
        lambda uow: services.issue(uow, issuance(("THA01-GOV", 10, None), vintage=2020), "THA01"),
        VintageBefore2021,
        rule,
    )
    assert (error.details["vintage"], error.details["minimum"]) == (2020, 2021)
    assert_nothing_changed(
        world,
        lambda uow: services.acquire_from_external(
            uow,
            services.ExternalAcquisition(
                from_registry="CHE01",
                to_account="JPN01-GOV",
                attributes=attributes(vintage=2020),
                first=1,
                last=10,
                authorization_id="THA-OLD",
                authorization_version=1,
                first_transferred=True,
            ),
            "JPN01",
        ),
        VintageBefore2021,
        rule,
    )
    assert_nothing_changed(
        world,
        lambda uow: services.record_authorization(
            uow, authorization("THA-OLD", vintage_from=2020), "THA01"
        ),
        VintageBefore2021,
        rule,
    )


# --- use year and vintage in the same NDC period -------------------------------------------------


def test_use_year_and_vintage_within_the_ndc_period(world: Engine) -> None:
    thai_ndc_units(world, 50, vintage_to=2035)
    in_2031 = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)  # vintage 2031 exists from 2031 on
    write(
        world,
        lambda uow: services.issue(uow, issuance(("THA01-GOV", 50, THA_NDC), vintage=2031), "T"),
        when=in_2031,
    )
    transfer(world, move("THA01-GOV", "JPN01-GOV", quantity(100)), when=in_2031)
    rule = "use-within-ndc-period"
    for selection, use_year in (
        (quantity(10, vintage=2021), 2031),
        (quantity(10, vintage=2021), 2020),
        (quantity(10, vintage=2031), 2030),
        (quantity(10, vintage=2031), 2031),
    ):
        error = assert_nothing_changed(
            world,
            lambda uow, s=selection, y=use_year: services.use_for_ndc(  # type: ignore[misc]
                uow, use("JPN01-GOV", "JPN01-NDC", s, use_year=y), "JPN01"
            ),
            UseOutsideNdcPeriod,
            rule,
            when=in_2031,
        )
        assert error.details["use_year"] == use_year
        assert (error.details["period_start"], error.details["period_end"]) == (2021, 2030)
    start = size(world)
    write(
        world,
        lambda uow: services.use_for_ndc(
            uow, use("JPN01-GOV", "JPN01-NDC", quantity(10, vintage=2021), 2030), "JPN01"
        ),
        when=in_2031,
    )
    assert kinds_since(world, start) == ["itmo.use"]
    assert entries(world, start)[0].payload["use_year"] == 2030


# --- holdings never negative ---------------------------------------------------------------------


def test_holdings_never_go_negative(world: Engine) -> None:
    japan_holds(world, 100)
    rule = "holdings-non-negative"
    cases: list[tuple[UnitSelection, int, int]] = [
        (quantity(101), 100, 101),
        (quantity(1, vintage=2022), 0, 1),
        (quantity(1, ca_id="CA0002"), 0, 1),
    ]
    for selection, available, requested in cases:
        for action in (
            lambda uow, s=selection: services.transfer(
                uow, move("JPN01-GOV", "CHE01-EXTERNAL", s), "J"
            ),
            lambda uow, s=selection: services.use_for_ndc(
                uow, use("JPN01-GOV", "JPN01-NDC", s), "J"
            ),
            lambda uow, s=selection: services.cancel(
                uow, services.CancellationOrder("JPN01-GOV", "JPN01-CANCEL", s), "J"
            ),
        ):
            error = assert_nothing_changed(world, action, InsufficientHoldings, rule)
            assert (error.details["available"], error.details["requested"]) == (
                available,
                requested,
            )
    write(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(100)), "J"),
    )
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(1)), "J"),
        InsufficientHoldings,
        rule,
    )


# --- only the owning registry moves its units ----------------------------------------------------


def test_only_the_owning_registry_moves_its_units(world: Engine) -> None:
    thai_ndc_units(world, 100, unauthorized=10, authorized_parties=())
    rule = "owning-registry-moves"
    error = assert_nothing_changed(
        world,
        lambda uow: services.ensure_registry_owns_account(uow, "THA01-GOV", "JPN01"),
        RegistryDoesNotOwnUnits,
        rule,
    )
    assert error.details == {"account_id": "THA01-GOV", "registry_id": "JPN01"}
    read(world, lambda uow: services.ensure_registry_owns_account(uow, "THA01-GOV", "THA01"))

    # Units that left for an external registry are moved by that registry, not from here.
    transfer(world, move("THA01-GOV", "CHE01-EXTERNAL", quantity(10)))
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("CHE01-EXTERNAL", "JPN01-GOV", quantity(5)), "X"),
        RegistryDoesNotOwnUnits,
        rule,
    )
    # A Party authorizes only units held in its own registries.
    write(
        world,
        lambda uow: services.record_authorization(uow, authorization("JPN-NDC", "JPN"), "JPN01"),
    )
    assert_nothing_changed(
        world,
        lambda uow: services.authorize_units(uow, "JPN-NDC", "THA01-PP", quantity(10), "JPN01"),
        RegistryDoesNotOwnUnits,
        rule,
    )


# --- authorization limits ------------------------------------------------------------------------


def test_authorization_limits_quantity_vintages_and_scope(world: Engine) -> None:
    write(
        world,
        lambda uow: services.record_authorization(
            uow, authorization(THA_NDC, quantity=100, vintage_to=2022), "THA01"
        ),
    )
    rule = "authorization-limits"
    rejected_issuances = [
        issuance(("THA01-GOV", 101, THA_NDC)),
        issuance(("THA01-GOV", 60, THA_NDC), ("THA01-PP", 41, THA_NDC)),
        issuance(("THA01-GOV", 10, THA_NDC), vintage=2023),
        services.Issuance(
            "THA01",
            attributes(sector="Waste"),
            (services.IssuanceShare("THA01-GOV", 10, THA_NDC),),
        ),
        services.Issuance(
            "THA01",
            attributes(activity_type="Wind"),
            (services.IssuanceShare("THA01-GOV", 10, THA_NDC),),
        ),
    ]
    for order in rejected_issuances:
        error = assert_nothing_changed(
            world,
            lambda uow, o=order: services.issue(uow, o, "THA01"),  # type: ignore[misc]
            AuthorizationLimitExceeded,
            rule,
        )
        assert error.details == {"authorization_id": THA_NDC, "version": 1}

    write(
        world,
        lambda uow: services.issue(
            uow, issuance(("THA01-GOV", 80, THA_NDC), ("THA01-PP", 50, None)), "THA01"
        ),
    )
    assert_nothing_changed(
        world,
        lambda uow: services.authorize_units(uow, THA_NDC, "THA01-PP", quantity(21), "THA01"),
        AuthorizationLimitExceeded,
        rule,
    )
    write(
        world, lambda uow: services.authorize_units(uow, THA_NDC, "THA01-PP", quantity(20), "THA01")
    )
    assert read(world, lambda uow: uow.projection.authorized_quantity(THA_NDC)) == 100
    assert_nothing_changed(
        world,
        lambda uow: services.authorize_units(uow, THA_NDC, "THA01-PP", serials((101, 101)), "T"),
        AuthorizationLimitExceeded,
        rule,
    )


def test_authorization_limits_parties_and_timeframe(world: Engine) -> None:
    thai_ndc_units(world, 100, authorized_parties=("JPN",), valid_until=date(2026, 6, 30))
    rule = "authorization-limits"
    error = assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "CHE01-EXTERNAL", quantity(10)), "T"),
        AuthorizationLimitExceeded,
        rule,
    )
    assert error.details["acquiring_party"] == "CHE"
    error = assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(10)), "T"),
        AuthorizationLimitExceeded,
        rule,
        when=datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
    )
    assert error.details["valid_until"] == "2026-06-30"
    # The last valid day still counts.
    transfer(
        world,
        move("THA01-GOV", "JPN01-GOV", quantity(10)),
        when=datetime(2026, 6, 30, 23, 59, tzinfo=UTC),
    )
    # Onward transfers stay within the authorized Parties too.
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("JPN01-GOV", "CHE01-EXTERNAL", quantity(5)), "J"),
        AuthorizationLimitExceeded,
        rule,
        when=datetime(2026, 6, 30, 23, 59, 30, tzinfo=UTC),
    )


def test_authorization_limits_oimp_purpose_and_entities(world: Engine) -> None:
    mongolian_oimp_units(world, 100)

    def oimp_use(purpose: str, entity_id: str | None) -> services.UseOrder:
        return services.UseOrder(
            "MNG01-GOV", "MNG01-OIMP", quantity(10), oimp_purpose=purpose, entity_id=entity_id
        )

    rule = "authorization-limits"
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_oimp(uow, oimp_use("Voluntary market", "MNG-E1"), "M"),
        AuthorizationLimitExceeded,
        rule,
    )
    error = assert_nothing_changed(
        world,
        lambda uow: services.use_for_oimp(uow, oimp_use("CORSIA", "MNG-E2"), "M"),
        AuthorizationLimitExceeded,
        rule,
    )
    assert error.details["entity"] == "MNG-E2"
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_oimp(uow, oimp_use("CORSIA", "MNG-E9"), "M"),
        AuthorizedEntityNotFound,
        "authorized-entity-exists",
    )
    start = size(world)
    write(world, lambda uow: services.use_for_oimp(uow, oimp_use("CORSIA", "MNG-E1"), "M"))
    assert kinds_since(world, start) == ["itmo.oimp_use"]


# --- one first-transfer definition per (Party, cooperative approach) -----------------------------


def test_first_transfer_definition_is_consistent_per_party_and_approach(world: Engine) -> None:
    def declare(party: str, ca_id: str, definition: FirstTransferDefinition) -> Any:
        return lambda uow: services.declare_first_transfer_definition(
            uow, party, ca_id, definition, "test"
        )

    assert write(world, declare("THA", "CA0001", FirstTransferDefinition.ISSUANCE)) is not None
    start = size(world)
    assert write(world, declare("THA", "CA0001", FirstTransferDefinition.ISSUANCE)) is None
    assert size(world) == start

    rule = "first-transfer-definition-consistent"
    error = assert_nothing_changed(
        world,
        declare("THA", "CA0001", FirstTransferDefinition.AUTHORIZATION),
        FirstTransferDefinitionConflict,
        rule,
    )
    assert (error.details["declared"], error.details["requested"]) == ("Issuance", "Authorization")
    assert_nothing_changed(
        world,
        lambda uow: services.record_authorization(
            uow,
            authorization(
                "THA-OIMP",
                purposes=Purpose.NDC_AND_OIMP,
                first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
            ),
            "THA01",
        ),
        FirstTransferDefinitionConflict,
        rule,
    )
    # The definition may differ between approaches, and between Parties.
    write(world, declare("THA", "CA0003", FirstTransferDefinition.AUTHORIZATION))
    write(world, declare("JPN", "CA0001", FirstTransferDefinition.USE_OR_CANCELLATION))
    assert read(
        world,
        lambda uow: [
            uow.projection.get_first_transfer_definition(p, c)
            for p, c in (("THA", "CA0001"), ("THA", "CA0003"), ("JPN", "CA0001"))
        ],
    ) == [
        FirstTransferDefinition.ISSUANCE,
        FirstTransferDefinition.AUTHORIZATION,
        FirstTransferDefinition.USE_OR_CANCELLATION,
    ]


# --- no NDC use of units flagged inconsistent ----------------------------------------------------


def test_ndc_use_refused_for_units_flagged_inconsistent(world: Engine) -> None:
    japan_holds(world, 100)

    def flag(uow: UnitOfWork) -> None:
        (block,) = uow.projection.held_blocks("JPN01-GOV")
        uow.projection.put_block(replace(block, inconsistent=True))

    write(world, flag)
    error = assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(10)), "J"),
        UnitsFlaggedInconsistent,
        "no-ndc-use-of-inconsistent-units",
    )
    assert error.message.startswith("serials 1-10 are flagged inconsistent")


# --- purposes ------------------------------------------------------------------------------------


def test_units_are_used_only_for_their_authorized_purpose(world: Engine) -> None:
    mongolian_oimp_units(world, 100)
    start = size(world)
    transfer(world, move("MNG01-GOV", "JPN01-GOV", quantity(50)))
    assert kinds_since(world, start) == ["itmo.transfer", "itmo.acquisition"]
    japan_holds(world, 100)
    rule = "authorized-purpose"
    error = assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(
            uow, use("JPN01-GOV", "JPN01-NDC", quantity(10, ca_id="CA0002")), "J"
        ),
        PurposeNotAuthorized,
        rule,
    )
    assert error.details == {"authorization_id": MNG_OIMP, "purposes": "OIMP"}
    error = assert_nothing_changed(
        world,
        lambda uow: services.use_for_oimp(
            uow,
            services.UseOrder(
                "JPN01-GOV", "JPN01-OIMP", quantity(10, ca_id="CA0001"), oimp_purpose="CORSIA"
            ),
            "J",
        ),
        PurposeNotAuthorized,
        rule,
    )
    assert error.details == {"authorization_id": THA_NDC, "purposes": "NDC"}


# --- authorization changes -----------------------------------------------------------------------


def test_an_authorization_version_cannot_change_party_approach_or_authorized_units(
    world: Engine,
) -> None:
    thai_ndc_units(world, 100, quantity=500)
    rule = "authorization-change"
    for changes in (
        {"party": "JPN"},
        {"ca_id": "CA0003"},
        {"quantity": 99},
    ):
        assert_nothing_changed(
            world,
            lambda uow, c=changes: services.record_authorization(  # type: ignore[misc]
                uow, authorization(THA_NDC, **c), "THA01"
            ),
            AuthorizationChangeForbidden,
            rule,
        )
    # Units bound to an authorization are not rebound to another one.
    write(
        world, lambda uow: services.record_authorization(uow, authorization("THA-NDC-2"), "THA01")
    )
    assert_nothing_changed(
        world,
        lambda uow: services.authorize_units(uow, "THA-NDC-2", "THA01-GOV", serials((1, 10)), "T"),
        AuthorizationChangeForbidden,
        rule,
    )
    # A declared NDC (and with it the CA method) holds for the whole period.
    assert_nothing_changed(
        world,
        lambda uow: services.declare_ndc(
            uow, "JPN", replace(NDC_2021_2030, period_end=2035, target_year=2035), "J"
        ),
        NdcAlreadyDeclared,
        "ndc-declared-once",
    )
    version = write(
        world,
        lambda uow: services.record_authorization(
            uow, authorization(THA_NDC, quantity=1_000), "THA01"
        ),
    ).version
    assert version == 2


def test_a_new_authorization_version_leaves_first_transferred_units_pinned(world: Engine) -> None:
    thai_ndc_units(world, 100, authorized_parties=("JPN",))
    transfer(world, move("THA01-GOV", "JPN01-GOV", quantity(60)))
    (first_transferred,) = blocks_in(world, "JPN01-GOV")
    v2 = write(
        world,
        lambda uow: services.record_authorization(
            uow, authorization(THA_NDC, authorized_parties=("JPN", "CHE")), "THA01"
        ),
    )
    assert v2.version == 2
    assert blocks_in(world, "JPN01-GOV") == [first_transferred]
    assert first_transferred.authorization_version == 1
    assert [b.authorization_version for b in blocks_in(world, "THA01-GOV")] == [None]
    v1 = read(world, lambda uow: uow.projection.get_authorization(THA_NDC, 1))
    assert v1 is not None
    assert v1.authorized_parties == ("JPN",)

    # Japan's ITMOs still follow version 1, which lets only Japan acquire them...
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("JPN01-GOV", "CHE01-EXTERNAL", quantity(5)), "J"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    # ...while units first transferred after the change follow version 2.
    transfer(world, move("THA01-GOV", "CHE01-EXTERNAL", quantity(10)))
    assert [b.authorization_version for b in blocks_in(world, "CHE01-EXTERNAL")] == [2]
    write(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(10)), "J"),
    )
    for account in ("JPN01-GOV", "JPN01-NDC"):
        assert [
            (b.authorization_version, b.first_transfer_seq) for b in blocks_in(world, account)
        ] == [(1, first_transferred.first_transfer_seq)]


def test_units_of_a_hosted_registry_arrive_from_outside_only_after_leaving(world: Engine) -> None:
    thai_ndc_units(world, 100, authorized_parties=())

    def returning(first: int, last: int) -> services.ExternalAcquisition:
        return services.ExternalAcquisition(
            from_registry="CHE01",
            to_account="JPN01-GOV",
            attributes=attributes(),
            first=first,
            last=last,
            authorization_id=THA_NDC,
            authorization_version=1,
            first_transferred=True,
        )

    # Serials of THA01 that THA01 never issued cannot appear from an external registry.
    error = assert_nothing_changed(
        world,
        lambda uow: services.acquire_from_external(uow, returning(101, 110), "JPN01"),
        SerialsNotHeld,
        "serial-held-by-account",
    )
    assert (error.details["first"], error.details["last"]) == (101, 110)
    transfer(world, move("THA01-GOV", "CHE01-EXTERNAL", quantity(10)))
    write(world, lambda uow: services.acquire_from_external(uow, returning(3, 7), "JPN01"))
    assert holdings(world) == {
        "CHE01-EXTERNAL": [(1, 2, False), (8, 10, False)],
        "JPN01-GOV": [(3, 7, False)],
        "THA01-GOV": [(11, 100, False)],
    }
    # Units of an external registry's own origin are new here.
    start = size(world)
    write(
        world,
        lambda uow: services.acquire_from_external(
            uow,
            replace(
                returning(1, 50),
                attributes=replace(
                    attributes(), registry_id="CHE01", first_transferring_party="CHE"
                ),
            ),
            "JPN01",
        ),
    )
    assert kinds_since(world, start) == ["itmo.acquisition"]
    assert len(blocks_in(world, "JPN01-GOV")) == 2


def demo_with_thai_units(engine: Engine, authorization_id: str, **changes: Any) -> None:
    """The demo scenario plus 50 Thai units of vintage 2024 issued under a variant of Thailand's
    authorization (``changes`` applied)."""
    from dataclasses import replace as replace_

    from ledger.demo import load_demo, solar, thai_ndc_authorization

    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        variant = replace_(
            thai_ndc_authorization(), authorization_id=authorization_id, quantity=50, **changes
        )
        services.record_authorization(uow, variant, "THA01")
        share = services.IssuanceShare("THA01-GOV", 50, authorization_id)
        attributes = solar("THA01", "THA", "CA0001", 2024)
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "THA01")
        uow.commit()


def test_own_units_first_transferred_for_oimp_are_not_usable_for_own_ndc(engine: Engine) -> None:
    """A host whose dual NDC/OIMP units were first transferred at issuance cannot use them
    towards its own NDC (the first transfer booked them to other Parties' purposes)."""
    from ledger.registry.model import FirstTransferDefinition, Purpose, UnitSelection

    demo_with_thai_units(
        engine,
        "THA-DUAL-1",
        purposes=Purpose.NDC_AND_OIMP,
        first_transfer_definition=FirstTransferDefinition.ISSUANCE,
        oimp_authorized="CORSIA",
    )
    selection = UnitSelection(quantity=10, vintage=2024)
    assert_rejected(
        engine,
        lambda uow: services.use_for_ndc(
            uow, services.UseOrder("THA01-GOV", "THA01-NDC", selection, use_year=2024), "THA01"
        ),
        OwnUnitsNotUsable,
    )


def test_oimp_only_units_cannot_leave_before_their_first_transfer(engine: Engine) -> None:
    from ledger.errors import FirstTransferPending
    from ledger.registry.model import FirstTransferDefinition, Purpose, UnitSelection

    demo_with_thai_units(
        engine,
        "THA-CORSIA-1",
        purposes=Purpose.OIMP,
        first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
        oimp_authorized="CORSIA",
    )
    selection = UnitSelection(quantity=10, vintage=2024)
    assert_rejected(
        engine,
        lambda uow: services.transfer(
            uow, services.TransferOrder("THA01-GOV", "JPN01-GOV", selection), "THA01"
        ),
        FirstTransferPending,
    )


def assert_rejected(engine: Engine, action: Any, error: type[Exception]) -> None:
    """The action raises ``error`` and the ledger size and holdings are unchanged."""
    import pytest

    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        size, blocks = uow.log.size(), uow.projection.active_blocks()
    with SqlAlchemyUnitOfWork(engine, write=True) as uow, pytest.raises(error):
        action(uow)
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert (uow.log.size(), uow.projection.active_blocks()) == (size, blocks)
