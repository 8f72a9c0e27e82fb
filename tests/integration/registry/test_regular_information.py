"""Share of proceeds and OMGE in the regular information (2/CMA.3 annex paras 37-40, 22(j)-(k)):
ITMOs to the Adaptation Fund, cancellations to deliver OMGE and recorded monetary contributions,
per approach and year, each naming its ledger entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.btr import ContributionKind
from ledger.errors import InvalidInput
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import CancellationKind
from tests.integration.registry.world import assert_nothing_changed, read, write
from tests.registry_world import authorization, issuance, move, quantity

KIND = ContributionKind


def contributions(uow: UnitOfWork) -> None:
    """Thailand gives 10 ITMOs to the Adaptation Fund, cancels 7 and 3 to deliver OMGE
    (voluntary, mandatory) and records a monetary contribution; 5 others are cancelled."""
    services.record_authorization(uow, authorization("THA-NDC", authorized_parties=()), "THA01")
    services.issue(
        uow, issuance(("THA01-GOV", 100, "THA-NDC")), "THA01", dating=Dating(date(2025, 11, 3))
    )
    services.transfer(uow, move("THA01-GOV", "THA01-AF", quantity(10)), "THA01")
    for n, kind, account in (
        (7, CancellationKind.VOLUNTARY_OMGE, "THA01-OMGE"),
        (3, CancellationKind.MANDATORY_OMGE, "THA01-OMGE"),
        (5, CancellationKind.OTHER, "THA01-CANCEL"),
    ):
        order = services.CancellationOrder("THA01-GOV", account, quantity(n), kind)
        services.cancel(uow, order, "THA01")
    for amount in ("2500.50", "100"):
        reporting.record_adaptation_contribution(
            uow, "THA", "CA0001", amount, "USD", "THA01", dating=Dating(date(2025, 12, 1))
        )


def test_share_of_proceeds_and_omge_summary(world: Engine) -> None:
    write(world, contributions)
    summary = read(world, lambda uow: reporting.regular_information_for(uow, "THA"))
    assert [
        (
            r.paragraph,
            r.cooperative_approach,
            r.year,
            r.kind,
            None if r.quantity is None else r.quantity.value,
            r.amount,
            r.currency,
        )
        for r in summary.rows
    ] == [
        ("38", "CA0001", 2025, KIND.ADAPTATION_FUND_MONETARY, None, Decimal("2600.50"), "USD"),
        ("38", "CA0001", 2026, KIND.ADAPTATION_FUND_ITMOS, Fraction(10), None, None),
        ("40", "CA0001", 2026, KIND.VOLUNTARY_OMGE, Fraction(7), None, None),
        ("40", "CA0001", 2026, KIND.MANDATORY_OMGE, Fraction(3), None, None),
    ]
    for row in summary.rows:
        assert row.seqs
        assert row.quantity is None or row.quantity.seqs == row.seqs
    # Japan reports none; a contribution outside the Party's approaches or with an inexact
    # amount is refused.
    assert read(world, lambda uow: reporting.regular_information_for(uow, "JPN")).rows == ()
    for ca_id, amount, currency in (
        ("CA0002", "10", "USD"),
        ("CA0001", "1e3", "USD"),
        ("CA0001", "0", "USD"),
        ("CA0001", "10", "usd"),
    ):
        assert_nothing_changed(
            world,
            lambda uow, c=ca_id, a=amount, cur=currency: reporting.record_adaptation_contribution(  # type: ignore[misc]
                uow, "THA", c, a, cur, "THA01"
            ),
            InvalidInput,
            "invalid-input",
        )
