"""The secretariat's consistency checks, run locally (4/CMA.6 paras 29-32, 40), on SQLite and
PostgreSQL.

Thailand's and Japan's AEFs for 2025 come from the same instance (the demo scenario, clock fixed
at 11 Nov 2025): Thailand's Table 3 row 2 is the First transfer of serials 1-1009 to Japan,
Japan's row 1 the matching Acquisition. The mismatches are made by editing Japan's report.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.aef import ActionType, AefReport, AefTable
from ledger.accounting.consistency import (
    BlockRange,
    ConsistencyResult,
    Finding,
    FindingKind,
    Notation,
    RowRef,
    check_against_counterpart,
    record_findings,
)
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo
from ledger.errors import InvalidInput, UnitsFlaggedInconsistent
from ledger.log.chain import Entry
from ledger.registry import services
from ledger.registry.model import SerialRange, UnitBlock, UnitSelection
from ledger.registry.projection import replay

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
CHECK_DAY = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)

THA_FIRST_TRANSFER = RowRef("THA", AefTable.ACTIONS, 2)
JPN_ACQUISITION = RowRef("JPN", AefTable.ACTIONS, 1)
THAI_BLOCK = BlockRange("CA0001", "THA01", "THA", 2021, 1, 1009)


@contextmanager
def writing(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=True, clock=lambda: at) as uow:
        yield uow
        uow.commit()


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with writing(engine, DEMO_DAY) as uow:
        load_demo(uow)
    return engine


@pytest.fixture
def reports(demo: Engine) -> dict[str, AefReport]:
    with SqlAlchemyUnitOfWork(demo, write=False, clock=lambda: CHECK_DAY) as uow:
        return {p: reporting.aef_report_for(uow, p, 2025) for p in ("THA", "JPN", "MNG")}


def edit_acquisition(report: AefReport, **changes: Any) -> AefReport:
    acquisition, *rest = report.actions
    assert acquisition.action_type is ActionType.ACQUISITION
    return replace(report, actions=(replace(acquisition, **changes), *rest))


def notations(result: ConsistencyResult) -> dict[tuple[str, int], Notation]:
    return {(r.ref.party, r.ref.row): r.notation for r in result.rows}


def test_matching_pair_has_no_findings(reports: dict[str, AefReport]) -> None:
    result = check_against_counterpart(reports["THA"], reports["JPN"])
    assert result.findings == ()
    assert result.notation is Notation.NO_INCONSISTENCIES
    assert result.submission("JPN").notation is Notation.NO_INCONSISTENCIES
    assert result.own.notation.value == "Checked, no inconsistencies identified"
    assert notations(result) == {
        ("THA", 1): Notation.NO_INCONSISTENCIES,  # authorization: completeness only
        ("THA", 2): Notation.NO_INCONSISTENCIES,
        ("JPN", 1): Notation.NO_INCONSISTENCIES,
        ("JPN", 2): Notation.NO_INCONSISTENCIES,  # use towards the NDC: completeness only
    }
    assert result.row("THA", 2).counterpart == JPN_ACQUISITION
    assert result.row("JPN", 1).counterpart == THA_FIRST_TRANSFER
    assert result.inconsistent_blocks == ()
    # The check is symmetric.
    assert check_against_counterpart(reports["JPN"], reports["THA"]).findings == ()


def test_quantity_mismatch_is_found_and_explained(reports: dict[str, AefReport]) -> None:
    japan = edit_acquisition(reports["JPN"], last_id=1000, last_unit_id=1000, quantity=1000)
    result = check_against_counterpart(reports["THA"], japan)
    assert [(f.kind, f.column) for f in result.findings] == [
        (FindingKind.MISMATCH, "Last ID"),
        (FindingKind.MISMATCH, "Quantity (t CO2 eq)"),
    ]
    last_id, quantity = result.findings
    assert quantity.reason == (
        "Quantity (t CO2 eq): THA Table 3: Actions, row 2 reports 1009, JPN Table 3: Actions, "
        "row 1 reports 1000 for the First transfer and Acquisition of "
        "CA0001 THA01 THA vintage 2021 serials 1-1009"
    )
    assert quantity.rows == (THA_FIRST_TRANSFER, JPN_ACQUISITION)
    assert quantity.parties == ("THA", "JPN")
    assert quantity.blocks == (THAI_BLOCK, replace(THAI_BLOCK, last_id=1000))
    assert "reports 1009" in last_id.reason
    assert "reports 1000" in last_id.reason
    assert result.own.notation is Notation.INCONSISTENCIES
    assert result.submission("JPN").notation is Notation.INCONSISTENCIES
    assert result.own.notation.value == "Checked, inconsistencies identified"
    assert notations(result)[("THA", 2)] is Notation.INCONSISTENCIES
    assert notations(result)[("JPN", 1)] is Notation.INCONSISTENCIES
    assert notations(result)[("JPN", 2)] is Notation.NO_INCONSISTENCIES


def test_missing_acquisition_is_found_and_explained(reports: dict[str, AefReport]) -> None:
    japan = reports["JPN"]
    japan = replace(japan, actions=japan.actions[1:])
    result = check_against_counterpart(reports["THA"], japan)
    (finding,) = result.findings
    assert finding.kind is FindingKind.MISSING_COUNTERPART
    assert finding.reason == (
        "THA Table 3: Actions, row 2: a First transfer of 1009 ITMOs (CA0001 THA01 THA vintage "
        "2021 serials 1-1009) to JPN on 11/11/2025 has no matching Acquisition in JPN's AEF for "
        "2025"
    )
    assert finding.rows == (THA_FIRST_TRANSFER,)
    assert finding.parties == ("THA", "JPN")
    assert result.row("THA", 2).notation is Notation.INCONSISTENCIES
    assert result.own.notation is Notation.INCONSISTENCIES
    assert result.submission("JPN").notation is Notation.INCONSISTENCIES
    # Checked from Japan's side, the omission is Japan's.
    reverse = check_against_counterpart(japan, reports["THA"])
    assert reverse.own.findings == reverse.findings == result.findings


def test_missing_transfer_is_found_from_the_acquisition(reports: dict[str, AefReport]) -> None:
    thailand = reports["THA"]
    thailand = replace(thailand, actions=thailand.actions[:1])
    result = check_against_counterpart(thailand, reports["JPN"])
    (finding,) = result.findings
    assert finding.kind is FindingKind.MISSING_COUNTERPART
    assert finding.rows == (JPN_ACQUISITION,)
    assert "an Acquisition of 1009 ITMOs" in finding.reason
    assert "no matching First transfer or Transfer in THA's AEF for 2025" in finding.reason


def test_vintage_mismatch_is_found_and_explained(reports: dict[str, AefReport]) -> None:
    result = check_against_counterpart(
        reports["THA"], edit_acquisition(reports["JPN"], vintage=2022)
    )
    (finding,) = result.findings
    assert (finding.kind, finding.column) == (FindingKind.MISMATCH, "Vintage")
    assert finding.reason.startswith(
        "Vintage: THA Table 3: Actions, row 2 reports 2021, JPN Table 3: Actions, row 1 "
        "reports 2022"
    )
    assert finding.blocks == (THAI_BLOCK, replace(THAI_BLOCK, vintage=2022))


def test_action_dates_must_agree_within_the_tolerance(reports: dict[str, AefReport]) -> None:
    japan = edit_acquisition(reports["JPN"], action_date=date(2025, 11, 13))
    (finding,) = check_against_counterpart(reports["THA"], japan).findings
    assert finding.column == "Action date"
    assert "dates the First transfer 11/11/2025" in finding.reason
    assert "dates the Acquisition 13/11/2025, more than 1 day apart" in finding.reason
    relaxed = check_against_counterpart(reports["THA"], japan, date_tolerance=timedelta(days=2))
    assert relaxed.findings == ()


def test_wrong_parties_are_found(reports: dict[str, AefReport]) -> None:
    japan = edit_acquisition(reports["JPN"], transferring_party_id="MNG")
    (finding,) = check_against_counterpart(reports["THA"], japan).findings
    assert finding.column == "Transferring participating Party ID"
    assert "names MNG as the transferring Party, but the First transfer is THA's" in (
        finding.reason
    )


def test_rows_with_a_third_party_or_another_year_are_null(
    reports: dict[str, AefReport],
) -> None:
    result = check_against_counterpart(reports["THA"], reports["MNG"])
    assert result.findings == ()
    assert result.row("THA", 2).notation is Notation.NOT_AVAILABLE
    assert result.own.notation is Notation.NOT_AVAILABLE
    assert result.own.notation.value == "Null, information for check not available"
    assert result.submission("MNG").notation is Notation.NO_INCONSISTENCIES  # nothing to check
    other_year = replace(
        reports["JPN"], submission=replace(reports["JPN"].submission, reported_year=2026)
    )
    mixed = check_against_counterpart(reports["THA"], other_year)
    assert mixed.row("THA", 2).notation is Notation.NOT_AVAILABLE
    assert mixed.row("THA", 1).notation is Notation.NO_INCONSISTENCIES
    alone = check_against_counterpart(reports["JPN"], None)
    assert alone.counterpart is None
    assert alone.findings == ()
    assert [r.notation for r in alone.rows] == [
        Notation.NOT_AVAILABLE,  # the acquisition from THA: THA's report is not available
        Notation.NO_INCONSISTENCIES,
    ]
    assert alone.own.notation is Notation.NOT_AVAILABLE


def test_missing_mandatory_information_is_found(reports: dict[str, AefReport]) -> None:
    japan = edit_acquisition(reports["JPN"], authorization_id="")
    result = check_against_counterpart(reports["THA"], japan)
    kinds = {(f.kind, f.column) for f in result.findings}
    assert (FindingKind.MANDATORY_INFORMATION, "Authorization ID") in kinds
    (missing,) = [f for f in result.findings if f.kind is FindingKind.MANDATORY_INFORMATION]
    assert missing.reason == (
        "Table 3: Actions, row 1, 'Authorization ID': required value is missing"
    )
    assert missing.parties == ("JPN",)
    assert missing.blocks == (THAI_BLOCK,)
    assert result.submission("JPN").notation is Notation.INCONSISTENCIES


def test_the_same_party_cannot_be_its_own_counterpart(reports: dict[str, AefReport]) -> None:
    with pytest.raises(InvalidInput):
        check_against_counterpart(reports["THA"], reports["THA"])


# --------------------------------------------------------------------------------------------
# Recording findings
# --------------------------------------------------------------------------------------------


def japan_uses(engine: Engine, selection: UnitSelection) -> list[UnitBlock]:
    with writing(engine, CHECK_DAY) as uow:
        return services.use_for_ndc(
            uow, services.UseOrder("JPN01-GOV", "JPN01-NDC", selection, use_year=2026), "t:JPN"
        )


def assert_projection_is_a_replay(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        replayed = replay(uow.log.read_entries(0, uow.log.size()))
        assert replayed.active_blocks() == uow.projection.active_blocks()


def test_findings_are_recorded_and_flagged_units_are_not_used(
    demo: Engine, reports: dict[str, AefReport]
) -> None:
    japan = edit_acquisition(reports["JPN"], last_id=1000, last_unit_id=1000, quantity=1000)
    result = check_against_counterpart(reports["THA"], japan)
    with writing(demo, CHECK_DAY) as uow:
        recorded = record_findings(uow, result, "reconciler:JPN")
    flagged = sorted((b.first, b.last, b.retired) for b in recorded.flagged)
    assert flagged == [(1, 600, True), (601, 1009, False)]  # used and held by Japan
    assert all(b.inconsistent for b in recorded.flagged)
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        entry = Entry.from_canonical(uow.log.read_entries(recorded.seq, recorded.seq + 1)[0])
        held = uow.projection.held_blocks("JPN01-GOV")
    assert entry.kind == "consistency.checked"
    payload: Mapping[str, Any] = entry.payload  # JSON read back: its shape is the test's claim
    assert [s["notation"] for s in payload["submissions"]] == [
        "Checked, inconsistencies identified"
    ] * 2
    assert [f["column"] for f in payload["findings"]] == ["Last ID", "Quantity (t CO2 eq)"]
    assert [(b.first, b.last, b.inconsistent) for b in held] == [(601, 1009, True)]
    with pytest.raises(UnitsFlaggedInconsistent):
        japan_uses(demo, UnitSelection(quantity=100))
    assert_projection_is_a_replay(demo)


def test_only_the_serials_concerned_are_flagged(
    demo: Engine, reports: dict[str, AefReport]
) -> None:
    clean = check_against_counterpart(reports["THA"], reports["JPN"])
    concern = BlockRange("CA0001", "THA01", "THA", 2021, 700, 800)
    finding = Finding(
        FindingKind.MISMATCH, "Last ID", "test", (JPN_ACQUISITION,), ("JPN",), (concern,)
    )
    with writing(demo, CHECK_DAY) as uow:
        recorded = record_findings(uow, replace(clean, findings=(finding,)), "reconciler:JPN")
        again = record_findings(uow, replace(clean, findings=(finding,)), "reconciler:JPN")
    assert [(b.first, b.last) for b in recorded.flagged] == [(700, 800)]
    assert again.flagged == ()  # already flagged
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        held = [(b.first, b.last, b.inconsistent) for b in uow.projection.held_blocks("JPN01-GOV")]
    assert sorted(held) == [(601, 699, False), (700, 800, True), (801, 1009, False)]

    def serials(first: int, last: int) -> UnitSelection:
        return UnitSelection(
            ranges=(SerialRange(first, last),),
            ca_id="CA0001",
            originating_registry="THA01",
            first_transferring_party="THA",
            vintage=2021,
        )

    assert [(b.first, b.last) for b in japan_uses(demo, serials(601, 699))] == [(601, 699)]
    with pytest.raises(UnitsFlaggedInconsistent):
        japan_uses(demo, serials(750, 760))
    assert_projection_is_a_replay(demo)
