"""Running an import plan: in batches, each one unit of work, or as a dry run.

**Import.** The rows run in plan order through the registry's use cases, every rule applied, in
batches of ``batch_size`` rows. A batch is one unit of work: its rows and its ``import.batch``
entry (:mod:`ledger.imports.progress`) commit together, or, if a row is refused, not at all;
the import then stops with :class:`~ledger.imports.errors.ImportRowRefused` naming the row and
its rule, and the batches before it stay. Run again, an import continues after the rows the
ledger already holds: an interrupted import resumes where it stopped, and a file imported in full
imports nothing more. Before each batch, under the ledger's write lock, the import reads the
batch entries appended since its last look, so two runs of one file never apply a row twice.

**Bulk path.** Where the storage can (``ledger.ports.BatchingUnitOfWork``), a batch's rows run
with the projection held in memory: each record the rules need is read once per batch, and the
rows the batch writes are sent at its end, one statement per table, instead of a dozen
statements per row (``ledger.adapters.sql.batch``). The use cases and their rules are the same
and the stored result is byte for byte the same. If anything stops such a batch before its
commit (a refused row, a value the database refuses), nothing of it is kept and the batch is
written again row by row, which stops at the refused row exactly as described above.

**Dry run.** Every row that the import would run is applied in order, in one unit of work that
is rolled back at the end: later rows see the effects of earlier accepted rows, a refused row is
reported (row, action, rule) and the run goes on without it, and nothing is appended. A refused
action that had appended part of its entries before its refusal (an action of several entries)
leaves the unit of work unusable: the run rolls back, applies the accepted rows again in a new
unit of work, and continues. A dry run holds the ledger's write lock while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.errors import LedgerError
from ledger.imports.errors import ImportFileUnreadable, ImportRowRefused
from ledger.imports.plan import ImportPlan, ImportRow, Refusal
from ledger.imports.progress import IMPORT_BATCH, batch_payload, batch_records, committed_rows
from ledger.ports import AppendedEntry, BatchingUnitOfWork, Storage, UnitOfWork
from ledger.recording import record_entry

BATCH_SIZE = 500
"""Rows per batch (per unit of work) by default."""


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """A batch this run committed: the plan's rows ``first_row .. last_row`` (from 1) and the
    seq of its ``import.batch`` entry."""

    first_row: int
    last_row: int
    seq: int


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """How far a run is: ``done`` of the plan's ``total`` rows are imported (or, in a dry run,
    checked), counting those an earlier run imported; ``batch`` is the batch just committed."""

    done: int
    total: int
    dry_run: bool
    batch: CommittedBatch | None = None


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of a run: rows of the plan imported by earlier (or concurrent) runs, rows it
    applied (a dry run: rows accepted), the batches it committed, the rows refused (a dry run:
    every one, and the unreadable ones; an import that stops raises instead) and the tree size
    after it."""

    file_sha256: str
    source: str
    rows_total: int
    already_imported: int
    applied: int
    batches: tuple[CommittedBatch, ...]
    refusals: tuple[Refusal, ...]
    dry_run: bool
    tree_size: int

    @property
    def complete(self) -> bool:
        """Every row of the file is in the ledger (a dry run: was, before it ran)."""
        imported = self.already_imported + (0 if self.dry_run else self.applied)
        return imported == self.rows_total


def run_import(
    storage: Storage,
    plan: ImportPlan,
    actor: str,
    *,
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
    progress: Progress | None = None,
    bulk: bool = True,
) -> ImportReport:
    """Import ``plan`` as ``actor`` (or, with ``dry_run``, only check it): see the module
    docstring. An import of a plan with unreadable rows imports nothing
    (:class:`~ledger.imports.errors.ImportFileUnreadable`). ``bulk=False`` writes every batch
    row by row (the reference the bulk path is tested and measured against)."""
    if batch_size < 1:
        raise ValueError("a batch holds at least one row")
    if plan.unreadable and not dry_run:
        raise ImportFileUnreadable(plan.unreadable)
    with storage.unit_of_work(write=False) as uow:
        seen = uow.log.size()
        done = committed_rows(plan, batch_records(uow.log, 0, seen))
    if dry_run:
        return _dry_run(storage, plan, actor, done, batch_size, progress)
    return _import(storage, plan, actor, done, seen, batch_size, progress, bulk)


@dataclass(frozen=True, slots=True)
class _Step:
    """One write transaction of an import: ``found`` rows of the plan were in the ledger when
    it began (an earlier or concurrent run's batches counted), ``batch`` is the batch it
    committed (``None``: every row was already in), and the log then held ``tree_size``
    entries."""

    found: int
    batch: CommittedBatch | None
    tree_size: int


class _BulkStopped(Exception):
    """The bulk path stopped a batch (a row refused, a value the database refused, anything):
    nothing of it was kept; the batch is written again row by row, which decides."""


