"""The submission workflow on SQLite and PostgreSQL with a fixed clock: initial reports as
versioned entries, the pre-check (submittable only with an initial report for each approach the
AEF reports on), the due date of 15 April and late submissions, and a year's status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.consistency import Notation
from ledger.accounting.cycle import (
    InitialReportDraft,
    InitialReportMissing,
    InitialReportNotFound,
    cycle_status,
    due_date,
    initial_report,
    pre_check,
    record_initial_report,
    record_pre_check,
    submit,
    to_document,
)
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo
from ledger.errors import InvalidInput
from ledger.log.chain import Entry

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
ON_TIME = datetime(2026, 4, 15, 23, 0, tzinfo=UTC)
LATE = datetime(2026, 4, 16, 1, 0, tzinfo=UTC)

ELEMENTS = {
    "participation": "Participation responsibilities fulfilled",
    "metrics_and_method": "t CO2 eq; averaging",
    "ndc_quantification": "Economy-wide, all gases, target level for 2030",
    "approach_description": "Joint Crediting Mechanism with Japan",
    "environmental_integrity": "Conservative baselines",
    "sustainable_development": "Safeguards apply",
}


@contextmanager
def writing(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=True, clock=lambda: at) as uow:
        yield uow
        uow.commit()


@contextmanager
def reading(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=False, clock=lambda: at) as uow:
        yield uow


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with writing(engine, DEMO_DAY) as uow:
        load_demo(uow)
    return engine


def draft(party: str, **changes: Any) -> InitialReportDraft:
    fields: dict[str, Any] = {
        "party": party,
        "ca_id": "CA0001",
        "elements": ELEMENTS,
        "duration_from": 2021,
        "duration_to": 2030,
        "expected_mitigation": {2025: 1009},
    }
    return InitialReportDraft(**(fields | changes))


def test_due_date_is_15_april_of_the_following_year() -> None:
    assert due_date(2025) == date(2026, 4, 15)


def test_initial_reports_are_versioned_entries(demo: Engine) -> None:
    with writing(demo, DEMO_DAY) as uow:
        first = record_initial_report(uow, draft("THA"), "registry:THA")
        updated = record_initial_report(uow, draft("THA", duration_to=2035), "registry:THA")
    assert (first.version, first.kind, updated.version, updated.kind) == (
        1,
        "initial report",
        2,
        "updated initial report",
    )
    with reading(demo, DEMO_DAY) as uow:
        entry = Entry.from_canonical(uow.log.read_entries(first.seq, first.seq + 1)[0])
        assert initial_report(uow, "THA", "CA0001") == updated
        assert initial_report(uow, "THA", "CA0001", 1) == first
        with pytest.raises(InitialReportNotFound):
            initial_report(uow, "THA", "CA0001", 3)
    assert entry.kind == "initial_report.recorded"
    recorded: Any = first.recorded
    assert [a["authorization_id"] for a in recorded["authorizations"]] == ["THA-JCM-2025-001"]
    assert recorded["ndc_periods"][0]["period_start"] == 2021
    document = to_document(first)
    assert document["kind"] == "initial report"
    elements: Any = document["elements"]
    assert [e["paragraph"] for e in elements][:2] == [
        "2/CMA.3 annex para 18(a)",
        "2/CMA.3 annex para 18(b)",
    ]
    assert elements[1]["content"] is None


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"elements": {**ELEMENTS, "participation": " "}}, r"18\(a\) participation"),
        ({"elements": {**ELEMENTS, "colour": "green"}}, "unknown initial report elements"),
        ({"duration_from": 2031}, "duration ends before it starts"),
        ({"expected_mitigation": {2040: 5}}, "outside the approach's duration"),
        ({"expected_mitigation": {2025: -5}}, "cannot be negative"),
        ({"ca_id": "CA0002"}, "THA does not participate in CA0002"),
    ],
)
def test_an_incomplete_initial_report_records_nothing(
    demo: Engine, changes: dict[str, Any], says: str
) -> None:
    with reading(demo, DEMO_DAY) as uow:
        size = uow.log.size()
    with pytest.raises(InvalidInput, match=says), writing(demo, DEMO_DAY) as uow:
        record_initial_report(uow, draft("THA", **changes), "registry:THA")
    with reading(demo, DEMO_DAY) as uow:
        assert uow.log.size() == size


def test_an_aef_is_submittable_with_an_initial_report_and_late_after_15_april(
    demo: Engine,
) -> None:
    with reading(demo, ON_TIME) as uow:
        blocked = pre_check(uow, "JPN", 2025)
        assert cycle_status(uow, "JPN", 2025).stage == "draft"
        assert not cycle_status(uow, "JPN", 2025).overdue
    assert not blocked.submittable
    assert blocked.blockers == (
        "JPN has recorded no initial report for CA0001 (Table 3 rows 1, 2): an initial report "
        "for a cooperative approach is a requirement for submitting annual information on "
        "ITMOs from it (4/CMA.6 paras 26-27)",
    )
    assert (blocked.notation, blocked.counterparts) == (
        Notation.NO_INCONSISTENCIES,
        (("MNG", "1.0"), ("THA", "1.0")),
    )
    with pytest.raises(InitialReportMissing) as refused, writing(demo, ON_TIME) as uow:
        submit(uow, "JPN", 2025, "registry:JPN")
    assert refused.value.rule == "initial-report-before-annual-information"
    assert refused.value.details["cooperative_approaches"] == ["CA0001"]
    assert blocked.blockers[0] in refused.value.message
    with reading(demo, ON_TIME) as uow:
        assert reporting.submissions(uow, "JPN") == []
    with writing(demo, ON_TIME) as uow:
        record_initial_report(uow, draft("JPN"), "registry:JPN")
        check = pre_check(uow, "JPN", 2025)
        seq = record_pre_check(uow, check, "registry:JPN")
        assert submit(uow, "JPN", 2025, "registry:JPN") == "1.0"
    assert check.submittable
    assert not check.late
    with reading(demo, LATE) as uow:
        japan = cycle_status(uow, "JPN", 2025)
        thailand = cycle_status(uow, "THA", 2025)
        entry = Entry.from_canonical(uow.log.read_entries(seq, seq + 1)[0])
    assert entry.kind == "aef.pre_checked"
    assert entry.payload["submittable"] is True
    assert japan.stage == "submitted"
    assert [(s.version, s.late) for s in japan.submissions] == [("1.0", False)]
    assert japan.last_pre_check is not None
    assert japan.last_pre_check.seq == seq
    assert (thailand.stage, thailand.overdue) == ("draft", True)
    with writing(demo, LATE) as uow:
        reporting.record_submission(uow, "THA", 2025, "registry:THA")
        late = cycle_status(uow, "THA", 2025)
    assert [(s.version, s.late) for s in late.submissions] == [("1.0", True)]
    assert not late.overdue
