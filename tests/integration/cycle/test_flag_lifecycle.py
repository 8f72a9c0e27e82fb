"""Inconsistency flags have a lifecycle (4/CMA.6 paras 29-32, 39-40), on SQLite and PostgreSQL:
raised by a check or by the secretariat's imported result, resolved by a later check of the same
rows or by the secretariat's result on a corrected submission, always as ledger entries with the
reason; NDC use of flagged units is refused only while the flag is open.

The world is the demo (clock fixed at 11 Nov 2025): Thailand's Table 3 row 2 is the First
transfer of serials 1-1009 to Japan, Japan's row 1 the matching Acquisition; Japan used 1-600.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.aef import ActionType, AefReport
from ledger.accounting.consistency import Notation, check_against_counterpart, record_findings
from ledger.accounting.cycle import (
    ReviewedSubmissionNotFound,
    ReviewResult,
    RowResult,
    open_flags,
    record_review,
)
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo
from ledger.errors import InvalidInput, UnitsFlaggedInconsistent
from ledger.log.chain import Entry
from ledger.registry import services
from ledger.registry.model import UnitBlock, UnitSelection
from ledger.registry.projection import replay

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
CHECK_DAY = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
REVIEW_DAY = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)


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


def reports(engine: Engine) -> dict[str, AefReport]:
    with SqlAlchemyUnitOfWork(engine, write=False, clock=lambda: CHECK_DAY) as uow:
        return {p: reporting.aef_report_for(uow, p, 2025) for p in ("THA", "JPN")}


def short_acquisition(report: AefReport) -> AefReport:
    """Japan's report with its Acquisition of 1-1009 misreported as 1-1000."""
    acquisition, *rest = report.actions
    assert acquisition.action_type is ActionType.ACQUISITION
    wrong = replace(acquisition, last_id=1000, last_unit_id=1000, quantity=1000)
    return replace(report, actions=(wrong, *rest))


def japan_uses(engine: Engine, quantity: int) -> list[UnitBlock]:
    with writing(engine, REVIEW_DAY) as uow:
        order = services.UseOrder(
            "JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=quantity), use_year=2026
        )
        return services.use_for_ndc(uow, order, "t:JPN")


def flags(engine: Engine) -> list[tuple[int, int, bool]]:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return [(b.first, b.last, b.inconsistent) for b in uow.projection.held_blocks("JPN01-GOV")]


def entry(engine: Engine, seq: int) -> Entry:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return Entry.from_canonical(uow.log.read_entries(seq, seq + 1)[0])


