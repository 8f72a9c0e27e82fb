"""The import core on the in-memory unit of work: the plan's order, batches with their
``import.batch`` entries, resuming, never applying a row twice, refusals and the dry run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from ledger.errors import InvalidInput, LedgerError
from ledger.imports import (
    IMPORT_BATCH,
    ImportFileUnreadable,
    ImportPlan,
    ImportRow,
    ImportRowRefused,
    ProgressEvent,
    Refusal,
    plan_import,
    row_digest,
    run_import,
)
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from tests.fakes import FakeUnitOfWork


class FakeStorage:
    """Storage whose units of work are one ``FakeUnitOfWork`` (its own database)."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()

    def unit_of_work(self, *, write: bool) -> FakeUnitOfWork:
        del write
        return self.uow

    def entries(self) -> list[Entry]:
        log = self.uow.log
        return [Entry.from_canonical(body) for body in log.read_entries(0, log.size())]

    def notes(self) -> list[int]:
        return [e.payload["n"] for e in self.entries() if e.kind == "test.note"]  # type: ignore[misc]


class Refused(InvalidInput):
    """A row refused by the test."""

    problem_type = "test-refused"
    title = "A row refused by the test"
    rule = "test-rule"


def note(n: int) -> Any:
    def apply(uow: UnitOfWork, actor: str) -> object:
        return record_entry(uow, "test.note", {"n": n}, actor)

    return apply


def refuse(uow: UnitOfWork, actor: str) -> object:
    del uow, actor
    raise Refused("refused by the test", why="test")


def half_then_refuse(uow: UnitOfWork, actor: str) -> object:
    """An action of two entries refused after its first."""
    record_entry(uow, "test.note", {"n": -1}, actor)
    raise Refused("refused after one entry")


def row(n: int, on: date | None = None, *, apply: Any = None, reference: bool = False) -> ImportRow:
    return ImportRow(
        row=n,
        action="note",
        apply=apply or note(n),
        digest=row_digest(f"row {n}".encode()),
        action_date=on,
        reference_data=reference,
    )


def plan_of(rows: Sequence[ImportRow], unreadable: Sequence[Refusal] = ()) -> ImportPlan:
    return plan_import("f" * 64, "test", rows, unreadable)


def batch_entries(storage: FakeStorage) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in storage.entries() if e.kind == IMPORT_BATCH]


def test_reference_data_first_then_by_action_date_equal_dates_in_file_order() -> None:
    d1, d2 = date(2025, 11, 11), date(2025, 12, 16)
    rows = [
        row(1, d2),
        row(2),  # dated on its recording day: last
        row(3, d1),
        row(4, reference=True),
        row(5, d1),
        row(6, reference=True),
    ]
    assert [r.row for r in plan_of(rows).rows] == [4, 6, 3, 5, 1, 2]


def test_rows_commit_in_batches_each_with_its_import_batch_entry() -> None:
    storage = FakeStorage()
    report = run_import(storage, plan_of([row(n) for n in range(1, 6)]), "test", batch_size=2)
    assert report.complete
    assert report.applied == 5
    assert report.already_imported == 0
    assert [(b.first_row, b.last_row) for b in report.batches] == [(1, 2), (3, 4), (5, 5)]
    kinds = [e.kind for e in storage.entries()]
    assert kinds == ["test.note", "test.note", IMPORT_BATCH] * 2 + ["test.note", IMPORT_BATCH]
    first = batch_entries(storage)[0]
    assert first["file_rows"] == [1, 2]
    assert first["row_seqs"] == [0, 1]
    assert first["rows_total"] == 5
    assert first["file_sha256"] == "f" * 64
    assert storage.uow.commits == 3


class Stop(Exception):
    """The test interrupts the import."""


def stop_after(batches: int) -> Any:
    def progress(event: ProgressEvent) -> None:
        if event.batch is not None and event.batch.last_row >= batches * 2:
            raise Stop

    return progress


@pytest.mark.parametrize("interrupted_after", [1, 2])
def test_an_interrupted_import_resumes_after_its_last_batch(interrupted_after: int) -> None:
    plan = plan_of([row(n) for n in range(1, 8)])
    whole = FakeStorage()
    run_import(whole, plan, "test", batch_size=2)

    resumed = FakeStorage()
    with pytest.raises(Stop):
        run_import(resumed, plan, "test", batch_size=2, progress=stop_after(interrupted_after))
    assert resumed.notes() == list(range(1, 2 * interrupted_after + 1))
    report = run_import(resumed, plan, "test", batch_size=2)
    assert report.already_imported == 2 * interrupted_after
    assert report.complete

    assert [(e.kind, e.payload) for e in resumed.entries()] == [
        (e.kind, e.payload) for e in whole.entries()
    ]


def test_a_file_imported_in_full_imports_nothing_more() -> None:
    storage = FakeStorage()
    plan = plan_of([row(n) for n in range(1, 4)])
    run_import(storage, plan, "test", batch_size=2)
    size = storage.uow.log.size()
    again = run_import(storage, plan, "test", batch_size=2)
    assert (again.applied, again.already_imported, again.batches) == (0, 3, ())
    assert again.complete
    assert storage.uow.log.size() == size
    checked = run_import(storage, plan, "test", dry_run=True)
    assert (checked.applied, checked.already_imported, checked.complete) == (0, 3, True)


