"""An import's progress, recorded in the ledger itself: one ``import.batch`` entry per committed
batch, appended in the batch's own unit of work (so it commits with the batch's rows or not at
all).

The entry names the file (``file_sha256``, ``source``) and the rows it holds: the plan's rows
``first_row .. last_row`` (from 1, in import order), the digest of the plan's rows ``1 ..
last_row`` (``rows_sha256``), each row's line or Table 3 row in the file (``file_rows``) and the
seq of the first entry each row appended (``row_seqs``; a row's entries end where the next row's,
or this entry, begin). An import run again reads these entries back and continues after the
longest run of rows, from the first, that an earlier import committed: the same file continues
where it stopped, and rows already in the ledger are never applied twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ledger.imports.plan import ImportPlan
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry, MalformedEntry
from ledger.ports import KindIndexedLog, LedgerLog

IMPORT_BATCH = "import.batch"
"""Kind of the entry that records one committed batch of an import."""

_KIND_MARK = b'"kind":"import.batch"'
"""How the kind reads in an entry's canonical bytes: entries of other kinds are skipped unread."""
READ_CHUNK = 1_000
"""Entries read from the log per query while looking for batch entries."""


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """What an ``import.batch`` entry says (see the module docstring)."""

    seq: int
    file_sha256: str
    source: str
    rows_total: int
    first_row: int
    last_row: int
    rows_sha256: str
    file_rows: tuple[int, ...]
    row_seqs: tuple[int, ...]

    @classmethod
    def from_entry(cls, entry: Entry) -> BatchRecord:
        payload = entry.payload
        try:
            record = cls(
                seq=entry.seq,
                file_sha256=_text(payload["file_sha256"]),
                source=_text(payload["source"]),
                rows_total=_number(payload["rows_total"]),
                first_row=_number(payload["first_row"]),
                last_row=_number(payload["last_row"]),
                rows_sha256=_text(payload["rows_sha256"]),
                file_rows=tuple(_number(n) for n in _list(payload["file_rows"])),
                row_seqs=tuple(_number(n) for n in _list(payload["row_seqs"])),
            )
        except (KeyError, TypeError) as exc:
            raise MalformedEntry(f"entry {entry.seq} ({IMPORT_BATCH}): {exc}") from exc
        return record


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"{value!r} is not a list")
    return value


def batch_payload(
    plan: ImportPlan, first: int, last: int, row_seqs: Sequence[int]
) -> dict[str, JsonValue]:
    """The payload recording that the plan's rows ``first .. last`` (from 1) committed; the
    seq of the first entry of each row is in ``row_seqs``."""
    rows = plan.rows[first - 1 : last]
    if len(row_seqs) != len(rows):
        raise ValueError("one first seq per row of the batch")
    return {
        "file_sha256": plan.file_sha256,
        "source": plan.source,
        "rows_total": len(plan.rows),
        "first_row": first,
        "last_row": last,
        "rows_sha256": plan.prefix_digest(last),
        "file_rows": [row.row for row in rows],
        "row_seqs": list(row_seqs),
    }


def batch_records(log: LedgerLog, start: int, end: int) -> Iterator[BatchRecord]:
    """The ``import.batch`` entries among entries ``start .. end-1``, in seq order: by the
    log's index of kinds if it has one (so an import into a log of a million entries does not
    read them all first), else by reading every entry."""
    if isinstance(log, KindIndexedLog):
        for body in log.read_entries_of_kind(IMPORT_BATCH, start, end):
            entry = Entry.from_canonical(body)
            if entry.kind == IMPORT_BATCH:
                yield BatchRecord.from_entry(entry)
        return
    for chunk in range(start, end, READ_CHUNK):
        for body in log.read_entries(chunk, min(end, chunk + READ_CHUNK)):
            if _KIND_MARK not in body:
                continue
            entry = Entry.from_canonical(body)
            if entry.kind == IMPORT_BATCH:
                yield BatchRecord.from_entry(entry)


def committed_rows(plan: ImportPlan, records: Iterable[BatchRecord], at_least: int = 0) -> int:
    """How many rows of the plan, from the first, the ledger already holds: the end of the
    longest batch (of any import) whose digest of its rows so far is the digest of as many
    rows of this plan; at least ``at_least``."""
    done = at_least
    for record in records:
        if done < record.last_row <= len(plan.rows) and (
            plan.prefix_digest(record.last_row) == record.rows_sha256
        ):
            done = record.last_row
    return done
