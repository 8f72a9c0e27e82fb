"""A transfer dated at the end of a year and its Acquisition dated at the start of the next are
in two AEFs; matched across 31 December, they are a pair, not two missing counterparts (the
demo's First transfer of serials 1-1009 from Thailand to Japan, moved to the year end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ledger.accounting import reporting
from ledger.accounting.aef import ActionType, AefReport, AefTable
from ledger.accounting.consistency import FindingKind, RowRef, check_against_counterpart
from ledger.accounting.consistency.year_end import match_across_year_end
from ledger.accounting.cycle import pre_check
from ledger.demo import load_demo
from ledger.errors import InvalidInput
from tests.fakes.uow import FakeUnitOfWork

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def demo() -> tuple[AefReport, AefReport]:
    world = FakeUnitOfWork(clock=lambda: DEMO_DAY)
    load_demo(world)
    world.commit()
    return reporting.aef_report_for(world, "THA", 2025), reporting.aef_report_for(
        world, "JPN", 2025
    )


def split(
    demo: tuple[AefReport, AefReport], sent: date, acquired: date, **acquisition: Any
) -> tuple[AefReport, AefReport, AefReport]:
    """Thailand's 2025 AEF with its First transfer on ``sent``; Japan's 2025 AEF without the
    Acquisition, and its 2026 AEF with only the Acquisition, on ``acquired``."""
    thai, japan = demo
    actions = [
        replace(r, action_date=sent) if r.action_type is ActionType.FIRST_TRANSFER else r
        for r in thai.actions
    ]
    [acquisition_row] = [r for r in japan.actions if r.action_type is ActionType.ACQUISITION]
    later = replace(
        japan,
        submission=replace(japan.submission, reported_year=2026),
        actions=(replace(acquisition_row, action_date=acquired, **acquisition),),
    )
    without = tuple(r for r in japan.actions if r.action_type is not ActionType.ACQUISITION)
    return replace(thai, actions=tuple(actions)), replace(japan, actions=without), later


def test_a_pair_split_across_31_december_is_matched(demo: tuple[AefReport, AefReport]) -> None:
    thai, japan, later = split(demo, date(2025, 12, 31), date(2026, 1, 2))
    same_year = check_against_counterpart(thai, japan)
    assert [f.kind for f in same_year.findings] == [FindingKind.MISSING_COUNTERPART]
    match = match_across_year_end(thai, later, DAY)
    first_transfer = RowRef("THA", AefTable.ACTIONS, 2)
    assert match.pairs == {
        first_transfer: RowRef("JPN", AefTable.ACTIONS, 1),
        RowRef("JPN", AefTable.ACTIONS, 1): first_transfer,
    }
    assert match.findings == ()


@pytest.mark.parametrize(
    ("sent", "acquired"),
    [
        (date(2025, 12, 30), date(2026, 1, 2)),  # the transfer is not at the year end
        (date(2025, 12, 31), date(2026, 1, 3)),  # the acquisition is not at the year start
    ],
)
def test_rows_away_from_the_year_end_stay_unmatched(
    demo: tuple[AefReport, AefReport], sent: date, acquired: date
) -> None:
    thai, _, later = split(demo, sent, acquired)
    assert match_across_year_end(thai, later, DAY).pairs == {}
    assert match_across_year_end(thai, later, 2 * DAY).pairs != {}


def test_a_split_pair_must_agree_like_any_pair(demo: tuple[AefReport, AefReport]) -> None:
    thai, _, later = split(demo, date(2025, 12, 31), date(2026, 1, 1), vintage=2022)
    [finding] = match_across_year_end(thai, later, DAY).findings
    assert (finding.kind, finding.column) == (FindingKind.MISMATCH, "Vintage")
    assert finding.rows == (RowRef("THA", AefTable.ACTIONS, 2), RowRef("JPN", AefTable.ACTIONS, 1))


def test_the_pre_check_matches_across_the_year_end_with_the_next_years_report(
    demo: tuple[AefReport, AefReport],
) -> None:
    """Thailand's pre-check against Japan's AEFs for 2025 (without the Acquisition) and 2026
    (with it): the demo's First transfer of 11 November is matched only once the tolerance
    reaches back to it from 1 January."""
    world = FakeUnitOfWork(clock=lambda: DEMO_DAY)
    load_demo(world)
    world.commit()
    _, japan, later = split(demo, date(2025, 11, 11), date(2026, 1, 2))
    strict = pre_check(world, "THA", 2025, [japan, later])
    assert [(f.kind, f.rows) for f in strict.findings] == [
        (FindingKind.MISSING_COUNTERPART, (RowRef("THA", AefTable.ACTIONS, 2),))
    ]
    assert ("JPN", japan.submission.version) in strict.counterparts
    lenient = pre_check(world, "THA", 2025, [japan, later], date_tolerance=timedelta(days=60))
    assert lenient.findings == ()
    with pytest.raises(InvalidInput, match="one counterpart report per Party and year"):
        pre_check(world, "THA", 2025, [japan, japan])