def assert_projection_is_a_replay(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        replayed = replay(uow.log.read_entries(0, uow.log.size()))
        assert replayed.active_blocks() == uow.projection.active_blocks()


def test_a_later_clean_check_of_the_same_rows_resolves_the_flag(demo: Engine) -> None:
    own = reports(demo)
    with writing(demo, CHECK_DAY) as uow:
        raised = record_findings(
            uow, check_against_counterpart(own["THA"], short_acquisition(own["JPN"])), "r:JPN"
        )
    assert flags(demo) == [(601, 1009, True)]
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        [open_flag] = open_flags(uow, "JPN")
    assert (open_flag.raised_seq, open_flag.raised_by) == (raised.seq, "consistency.checked")
    assert [reason.split(":")[0] for reason in open_flag.reasons] == [
        "Last ID",
        "Quantity (t CO2 eq)",
    ]
    with pytest.raises(UnitsFlaggedInconsistent):
        japan_uses(demo, 10)
    with writing(demo, CHECK_DAY) as uow:
        resolved = record_findings(uow, check_against_counterpart(own["THA"], own["JPN"]), "r:JPN")
    assert raised.resolved == ()
    assert resolved.flagged == ()
    assert sorted((b.first, b.last, b.retired) for b in resolved.resolved) == [
        (1, 600, True),
        (601, 1009, False),
    ]
    assert flags(demo) == [(601, 1009, False)]
    payload: Mapping[str, Any] = entry(demo, resolved.seq).payload
    assert {r["reason"] for r in payload["resolved"]} == {
        "THA Table 3: Actions, row 1 checked, no inconsistencies identified"
    }
    assert [b.quantity for b in japan_uses(demo, 10)] == [10]
    assert_projection_is_a_replay(demo)


def test_a_check_that_still_finds_the_fault_keeps_the_flag(demo: Engine) -> None:
    own = reports(demo)
    wrong = check_against_counterpart(own["THA"], short_acquisition(own["JPN"]))
    with writing(demo, CHECK_DAY) as uow:
        record_findings(uow, wrong, "r:JPN")
        again = record_findings(uow, wrong, "r:JPN")
    assert again.flagged == ()
    assert again.resolved == ()
    assert flags(demo) == [(601, 1009, True)]
    assert_projection_is_a_replay(demo)


def submit(engine: Engine, party: str) -> str:
    with writing(engine, CHECK_DAY) as uow:
        return reporting.record_submission(uow, party, 2025, f"registry:{party}")


def test_the_secretariats_result_raises_and_resolves_flags(demo: Engine) -> None:
    assert submit(demo, "JPN") == "1.0"
    inconsistent = ReviewResult(
        "JPN",
        2025,
        "1.0",
        Notation.INCONSISTENCIES,
        (RowResult(1, Notation.INCONSISTENCIES, "Acquisition without a matching transfer"),),
    )
    with writing(demo, REVIEW_DAY) as uow:
        raised = record_review(uow, inconsistent, "secretariat")
    assert flags(demo) == [(601, 1009, True)]
    payload: Mapping[str, Any] = entry(demo, raised.seq).payload
    assert entry(demo, raised.seq).kind == "consistency.reviewed"
    assert payload["rows"] == [
        {
            "row": 1,
            "notation": "Checked, inconsistencies identified",
            "reason": "Acquisition without a matching transfer",
            "itmos": {
                "cooperative_approach_id": "CA0001",
                "registry_id": "THA01",
                "first_transferring_party_id": "THA",
                "vintage": 2021,
                "first_id": 1,
                "last_id": 1009,
            },
        }
    ]
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        [open_flag] = open_flags(uow, "JPN")
        assert open_flags(uow, "THA") == []
    assert (open_flag.block.first, open_flag.raised_seq, open_flag.raised_by) == (
        601,
        raised.seq,
        "consistency.reviewed",
    )
    assert open_flag.reasons == ("Acquisition without a matching transfer",)
    with pytest.raises(UnitsFlaggedInconsistent):
        japan_uses(demo, 10)
    assert submit(demo, "JPN") == "1.1"
    consistent = ReviewResult(
        "JPN",
        2025,
        "1.1",
        Notation.NO_INCONSISTENCIES,
        (RowResult(1, Notation.NO_INCONSISTENCIES),),
    )
    with writing(demo, REVIEW_DAY) as uow:
        resolved = record_review(uow, consistent, "secretariat")
    assert [(b.first, b.last) for b in resolved.resolved if not b.retired] == [(601, 1009)]
    resolution: Mapping[str, Any] = entry(demo, resolved.seq).payload
    reasons = [r["reason"] for r in resolution["resolved"]]
    assert reasons
    assert all(
        r == "the secretariat's check of JPN AEF 2025 v1.1, Table 3 row 1: "
        "Checked, no inconsistencies identified"
        for r in reasons
    )
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert open_flags(uow, "JPN") == []
    assert [b.quantity for b in japan_uses(demo, 10)] == [10]
    assert_projection_is_a_replay(demo)


@pytest.mark.parametrize(
    ("result", "error"),
    [
        (
            ReviewResult("JPN", 2025, "1.4", Notation.NO_INCONSISTENCIES, ()),
            ReviewedSubmissionNotFound,
        ),
        (
            ReviewResult(
                "JPN",
                2025,
                "1.0",
                Notation.NO_INCONSISTENCIES,
                (RowResult(9, Notation.NO_INCONSISTENCIES),),
            ),
            InvalidInput,
        ),
        (
            ReviewResult(
                "JPN",
                2025,
                "1.0",
                Notation.INCONSISTENCIES,
                (RowResult(1, Notation.INCONSISTENCIES),),
            ),
            InvalidInput,
        ),
        (
            ReviewResult(
                "JPN",
                2025,
                "1.0",
                Notation.NO_INCONSISTENCIES,
                (RowResult(1, Notation.INCONSISTENCIES, "wrong quantity"),),
            ),
            InvalidInput,
        ),
        (
            ReviewResult(
                "JPN",
                2025,
                "1.0",
                Notation.NO_INCONSISTENCIES,
                (
                    RowResult(1, Notation.NO_INCONSISTENCIES),
                    RowResult(1, Notation.NO_INCONSISTENCIES),
                ),
            ),
            InvalidInput,
        ),
    ],
)
def test_a_bad_review_result_records_nothing(
    demo: Engine, result: ReviewResult, error: type[Exception]
) -> None:
    submit(demo, "JPN")
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        size = uow.log.size()
    with pytest.raises(error), writing(demo, REVIEW_DAY) as uow:
        record_review(uow, result, "secretariat")
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert uow.log.size() == size
