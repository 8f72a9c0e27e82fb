"""Para 23(c) booked by vintage or by year of first transfer (a setting: the sources disagree),
with the 23(j) breakdowns meaningful either way; the transferring Party of a use is the Party
the units were acquired from."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.adjustments import AdjustmentPolicy, FirstTransferYear
from ledger.accounting.btr import BreakdownDimension, BreakdownRow
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from tests.integration.registry.world import read, write
from tests.registry_world import authorization, issuance, move, quantity, use

BY_TRANSFER = AdjustmentPolicy(first_transfer_year=FirstTransferYear.YEAR_OF_FIRST_TRANSFER)


def first_transfer_in_2026(uow: UnitOfWork) -> None:
    """Thailand issues 100 units of vintage 2021 in 2025 and first transfers 70 to Japan in
    2026; Japan transfers 30 on to Mongolia, which uses 20 towards its NDC for 2026."""
    services.record_authorization(uow, authorization("THA-NDC", authorized_parties=()), "THA01")
    services.issue(
        uow, issuance(("THA01-GOV", 100, "THA-NDC")), "THA01", dating=Dating(date(2025, 11, 3))
    )
    services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(70)), "THA01")
    services.transfer(uow, move("JPN01-GOV", "MNG01-GOV", quantity(30)), "JPN01")
    services.use_for_ndc(uow, use("MNG01-GOV", "MNG01-NDC", quantity(20), use_year=2026), "MNG")
    reporting.record_ndc_target(uow, "MNG", "test:MNG", budget=4_000)


def c_rows(rows: tuple[BreakdownRow, ...]) -> set[tuple[int, BreakdownDimension, str, Fraction]]:
    return {
        (r.year, r.dimension, r.key, r.quantity.value) for r in rows if r.paragraph.value == "23(c)"
    }


def test_23c_by_vintage_or_by_year_of_first_transfer(world: Engine) -> None:
    write(world, first_transfer_in_2026)
    dim = BreakdownDimension

    def summary(policy: AdjustmentPolicy) -> dict[int, Fraction | None]:
        found = read(world, lambda uow: reporting.structured_summary_for(uow, "THA", policy))
        return {
            c.year: None if c.value is None else c.value.value for c in found.row("23(c)").cells
        }

    by_vintage = summary(AdjustmentPolicy())
    by_transfer = summary(BY_TRANSFER)
    assert (by_vintage[2021], by_vintage[2026]) == (Fraction(70), Fraction(0))
    assert (by_transfer[2021], by_transfer[2026]) == (Fraction(0), Fraction(70))
    # 23(f) and the CA stay booked to the vintage either way (para 8(a)).
    for policy in (AdjustmentPolicy(), BY_TRANSFER):
        found = read(world, lambda uow, p=policy: reporting.structured_summary_for(uow, "THA", p))  # type: ignore[misc]
        net = {c.year: c.value for c in found.row("23(f)").cells}
        assert net[2021] is not None
        assert net[2021].value == 70

    # 23(j): the same amounts under the year the setting books them to, and by vintage too.
    vintage_rows = c_rows(read(world, lambda uow: reporting.breakdowns_for(uow, "THA")))
    transfer_rows = c_rows(
        read(world, lambda uow: reporting.breakdowns_for(uow, "THA", BY_TRANSFER))
    )
    assert (2021, dim.VINTAGE, "2021", Fraction(70)) in vintage_rows
    assert (2026, dim.VINTAGE, "2021", Fraction(70)) in transfer_rows
    assert (2026, dim.USING_PARTY, "JPN", Fraction(70)) in transfer_rows
    assert {(d, k, q) for _, d, k, q in vintage_rows} == {(d, k, q) for _, d, k, q in transfer_rows}


def test_the_transferring_party_of_a_use_is_the_party_it_was_acquired_from(
    world: Engine,
) -> None:
    write(world, first_transfer_in_2026)
    facts = read(world, lambda uow: reporting.party_facts(uow, "MNG"))
    assert [(u.quantity, u.transferring_party) for u in facts.uses] == [(20, "JPN")]
    rows = read(world, lambda uow: reporting.breakdowns_for(uow, "MNG"))
    assert {
        (r.key, r.quantity.value)
        for r in rows
        if r.paragraph.value == "23(e)" and r.dimension is BreakdownDimension.TRANSFERRING_PARTY
    } == {("JPN", Fraction(20))}
