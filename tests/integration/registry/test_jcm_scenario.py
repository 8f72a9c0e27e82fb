"""A realistic JCM flow end to end, on both databases (article6.md §6).

Thailand issues the first Article 6 JCM issuance (vintage 2021: 2,017 t, Japan's share 1,009 t)
and first transfers Japan's share to Japan, which uses part of it towards its NDC; Mongolia
authorizes units for CORSIA under its "Authorization" first-transfer definition.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from ledger.demo import load_demo
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import (
    Authorization,
    CancellationKind,
    FirstTransferDefinition,
    Purpose,
    UnitSelection,
)
from ledger.registry.projection import BlockKey, replay
from tests.integration.registry.world import (
    blocks_in,
    entries,
    holdings,
    kinds_since,
    read,
    size,
    write,
)
from tests.registry_world import (
    acted_blocks,
    attributes,
    authorization,
    entity,
    first_transfer_counts,
    move,
    quantity,
    use,
)

Event = tuple[int, str, str]  # seq, kind, account

THA_KEY: BlockKey = ("CA0001", "THA01", "THA", 2021)
JC_DECISION = datetime(2025, 10, 30, 9, 0, tzinfo=UTC)
FIRST_TRANSFER_DAY = datetime(2025, 11, 11, 9, 0, tzinfo=UTC)
USE_DAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def expected_history(all_entries: list[Entry], key: BlockKey, serial: int) -> list[Event]:
    """Every entry that acted on ``serial``, from the ledger itself: (seq, kind, account)."""
    return [
        (entry.seq, entry.kind, block.account_id)
        for entry in all_entries
        for block in acted_blocks(entry)
        if (
            block.attributes.ca_id,
            block.attributes.registry_id,
            block.attributes.first_transferring_party,
            block.attributes.vintage,
        )
        == key
        and block.first <= serial <= block.last
    ]


def history(engine: Engine, key: BlockKey, serial: int) -> list[Event]:
    events = read(engine, lambda uow: uow.projection.block_history(key, serial))
    return [(e.seq, e.kind, e.account_id) for e in events]


def assert_projection_is_a_replay(engine: Engine) -> None:
    def compare(uow: UnitOfWork) -> None:
        replayed = replay(uow.log.read_entries(0, uow.log.size()))
        assert replayed.active_blocks() == uow.projection.active_blocks()
        assert replayed.accounts() == uow.projection.accounts()
        assert replayed.authorizations() == uow.projection.authorizations()

    read(engine, compare)
    assert verify_database(engine).ok


def test_jcm_first_transfer_to_japan_and_ndc_use(world: Engine) -> None:
    write(
        world,
        lambda uow: services.record_authorization(
            uow,
            authorization(
                "THA-JCM-2025-001",
                quantity=100_000,
                authorized_parties=("JPN",),
                valid_until=date(2032, 12, 31),
            ),
            "THA01",
        ),
        when=JC_DECISION,
    )
    start = size(world)
    write(
        world,
        lambda uow: services.issue(
            uow,
            services.Issuance(
                registry_id="THA01",
                attributes=attributes(),
                shares=(
                    services.IssuanceShare("THA01-GOV", 1_009, "THA-JCM-2025-001", 1),
                    services.IssuanceShare("THA01-PP", 1_008, None, 1_010),
                ),
                decision_reference="JC 2025-10-30",
            ),
            "THA01",
        ),
        when=JC_DECISION,
    )
    write(
        world,
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(1_009)), "T"),
        when=FIRST_TRANSFER_DAY,
    )
    write(
        world,
        lambda uow: services.use_for_ndc(
            uow, use("JPN01-GOV", "JPN01-NDC", quantity(600), use_year=2025), "JPN01"
        ),
        when=USE_DAY,
    )

    issued, first_transfer, acquisition, used = entries(world, start)
    assert [e.kind for e in (issued, first_transfer, acquisition, used)] == [
        "mo.issued",
        "itmo.first_transfer",
        "itmo.acquisition",
        "itmo.use",
    ]
    assert issued.payload["quantity"] == 2_017
    assert {
        k: first_transfer.payload[k]
        for k in ("subtype", "acquiring_party", "from_account", "to_account", "quantity")
    } == {
        "subtype": "First transfer to another Party",
        "acquiring_party": "JPN",
        "from_account": "THA01-GOV",
        "to_account": "JPN01-GOV",
        "quantity": 1_009,
    }
    assert first_transfer.timestamp == FIRST_TRANSFER_DAY
    assert {
        k: acquisition.payload[k] for k in ("transferring_party", "to_account", "quantity")
    } == {
        "transferring_party": "THA",
        "to_account": "JPN01-GOV",
        "quantity": 1_009,
    }
    assert {k: used.payload[k] for k in ("using_party", "use_year", "quantity", "to_account")} == {
        "using_party": "JPN",
        "use_year": 2025,
        "quantity": 600,
        "to_account": "JPN01-NDC",
    }

    # Holdings, computed by hand: Japan used serials 1-600 (oldest first) and holds 601-1,009;
    # Thailand's own share 1,010-2,017 never left the project participant's account.
    assert holdings(world) == {
        "JPN01-GOV": [(601, 1_009, False)],
        "JPN01-NDC": [(1, 600, True)],
        "THA01-PP": [(1_010, 2_017, False)],
    }
    (held,) = blocks_in(world, "JPN01-GOV")
    assert (held.underlying_first, held.underlying_last) == (601, 1_009)
    assert held.itmo_id(601) == "CA0001-THA01-THA-601-2021"
    assert held.first_transfer_seq == first_transfer.seq
    (thai,) = blocks_in(world, "THA01-PP")
    assert (thai.underlying_first, thai.underlying_last, thai.authorization_id) == (
        1_010,
        2_017,
        None,
    )

    # The per-serial history lists every entry that touched the serial, in order.
    all_entries = entries(world)
    assert [(kind, account) for _, kind, account in history(world, THA_KEY, 1)] == [
        ("mo.issued", "THA01-GOV"),
        ("itmo.first_transfer", "JPN01-GOV"),
        ("itmo.acquisition", "JPN01-GOV"),
        ("itmo.use", "JPN01-NDC"),
    ]
    assert [kind for _, kind, _ in history(world, THA_KEY, 700)] == [
        "mo.issued",
        "itmo.first_transfer",
        "itmo.acquisition",
    ]
    assert [kind for _, kind, _ in history(world, THA_KEY, 2_017)] == ["mo.issued"]
    assert history(world, THA_KEY, 2_018) == []
    for serial in (1, 600, 601, 1_009, 1_010, 2_017):
        assert history(world, THA_KEY, serial) == expected_history(all_entries, THA_KEY, serial)
    assert_projection_is_a_replay(world)


MNG_KEY_2023: BlockKey = ("CA0002", "MNG01", "MNG", 2023)


def mongolian_authorization(authorization_id: str, **changes: Any) -> Authorization:
    return authorization(
        authorization_id,
        "MNG",
        "CA0002",
        Purpose.OIMP,
        authorized_entities=("MNG-E-0001",),
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
        **changes,
    )


def test_oimp_flow_with_the_authorization_first_transfer_definition(world: Engine) -> None:
    write(world, lambda uow: services.record_authorized_entity(uow, entity("MNG-E-0001"), "M"))
    write(
        world,
        lambda uow: services.issue(
            uow,
            services.Issuance(
                "MNG01",
                attributes("MNG01", "CA0002", 2023),
                (services.IssuanceShare("MNG01-GOV", 5_000),),
            ),
            "MNG01",
        ),
    )
    start = size(world)

    def authorize(uow: UnitOfWork) -> None:
        services.record_authorization(
            uow, mongolian_authorization("MNG-CORSIA-2026-01", quantity=3_000), "MNG01"
        )
        services.authorize_units(uow, "MNG-CORSIA-2026-01", "MNG01-GOV", quantity(3_000), "MNG01")

    write(world, authorize)
    recorded = entries(world, start)
    assert [e.kind for e in recorded] == [
        "first_transfer_definition.declared",
        "authorization.recorded",
        "units.authorized",
        "itmo.first_transfer",
    ]
    first_transfer = recorded[-1]
    assert first_transfer.payload["subtype"] == "Authorization"
    assert first_transfer.payload["acquiring_party"] is None
    assert first_transfer.payload["quantity"] == 3_000

    start = size(world)
    write(
        world,
        lambda uow: services.use_for_oimp(
            uow,
            services.UseOrder(
                "MNG01-GOV",
                "MNG01-OIMP",
                quantity(1_200),
                oimp_purpose="CORSIA",
                entity_id="MNG-E-0001",
            ),
            "MNG01",
        ),
    )
    write(
        world,
        lambda uow: services.cancel(
            uow,
            services.CancellationOrder(
                "MNG01-GOV", "MNG01-OMGE", quantity(100), CancellationKind.VOLUNTARY_OMGE
            ),
            "MNG01",
        ),
    )
    oimp_use, omge = entries(world, start)
    assert (oimp_use.kind, oimp_use.payload["oimp_purpose"]) == ("itmo.oimp_use", "CORSIA")
    assert (omge.kind, omge.payload["subtype"]) == (
        "itmo.cancellation",
        "Voluntary cancellation to deliver OMGE",
    )
    assert holdings(world) == {
        "MNG01-GOV": [(1_301, 3_000, False), (3_001, 5_000, False)],
        "MNG01-OIMP": [(1, 1_200, True)],
        "MNG01-OMGE": [(1_201, 1_300, True)],
    }
    counts = first_transfer_counts(entries(world))
    assert counts == {(MNG_KEY_2023, serial): 1 for serial in range(1, 3_001)}

    # Units issued under an authorization are authorized at issuance: with this definition
    # that is their first transfer, before any OIMP use.
    start = size(world)

    def issue_authorized(uow: UnitOfWork) -> None:
        services.record_authorization(uow, mongolian_authorization("MNG-CORSIA-2026-02"), "M")
        services.issue(
            uow,
            services.Issuance(
                "MNG01",
                attributes("MNG01", "CA0002", 2024),
                (services.IssuanceShare("MNG01-GOV", 200, "MNG-CORSIA-2026-02"),),
            ),
            "MNG01",
        )
        services.use_for_oimp(
            uow,
            services.UseOrder(
                "MNG01-GOV",
                "MNG01-OIMP",
                quantity(200, vintage=2024),
                oimp_purpose="CORSIA",
                entity_id="MNG-E-0001",
            ),
            "MNG01",
        )

    write(world, issue_authorized)
    assert kinds_since(world, start) == [
        "authorization.recorded",
        "mo.issued",
        "itmo.first_transfer",
        "itmo.oimp_use",
    ]
    assert entries(world, start)[2].payload["subtype"] == "Authorization"
    (used_2024,) = [b for b in blocks_in(world, "MNG01-OIMP") if b.attributes.vintage == 2024]
    assert used_2024.first_transferred
    assert used_2024.retired
    assert_projection_is_a_replay(world)


def test_oimp_use_is_the_first_transfer_under_use_or_cancellation(world: Engine) -> None:
    def act(uow: UnitOfWork) -> None:
        services.record_authorization(
            uow,
            authorization(
                "THA-OP",
                ca_id="CA0003",
                purposes=Purpose.OP,
                first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
            ),
            "THA01",
        )
        services.issue(
            uow,
            services.Issuance(
                "THA01",
                attributes("THA01", "CA0003", 2024),
                (services.IssuanceShare("THA01-GOV", 100, "THA-OP"),),
            ),
            "THA01",
        )

    start = size(world)
    write(world, act)
    assert "itmo.first_transfer" not in kinds_since(world, start)
    start = size(world)
    write(
        world,
        lambda uow: services.use_for_oimp(
            uow,
            services.UseOrder("THA01-GOV", "THA01-OIMP", quantity(30), oimp_purpose="Voluntary"),
            "THA01",
        ),
    )
    write(
        world,
        lambda uow: services.cancel(
            uow, services.CancellationOrder("THA01-GOV", "THA01-CANCEL", quantity(20)), "THA01"
        ),
    )
    recorded = entries(world, start)
    assert [(e.kind, e.payload.get("subtype"), e.payload["quantity"]) for e in recorded] == [
        ("itmo.first_transfer", "Use or cancellation", 30),
        ("itmo.oimp_use", None, 30),
        ("itmo.first_transfer", "Use or cancellation", 20),
        ("itmo.cancellation", "Other cancellations", 20),
    ]
    assert holdings(world) == {
        "THA01-CANCEL": [(31, 50, True)],
        "THA01-GOV": [(51, 100, False)],
        "THA01-OIMP": [(1, 30, True)],
    }
    assert [b.first_transferred for b in blocks_in(world, "THA01-GOV")] == [False]
    assert_projection_is_a_replay(world)


def test_the_demo_loads_on_a_fresh_database(engine: Engine) -> None:
    write(engine, load_demo)
    assert verify_database(engine).ok
    assert_projection_is_a_replay(engine)
    assert {
        account: sum(last - first + 1 for first, last, _ in ranges)
        for account, ranges in holdings(engine).items()
    } == {
        "JPN01-GOV": 409,
        "JPN01-NDC": 600,
        "MNG01-GOV": 3_700,
        "MNG01-OIMP": 1_200,
        "MNG01-OMGE": 100,
        "THA01-PP": 1_008,
    }
    assert set(first_transfer_counts(entries(engine)).values()) == {1}


def test_authorizing_by_quantity_skips_units_already_authorized(engine: Engine) -> None:
    clock = lambda: datetime(2026, 2, 1, tzinfo=UTC)  # noqa: E731
    with SqlAlchemyUnitOfWork(engine, write=True, clock=clock) as uow:
        load_demo(uow)
        existing = uow.projection.get_authorization("MNG-CORSIA-2026-01")
        assert isinstance(existing, Authorization)
        services.record_authorization(
            uow, replace(existing, authorization_id="MNG-CORSIA-2026-02", quantity=500), "M"
        )
        acted = services.authorize_units(
            uow, "MNG-CORSIA-2026-02", "MNG01-GOV", UnitSelection(quantity=500), "M"
        )
        assert [(b.first, b.last) for b in acted] == [(3001, 3500)]
        uow.commit()
