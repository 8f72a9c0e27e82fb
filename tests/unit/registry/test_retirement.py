"""Retirement on the in-memory fakes: use towards an NDC (once), OIMP use by an authorized
entity, and cancellation, which first-transfers authorized units when it delivers OMGE."""

from __future__ import annotations

from ledger.errors import (
    AccountTypeMismatch,
    AuthorizationLimitExceeded,
    OwnUnitsNotUsable,
    UnitsAlreadyRetired,
    UseOutsideNdcPeriod,
)
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import CancellationKind, FirstTransferDefinition, Purpose
from tests.fakes import FakeUnitOfWork
from tests.registry_world import (
    authorization,
    entity,
    issuance,
    move,
    quantity,
    serials,
    use,
)
from tests.unit.registry.in_memory import act, assert_refused, entries, holdings, kinds_since


def japan_holds_thai_itmos(uow: FakeUnitOfWork) -> None:
    """Thailand issues 100 NDC-authorized units and first transfers them all to Japan."""
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    act(uow, lambda u: services.issue(u, issuance(("THA01-GOV", 100, "THA-NDC")), "THA01"))
    act(
        uow,
        lambda u: services.transfer(u, move("THA01-GOV", "JPN01-GOV", quantity(100)), "THA01"),
    )


def test_an_itmo_is_used_towards_an_ndc_once(uow: FakeUnitOfWork) -> None:
    japan_holds_thai_itmos(uow)
    start = uow.log.size()
    used = act(
        uow, lambda u: services.use_for_ndc(u, use("JPN01-GOV", "JPN01-NDC", quantity(40)), "J")
    )
    assert kinds_since(uow, start) == ["itmo.use"]
    assert entries(uow, start)[0].payload["using_party"] == "JPN"
    assert [(b.first, b.last, b.retired) for b in used] == [(1, 40, True)]
    assert holdings(uow) == {"JPN01-GOV": [(41, 100, False)], "JPN01-NDC": [(1, 40, True)]}
    assert_refused(
        uow,
        lambda u: services.use_for_ndc(u, use("JPN01-GOV", "JPN01-NDC", serials((30, 45))), "J"),
        UnitsAlreadyRetired,
        "one-time-use",
    )
    assert_refused(
        uow,
        lambda u: services.use_for_ndc(
            u, use("JPN01-GOV", "JPN01-NDC", quantity(5), use_year=2031), "J"
        ),
        UseOutsideNdcPeriod,
        "use-within-ndc-period",
    )


def test_a_party_does_not_use_its_own_units_towards_its_ndc(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    act(uow, lambda u: services.issue(u, issuance(("THA01-GOV", 10, "THA-NDC")), "THA01"))
    assert_refused(
        uow,
        lambda u: services.use_for_ndc(u, use("THA01-GOV", "THA01-NDC", quantity(5)), "THA01"),
        OwnUnitsNotUsable,
        "use-of-acquired-itmos-only",
    )


def test_oimp_use_by_an_authorized_entity_only(uow: FakeUnitOfWork) -> None:
    corsia = authorization(
        "MNG-CORSIA",
        "MNG",
        "CA0002",
        Purpose.OIMP,
        authorized_entities=("MNG-E1",),
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
    )

    def set_up(u: UnitOfWork) -> None:
        for entity_id in ("MNG-E1", "MNG-E2"):
            services.record_authorized_entity(u, entity(entity_id), "MNG01")
        services.record_authorization(u, corsia, "MNG01")

    act(uow, set_up)
    act(
        uow,
        lambda u: services.issue(
            u, issuance(("MNG01-GOV", 50, "MNG-CORSIA"), registry_id="MNG01", ca_id="CA0002"), "M"
        ),
    )

    def oimp_use(entity_id: str) -> services.UseOrder:
        return services.UseOrder(
            "MNG01-GOV", "MNG01-OIMP", quantity(20), oimp_purpose="CORSIA", entity_id=entity_id
        )

    assert_refused(
        uow,
        lambda u: services.use_for_oimp(u, oimp_use("MNG-E2"), "MNG01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    start = uow.log.size()
    used = act(uow, lambda u: services.use_for_oimp(u, oimp_use("MNG-E1"), "MNG01"))
    # Under "Use or cancellation" the use is also the units' first transfer.
    assert kinds_since(uow, start) == ["itmo.first_transfer", "itmo.oimp_use"]
    assert all(b.retired and b.first_transferred for b in used)
    assert holdings(uow) == {"MNG01-GOV": [(21, 50, False)], "MNG01-OIMP": [(1, 20, True)]}


def test_cancellation_first_transfers_authorized_units_only_for_omge(
    uow: FakeUnitOfWork,
) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    act(uow, lambda u: services.issue(u, issuance(("THA01-GOV", 30, "THA-NDC")), "THA01"))

    def cancellation(n: int, kind: CancellationKind, to: str) -> services.CancellationOrder:
        return services.CancellationOrder("THA01-GOV", to, quantity(n), kind)

    assert_refused(
        uow,
        lambda u: services.cancel(
            u, cancellation(5, CancellationKind.OTHER, "THA01-OMGE"), "THA01"
        ),
        AccountTypeMismatch,
        "account-type",
    )
    start = uow.log.size()
    act(
        uow,
        lambda u: services.cancel(
            u, cancellation(10, CancellationKind.OTHER, "THA01-CANCEL"), "THA01"
        ),
    )
    assert kinds_since(uow, start) == ["itmo.cancellation"]
    start = uow.log.size()
    act(
        uow,
        lambda u: services.cancel(
            u, cancellation(5, CancellationKind.VOLUNTARY_OMGE, "THA01-OMGE"), "THA01"
        ),
    )
    assert kinds_since(uow, start) == ["itmo.first_transfer", "itmo.cancellation"]
    assert entries(uow, start)[0].payload["subtype"] == CancellationKind.VOLUNTARY_OMGE.value
    assert holdings(uow) == {
        "THA01-CANCEL": [(1, 10, True)],
        "THA01-GOV": [(16, 30, False)],
        "THA01-OMGE": [(11, 15, True)],
    }
