"""Corresponding adjustments and the BTR summary computed from ledger entries (article6.md §2),
on SQLite and PostgreSQL.

The demo scenario (ledger/demo.py) runs on 11 Nov 2025: Thailand first transfers Japan's share
of 1,009 t of vintage 2021 and Japan uses 600 t towards its NDC for 2025; Mongolia authorizes
3,000 t of vintage 2023 for CORSIA, first transferred at authorization. Japan and Thailand
declared single-year NDCs for 2021-2030 under the averaging method (N = 10); Mongolia a
multi-year NDC under the annual method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.adjustments import (
    AdjustmentReport,
    CaKind,
    Figure,
    InvalidNdcProfile,
    Restatement,
    RowField,
    YearRow,
)
from ledger.accounting.btr import Paragraph
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar
from ledger.errors import NdcNotDeclared
from ledger.log.chain import Entry
from ledger.registry import services
from ledger.registry.model import Authorization, Metric, Purpose, UnitSelection

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
SUBMISSION_DAY = datetime(2026, 4, 10, 1, 0, tzinfo=UTC)
LATER_2026 = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@contextmanager
def writing(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    """A writing unit of work whose clock stands still at ``at``; committed on success."""
    with SqlAlchemyUnitOfWork(engine, write=True, clock=lambda: at) as uow:
        yield uow
        uow.commit()


def reading(engine: Engine, at: datetime = LATER_2026) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine, write=False, clock=lambda: at)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with writing(engine, DEMO_DAY) as uow:
        load_demo(uow)
    return engine


def kinds(uow: SqlAlchemyUnitOfWork) -> dict[int, str]:
    bodies = uow.log.read_entries(0, uow.log.size())
    return {entry.seq: entry.kind for entry in map(Entry.from_canonical, bodies)}


def seqs_of(uow: SqlAlchemyUnitOfWork, kind: str) -> list[int]:
    return [seq for seq, k in kinds(uow).items() if k == kind]


def by_year(
    report: AdjustmentReport, pick: Callable[[YearRow], Figure | None]
) -> dict[int, Fraction | None]:
    out: dict[int, Fraction | None] = {}
    for row in report.rows:
        figure = pick(row)
        out[row.year] = None if figure is None else figure.value
    return out


def zeros(*years: int) -> dict[int, Fraction | None]:
    return {year: Fraction(0) for year in years}


# --------------------------------------------------------------------------------------------
# The demo scenario, hand-computed
# --------------------------------------------------------------------------------------------


def test_thailand_first_transfer_is_booked_to_its_vintage_and_averaged(demo: Engine) -> None:
    with writing(demo, DEMO_DAY) as uow:
        reporting.record_emissions(uow, "THA", 2021, 320_000_000, "test:THA")
    with reading(demo) as uow:
        report = reporting.adjustments_for(uow, "THA")
        (ft_seq,) = seqs_of(uow, "itmo.first_transfer")[:1]
        (emissions_seq,) = seqs_of(uow, "emissions.recorded")
    assert report.profile.party == "THA"
    assert by_year(report, lambda r: r.first_transferred) == {
        2021: Fraction(1009),
        **zeros(2022, 2023, 2024, 2025, 2026, 2027, 2028, 2029, 2030),
    }
    assert report.row(2021).first_transferred.seqs == (ft_seq,)
    assert by_year(report, lambda r: r.used) == zeros(*range(2021, 2031))
    # AVG(y) = 1009 / (y - 2020): indicative before 2030, the actual CA in 2030.
    assert by_year(report, lambda r: r.ca) == {
        year: Fraction(1009, year - 2020) for year in range(2021, 2031)
    }
    assert [r.ca_kind for r in report.rows] == [CaKind.INDICATIVE] * 9 + [CaKind.FINAL]
    assert report.final_ca == Figure(Fraction(1009, 10), (ft_seq,))
    assert report.row(2022).ca == Figure(Fraction(1009, 2), (ft_seq,))
    assert report.emissions_balance(2021) == Figure(Fraction(320_001_009), (ft_seq, emissions_seq))
    assert report.cumulative_net.value == 1009


def test_japan_use_is_booked_to_the_year_of_use_and_averaged(demo: Engine) -> None:
    with writing(demo, DEMO_DAY) as uow:
        reporting.record_emissions(uow, "JPN", 2025, 1_000_000_000, "test:JPN")
        reporting.record_ndc_target(uow, "JPN", "test:JPN", target_level=760_000_000)
    with reading(demo) as uow:
        report = reporting.adjustments_for(uow, "JPN")
        (use_seq,) = seqs_of(uow, "itmo.use")
    assert by_year(report, lambda r: r.first_transferred) == zeros(*range(2021, 2031))
    assert by_year(report, lambda r: r.used) == {
        **zeros(*range(2021, 2031)),
        2025: Fraction(600),
    }
    assert report.row(2025).used == Figure(Fraction(600), (use_seq,))
    assert by_year(report, lambda r: r.net)[2025] == -600
    # AVG(y) = -600 / (y - 2020) from 2025; the actual CA of 2030 is -600 / 10.
    assert by_year(report, lambda r: r.ca) == {
        **zeros(2021, 2022, 2023, 2024),
        2025: Fraction(-120),
        2026: Fraction(-100),
        2027: Fraction(-600, 7),
        2028: Fraction(-75),
        2029: Fraction(-200, 3),
        2030: Fraction(-60),
    }
    assert report.emissions_balance(2025).value == 1_000_000_000 - 120
    assert report.profile.target_level == 760_000_000


def test_mongolia_oimp_first_transfer_needs_its_budget_or_trajectory(demo: Engine) -> None:
    with reading(demo) as uow, pytest.raises(InvalidNdcProfile, match="trajectory or a budget"):
        reporting.adjustments_for(uow, "MNG")
    with writing(demo, DEMO_DAY) as uow:
        reporting.record_ndc_target(uow, "MNG", "test:MNG", trajectory={2023: 42_000})
        reporting.record_emissions(uow, "MNG", 2023, 40_000, "test:MNG")
    with reading(demo) as uow:
        report = reporting.adjustments_for(uow, "MNG")
        (oimp_ft_seq,) = seqs_of(uow, "itmo.first_transfer")[1:]
    row = report.row(2023)
    assert row.first_transferred == Figure(Fraction(3000), (oimp_ft_seq,))
    assert row.first_transferred_oimp.value == 3000
    assert row.ca is not None
    assert row.ca.value == 3000
    assert row.ca_kind is CaKind.ANNUAL
    assert row.emissions_balance is not None
    assert row.emissions_balance.value == 43_000
    assert row.trajectory_difference is not None
    assert row.trajectory_difference.value == 1_000


def test_a_later_emissions_entry_restates_the_year(demo: Engine) -> None:
    with writing(demo, DEMO_DAY) as uow:
        first = reporting.record_emissions(uow, "JPN", 2025, 1_000_000_000, "test:JPN")
        second = reporting.record_emissions(
            uow, "JPN", 2025, 990_000_000, "test:JPN", metric_unit="t CO2 eq"
        )
    with reading(demo) as uow:
        report = reporting.adjustments_for(uow, "JPN")
        restated = reporting.restated_since(uow, "JPN", second.seq)
    row = report.row(2025)
    assert row.emissions == Figure(Fraction(990_000_000), (second.seq,))
    assert row.emissions_superseded == (Figure(Fraction(1_000_000_000), (first.seq,)),)
    assert [(r.year, r.field, r.change) for r in restated] == [
        (2025, RowField.EMISSIONS, Fraction(-10_000_000)),
        (2025, RowField.EMISSIONS_BALANCE, Fraction(-10_000_000)),
    ]


# --------------------------------------------------------------------------------------------
# Restatement after a submission
# --------------------------------------------------------------------------------------------


def first_transfer_2022_vintage(uow: SqlAlchemyUnitOfWork, quantity: int) -> None:
    """Thailand first transfers, in 2026, units of the earlier vintage 2022 to Japan."""
    services.issue(
        uow,
        services.Issuance(
            registry_id="THA01",
            attributes=solar("THA01", "THA", "CA0001", 2022),
            shares=(services.IssuanceShare("THA01-GOV", quantity, "THA-JCM-2025-001"),),
            decision_reference="JC9 2026-06-01",
        ),
        "test:THA01",
    )
    services.transfer(
        uow,
        services.TransferOrder(
            "THA01-GOV", "JPN01-GOV", UnitSelection(quantity=quantity, vintage=2022)
        ),
        "test:THA01",
    )


def test_later_first_transfer_of_an_earlier_vintage_restates_that_year(demo: Engine) -> None:
    with writing(demo, SUBMISSION_DAY) as uow:
        assert reporting.record_submission(uow, "THA", 2025, "test:THA") == "1.0"
    with reading(demo) as uow:
        (submitted,) = reporting.submissions(uow, "THA")
    with writing(demo, LATER_2026) as uow:
        first_transfer_2022_vintage(uow, 500)
    with reading(demo) as uow:
        before = reporting.adjustments_as_of(uow, "THA", submitted.tree_size)
        after = reporting.adjustments_for(uow, "THA")
        restated = reporting.restated_since(uow, "THA", submitted.tree_size)
        later_ft = seqs_of(uow, "itmo.first_transfer")[-1]
        unchanged = reporting.aef_report_for(uow, "THA", 2025, "1.0")
        assert reporting.verify_submission(uow, submitted)
    ft_before = by_year(before, lambda r: r.first_transferred)
    ft_after = by_year(after, lambda r: r.first_transferred)
    assert (ft_before[2021], ft_before[2022]) == (Fraction(1009), Fraction(0))
    assert (ft_after[2021], ft_after[2022]) == (Fraction(1009), Fraction(500))
    assert after.row(2022).first_transferred.seqs == (later_ft,)
    changes = {(r.year, r.field): r for r in restated}
    assert changes[(2022, RowField.FIRST_TRANSFERRED)] == Restatement(
        2022, RowField.FIRST_TRANSFERRED, Figure(Fraction(0)), Figure(Fraction(500), (later_ft,))
    )
    assert changes[(2022, RowField.NET)].change == 500
    assert changes[(2022, RowField.CA)].reported_before.value == Fraction(1009, 2)
    assert changes[(2022, RowField.CA)].restated == after.row(2022).ca
    assert changes[(2030, RowField.CA)].change == Fraction(500, 10)
    # 2021 is untouched; every later year's cumulative figures move.
    assert not any(r.year == 2021 for r in restated)
    assert {year for (year, field) in changes if field is RowField.CUMULATIVE_NET} == set(
        range(2022, 2031)
    )
    # The report as submitted is rebuilt from the recorded tree size.
    assert all(a.action_date.year == 2025 for a in unchanged.actions)
    assert len(unchanged.actions) == 2


# --------------------------------------------------------------------------------------------
# A Party that both sells and buys
# --------------------------------------------------------------------------------------------


def japan_sells_to_mongolia(uow: SqlAlchemyUnitOfWork) -> None:
    """Japan authorizes and first transfers 300 t of its own vintage-2024 units to Mongolia,
    which uses them towards its NDC for 2024."""
    services.record_authorization(
        uow,
        Authorization(
            authorization_id="JPN-JCM-2026-001",
            version=0,
            party="JPN",
            ca_id="CA0002",
            authorized_on=date(2026, 2, 1),
            purposes=Purpose.NDC,
            metric=Metric.GHG,
            gwp="AR5",
            sectors=("Energy generation",),
            activity_types=("Solar",),
            vintage_from=2021,
            vintage_to=2030,
            authorized_parties=("MNG",),
        ),
        "test:JPN01",
    )
    services.issue(
        uow,
        services.Issuance(
            registry_id="JPN01",
            attributes=solar("JPN01", "JPN", "CA0002", 2024),
            shares=(
                services.IssuanceShare("JPN01-GOV", 300, "JPN-JCM-2026-001", underlying_first=1),
            ),
        ),
        "test:JPN01",
    )
    from_japan = UnitSelection(quantity=300, first_transferring_party="JPN")
    services.transfer(
        uow, services.TransferOrder("JPN01-GOV", "MNG01-GOV", from_japan), "test:JPN01"
    )
    services.use_for_ndc(
        uow,
        services.UseOrder("MNG01-GOV", "MNG01-NDC", from_japan, use_year=2024),
        "test:MNG01",
    )


def test_a_party_that_sells_and_buys_nets_both(demo: Engine) -> None:
    with writing(demo, LATER_2026) as uow:
        japan_sells_to_mongolia(uow)
        reporting.record_ndc_target(uow, "MNG", "test:MNG", trajectory={2023: 42_000, 2024: 41_000})
        reporting.record_emissions(uow, "MNG", 2023, 40_000, "test:MNG")
        reporting.record_emissions(uow, "MNG", 2024, 41_000, "test:MNG")
    with reading(demo) as uow:
        japan = reporting.adjustments_for(uow, "JPN")
        mongolia = reporting.adjustments_for(uow, "MNG")
        japan_facts = reporting.party_facts(uow, "JPN")
        (use_seq_japan, use_seq_mongolia) = seqs_of(uow, "itmo.use")
        japan_ft = seqs_of(uow, "itmo.first_transfer")[-1]
    # Japan: FT[2024] = 300 (sold to Mongolia), U[2025] = 600.
    assert by_year(japan, lambda r: r.net)[2024] == 300
    assert by_year(japan, lambda r: r.net)[2025] == -600
    assert japan.row(2024).first_transferred == Figure(Fraction(300), (japan_ft,))
    assert japan.row(2025).used == Figure(Fraction(600), (use_seq_japan,))
    assert by_year(japan, lambda r: r.ca)[2024] == Fraction(300, 4)
    assert by_year(japan, lambda r: r.ca)[2025] == Fraction(-300, 5)
    assert japan.final_ca is not None
    assert japan.final_ca.value == -30
    assert japan.final_ca.seqs == tuple(sorted((japan_ft, use_seq_japan)))
    (fact,) = japan_facts.first_transfers
    assert (fact.using_party, fact.purpose, fact.vintage, fact.quantity) == (
        "MNG",
        Purpose.NDC,
        2024,
        300,
    )
    # Mongolia (annual method): CA[2023] = +3,000 (OIMP first transfer), CA[2024] = -300.
    assert by_year(mongolia, lambda r: r.ca)[2023] == 3000
    assert by_year(mongolia, lambda r: r.ca)[2024] == -300
    assert mongolia.row(2024).used == Figure(Fraction(300), (use_seq_mongolia,))
    assert by_year(mongolia, lambda r: r.emissions_balance)[2023] == 43_000
    assert by_year(mongolia, lambda r: r.emissions_balance)[2024] == 40_700
    assert by_year(mongolia, lambda r: r.trajectory_difference)[2024] == -300


# --------------------------------------------------------------------------------------------
# Every figure explains itself
# --------------------------------------------------------------------------------------------

FT, USE, EMISSIONS = "itmo.first_transfer", "itmo.use", "emissions.recorded"
ALLOWED_KINDS = {
    RowField.EMISSIONS: {EMISSIONS},
    RowField.FIRST_TRANSFERRED: {FT},
    RowField.FIRST_TRANSFERRED_OIMP: {FT},
    RowField.USED: {USE},
    RowField.NET: {FT, USE},
    RowField.CUMULATIVE_NET: {FT, USE},
    RowField.AVERAGE: {FT, USE},
    RowField.AVERAGE_FIRST_TRANSFERRED: {FT, USE},
    RowField.AVERAGE_USED: {FT, USE},
    RowField.CA: {FT, USE},
    RowField.EMISSIONS_BALANCE: {FT, USE, EMISSIONS},
    RowField.TRAJECTORY_DIFFERENCE: {FT, USE, EMISSIONS},
}


def test_every_figure_names_ledger_entries_of_the_right_kind(demo: Engine) -> None:
    with writing(demo, LATER_2026) as uow:
        japan_sells_to_mongolia(uow)
        reporting.record_ndc_target(uow, "MNG", "test:MNG", budget=400_000)
        for party, year, value in (("JPN", 2025, 1_000_000_000), ("MNG", 2023, 40_000)):
            reporting.record_emissions(uow, party, year, value, "test")
    with reading(demo) as uow:
        kind_of = kinds(uow)
        reports = [reporting.adjustments_for(uow, p) for p in ("THA", "JPN", "MNG")]
        summary = reporting.structured_summary_for(uow, "MNG")
        breakdowns = reporting.breakdowns_for(uow, "JPN")
    checked = 0
    for report in reports:
        for row in report.rows:
            for name, figure in row.figures().items():
                if figure is None:
                    continue
                for seq in figure.seqs:
                    assert kind_of[seq] in ALLOWED_KINDS[name], (row.year, name, seq)
                    checked += 1
    assert checked > 100
    oimp = summary.row(Paragraph.P23_D)
    (cell_2025,) = [c for c in oimp.cells if c.year == 2025]
    assert cell_2025.value is not None
    assert cell_2025.value.value == 3000
    assert cell_2025.entities == ("Ulaanbaatar Air Cargo LLC",)
    assert [kind_of[s] for s in cell_2025.value.seqs] == ["units.authorized"]
    assert {b.paragraph for b in breakdowns} == {Paragraph.P23_C, Paragraph.P23_E}
    for b in breakdowns:
        assert {kind_of[s] for s in b.quantity.seqs} <= {FT, USE}


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def test_inputs_are_checked_before_anything_is_recorded(demo: Engine) -> None:
    with reading(demo) as uow:
        size = uow.log.size()
    with writing(demo, DEMO_DAY) as uow:
        with pytest.raises(reporting.EmissionsUnitMismatch):
            reporting.record_emissions(uow, "JPN", 2025, 1, "t", metric_unit="MWh")
        with pytest.raises(InvalidNdcProfile, match="averaging"):
            reporting.record_ndc_target(uow, "JPN", "t", budget=5_000_000_000)
        with pytest.raises(NdcNotDeclared):
            reporting.record_emissions(uow, "CHE", 2025, 1, "t")
        with pytest.raises(reporting.ReportedYearNotOver):
            reporting.record_submission(uow, "THA", 2025, "t")
        with pytest.raises(reporting.TreeSizeBeyondLog):
            reporting.adjustments_as_of(uow, "THA", size + 1)
        assert uow.log.size() == size


def test_one_use_of_two_vintages_is_booked_once_and_broken_down_by_vintage(demo: Engine) -> None:
    with writing(demo, LATER_2026) as uow:
        first_transfer_2022_vintage(uow, 500)
        services.use_for_ndc(  # 409 t of vintage 2021, then 291 t of vintage 2022
            uow,
            services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=700), use_year=2026),
            "test:JPN01",
        )
    with reading(demo) as uow:
        report = reporting.adjustments_for(uow, "JPN")
        facts = reporting.party_facts(uow, "JPN")
        breakdowns = reporting.breakdowns_for(uow, "JPN")
        use_seq = seqs_of(uow, "itmo.use")[-1]
    assert report.row(2026).used == Figure(Fraction(700), (use_seq,))
    assert [(f.seq, f.vintage, f.quantity) for f in facts.uses if f.use_year == 2026] == [
        (use_seq, 2021, 409),
        (use_seq, 2022, 291),
    ]
    by_vintage = {
        b.key: b.quantity
        for b in breakdowns
        if b.paragraph is Paragraph.P23_E and b.year == 2026 and b.dimension.value == "vintage"
    }
    assert by_vintage == {
        "2021": Figure(Fraction(409), (use_seq,)),
        "2022": Figure(Fraction(291), (use_seq,)),
    }