def test_a_longer_file_continues_after_the_rows_another_file_imported() -> None:
    storage = FakeStorage()
    run_import(storage, plan_of([row(n) for n in range(1, 5)]), "test", batch_size=2)
    longer = plan_import("e" * 64, "test", [row(n) for n in range(1, 8)])
    report = run_import(storage, longer, "test", batch_size=3)
    assert report.already_imported == 4
    assert report.applied == 3
    assert storage.notes() == [1, 2, 3, 4, 5, 6, 7]


def test_a_changed_row_is_not_taken_for_an_imported_one() -> None:
    storage = FakeStorage()
    run_import(storage, plan_of([row(n) for n in range(1, 5)]), "test", batch_size=2)
    changed = [row(1), row(2), ImportRow(3, "note", note(30), row_digest(b"row 3, now")), row(4)]
    report = run_import(storage, plan_of(changed), "test", batch_size=2)
    assert report.already_imported == 2
    assert storage.notes() == [1, 2, 3, 4, 30, 4]


def test_two_runs_of_one_file_never_apply_a_row_twice() -> None:
    """A second run commits the rest while the first waits between batches: the first one
    finds those batches before its next one and stops."""
    storage = FakeStorage()
    plan = plan_of([row(n) for n in range(1, 8)])
    other: list[int] = []

    def meanwhile(_: ProgressEvent) -> None:
        if not other:
            other.append(run_import(storage, plan, "other", batch_size=2).applied)

    report = run_import(storage, plan, "test", batch_size=2, progress=meanwhile)
    assert other == [5]
    assert (report.applied, report.already_imported, report.complete) == (2, 5, True)
    assert storage.notes() == list(range(1, 8))


def test_a_refused_row_rolls_its_batch_back_and_names_its_row_and_rule() -> None:
    storage = FakeStorage()
    rows = [row(1), row(2), row(3), row(4, apply=refuse), row(5)]
    with pytest.raises(ImportRowRefused) as raised:
        run_import(storage, plan_of(rows), "test", batch_size=2)
    refusal = raised.value.refusal
    assert (refusal.row, refusal.rule, refusal.problem_type) == (4, "test-rule", "test-refused")
    assert refusal.details == {"why": "test"}
    assert raised.value.imported_rows == 2
    assert raised.value.details["batches_committed"] == 1
    assert storage.notes() == [1, 2]


def test_a_plan_with_unreadable_rows_imports_nothing() -> None:
    storage = FakeStorage()
    unreadable = [Refusal(2, "?", "request-body-parsable", "http-400", "Bad", "not JSON")]
    with pytest.raises(ImportFileUnreadable) as raised:
        run_import(storage, plan_of([row(1), row(3)], unreadable), "test")
    assert raised.value.refusals == tuple(unreadable)
    assert storage.uow.log.size() == 0


def test_a_dry_run_appends_nothing_and_reports_every_refused_row() -> None:
    storage = FakeStorage()
    unreadable = [Refusal(9, "?", "request-body-parsable", "http-400", "Bad", "not JSON")]
    rows = [row(1), row(2, apply=refuse), row(3), row(4, apply=refuse), row(5)]
    report = run_import(storage, plan_of(rows, unreadable), "test", dry_run=True)
    assert storage.uow.log.size() == 0
    assert storage.uow.commits == 0
    assert report.dry_run
    assert not report.complete
    assert report.applied == 3
    assert [(r.row, r.rule) for r in report.refusals] == [
        (2, "test-rule"),
        (4, "test-rule"),
        (9, "request-body-parsable"),
    ]


def test_a_dry_run_drops_the_entries_of_an_action_refused_half_way() -> None:
    """Rows after a refusal that had appended part of its entries see only accepted rows."""
    seen: list[list[int]] = []

    def look(uow: UnitOfWork, actor: str) -> object:
        log = uow.log
        entries = [Entry.from_canonical(b) for b in log.read_entries(0, log.size())]
        seen.append([e.payload["n"] for e in entries])  # type: ignore[misc]
        return note(4)(uow, actor)

    storage = FakeStorage()
    rows = [row(1), row(2), row(3, apply=half_then_refuse), row(4, apply=look), row(5)]
    report = run_import(storage, plan_of(rows), "test", dry_run=True)
    assert seen == [[1, 2]]
    assert [r.row for r in report.refusals] == [3]
    assert report.applied == 4
    assert storage.uow.log.size() == 0


def test_a_dry_run_of_a_half_imported_file_checks_the_rest() -> None:
    storage = FakeStorage()
    plan = plan_of([row(n) for n in range(1, 6)])
    with pytest.raises(Stop):
        run_import(storage, plan, "test", batch_size=2, progress=stop_after(1))
    report = run_import(storage, plan, "test", dry_run=True)
    assert (report.already_imported, report.applied, report.refusals) == (2, 3, ())
    assert not report.complete


def test_a_refusal_keeps_the_rule_of_the_error() -> None:
    error: LedgerError = Refused("no", first=1, on=date(2025, 1, 2), raw=b"\x01")
    refusal = Refusal.of(7, "transfer", error)
    assert refusal.details == {"first": 1, "on": "2025-01-02", "raw": "01"}
    assert (refusal.rule, refusal.title) == ("test-rule", "A row refused by the test")
