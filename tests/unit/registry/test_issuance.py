"""Issuance on the in-memory fakes: shares get consecutive serials, issued units fit their
authorization, and the OIMP "Issuance" definition first-transfers units as they are issued."""

from __future__ import annotations

from ledger.errors import AccountTypeMismatch, AuthorizationLimitExceeded, VintageBefore2021
from ledger.registry import services
from ledger.registry.model import FirstTransferDefinition, Purpose
from tests.fakes import FakeUnitOfWork
from tests.registry_world import authorization, issuance
from tests.unit.registry.in_memory import act, assert_refused, entries, holdings, kinds_since


def test_shares_get_consecutive_serials_across_issuances(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    start = uow.log.size()
    first = act(
        uow,
        lambda u: services.issue(
            u, issuance(("THA01-GOV", 60, "THA-NDC"), ("THA01-PP", 40, None)), "THA01"
        ),
    )
    second = act(uow, lambda u: services.issue(u, issuance(("THA01-PP", 5, None)), "THA01"))
    assert kinds_since(uow, start) == ["mo.issued", "mo.issued"]
    assert [(b.first, b.last, b.authorization_id) for b in [*first, *second]] == [
        (1, 60, "THA-NDC"),
        (61, 100, None),
        (101, 105, None),
    ]
    assert entries(uow, start)[0].payload["quantity"] == 100
    assert holdings(uow) == {
        "THA01-GOV": [(1, 60, False)],
        "THA01-PP": [(61, 100, False), (101, 105, False)],
    }


def test_refused_issuances_leave_the_ledger_unchanged(uow: FakeUnitOfWork) -> None:
    act(
        uow,
        lambda u: services.record_authorization(u, authorization("THA-NDC", quantity=50), "THA01"),
    )
    assert_refused(
        uow,
        lambda u: services.issue(
            u, issuance(("THA01-GOV", 30, "THA-NDC"), ("THA01-PP", 30, "THA-NDC")), "THA01"
        ),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    assert_refused(
        uow,
        lambda u: services.issue(u, issuance(("THA01-GOV", 10, None), vintage=2020), "THA01"),
        VintageBefore2021,
        "vintage-from-2021",
    )
    assert_refused(
        uow,
        lambda u: services.issue(u, issuance(("THA01-NDC", 10, None)), "THA01"),
        AccountTypeMismatch,
        "account-type",
    )
    swiss = issuance(("CHE01-EXTERNAL", 10, None), registry_id="CHE01")
    assert_refused(
        uow,
        lambda u: services.issue(u, swiss, "CHE01"),
        AccountTypeMismatch,
        "account-type",
    )


def test_the_issuance_definition_first_transfers_units_as_they_are_issued(
    uow: FakeUnitOfWork,
) -> None:
    dual = authorization(
        "THA-DUAL",
        purposes=Purpose.NDC_AND_OIMP,
        first_transfer_definition=FirstTransferDefinition.ISSUANCE,
    )
    act(uow, lambda u: services.record_authorization(u, dual, "THA01"))
    start = uow.log.size()
    issued = act(
        uow,
        lambda u: services.issue(
            u, issuance(("THA01-GOV", 10, "THA-DUAL"), ("THA01-PP", 5, None)), "THA01"
        ),
    )
    assert kinds_since(uow, start) == ["mo.issued", "itmo.first_transfer"]
    first_transfer = entries(uow, start)[1]
    assert first_transfer.payload["subtype"] == FirstTransferDefinition.ISSUANCE.value
    assert first_transfer.payload["quantity"] == 10
    assert [(b.first, b.first_transferred) for b in issued] == [(1, True), (11, False)]