def _import(
    storage: Storage,
    plan: ImportPlan,
    actor: str,
    done: int,
    seen: int,
    batch_size: int,
    progress: Progress | None,
    bulk: bool,
) -> ImportReport:
    already = done
    applied = 0
    batches: list[CommittedBatch] = []
    tree_size = seen
    total = len(plan.rows)
    while done < total:
        try:
            step = _step(storage, plan, actor, done, seen, batch_size, len(batches), bulk=bulk)
        except _BulkStopped:
            step = _step(storage, plan, actor, done, seen, batch_size, len(batches), bulk=False)
        already, done = already + step.found - done, step.found
        seen = tree_size = step.tree_size
        if step.batch is None:
            break
        batches.append(step.batch)
        applied += step.batch.last_row - step.batch.first_row + 1
        done = step.batch.last_row
        if progress is not None:
            progress(ProgressEvent(done, total, False, step.batch))
    return ImportReport(
        plan.file_sha256,
        plan.source,
        total,
        already,
        applied,
        tuple(batches),
        (),
        False,
        tree_size,
    )


def _step(
    storage: Storage,
    plan: ImportPlan,
    actor: str,
    done: int,
    seen: int,
    batch_size: int,
    batches: int,
    *,
    bulk: bool,
) -> _Step:
    """Commit the next batch after the rows the ledger holds, in one unit of work. ``bulk``:
    with the projection held in memory (``BatchingUnitOfWork.batched``), if the storage can;
    then whatever stops the batch before its commit leaves as :class:`_BulkStopped`. Row by
    row, a refused row stops the import (:class:`ImportRowRefused`). A failed commit (a lost
    connection) leaves as it is, either way."""
    total = len(plan.rows)
    with storage.unit_of_work(write=True) as uow:
        # Batches another run of these rows committed since we last looked.
        size = uow.log.size()
        found = committed_rows(plan, batch_records(uow.log, seen, size), done)
        if found >= total:
            return _Step(found, None, size)
        first, last = found + 1, min(found + batch_size, total)
        rows = plan.rows[first - 1 : last]
        if bulk and isinstance(uow, BatchingUnitOfWork):
            try:
                with uow.batched() as work:
                    appended = _apply(work, plan, rows, actor, found, batches)
            except Exception as exc:
                raise _BulkStopped(f"rows {first}-{last}") from exc
        else:
            appended = _apply(uow, plan, rows, actor, found, batches)
        uow.commit()
    return _Step(found, CommittedBatch(first, last, appended.seq), appended.tree_size)


def _apply(
    uow: UnitOfWork,
    plan: ImportPlan,
    rows: Sequence[ImportRow],
    actor: str,
    found: int,
    batches: int,
) -> AppendedEntry:
    """Apply ``rows`` (the plan's rows after the first ``found``) and append their
    ``import.batch`` entry, in ``uow``; the first refused row stops the import."""
    row_seqs: list[int] = []
    for row in rows:
        row_seqs.append(uow.log.size())
        try:
            row.apply(uow, actor)
        except LedgerError as exc:
            raise ImportRowRefused(
                Refusal.of(row.row, row.action, exc),
                imported_rows=found,
                rows_total=len(plan.rows),
                batches=batches,
            ) from exc
    first = found + 1
    payload = batch_payload(plan, first, first + len(rows) - 1, row_seqs)
    return record_entry(uow, IMPORT_BATCH, payload, actor)


def _dry_run(
    storage: Storage,
    plan: ImportPlan,
    actor: str,
    done: int,
    step: int,
    progress: Progress | None,
) -> ImportReport:
    pending = plan.rows[done:]
    total = len(plan.rows)
    accepted: list[ImportRow] = []
    refusals: list[Refusal] = list(plan.unreadable)
    position = 0
    while True:
        with storage.unit_of_work(write=True) as uow:
            for row in accepted:  # after a refusal that left entries behind: start again
                row.apply(uow, actor)
            while position < len(pending):
                row = pending[position]
                position += 1
                clean = _check_row(uow, row, actor, accepted, refusals)
                if progress is not None and (position % step == 0 or position == len(pending)):
                    progress(ProgressEvent(done + position, total, True))
                if not clean:
                    break
            else:
                tree_size = uow.log.size()
                break  # leaving the unit of work uncommitted rolls everything back
    return ImportReport(
        plan.file_sha256,
        plan.source,
        total,
        done,
        len(accepted),
        (),
        tuple(sorted(refusals, key=lambda refusal: refusal.row)),
        True,
        tree_size,
    )


def _check_row(
    uow: UnitOfWork,
    row: ImportRow,
    actor: str,
    accepted: list[ImportRow],
    refusals: list[Refusal],
) -> bool:
    """Apply ``row`` in ``uow``: accepted, or refused and recorded in ``refusals``. Returns
    whether ``uow`` is still clean: ``False`` if the row, refused, had appended entries before
    its refusal (the unit of work then holds part of a refused action)."""
    before = uow.log.size()
    try:
        row.apply(uow, actor)
    except LedgerError as exc:
        refusals.append(Refusal.of(row.row, row.action, exc))
        return uow.log.size() == before
    accepted.append(row)
    return True
