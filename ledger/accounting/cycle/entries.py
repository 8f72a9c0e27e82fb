"""Reading the cycle's entries back from the log, in ``seq`` order."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ledger.log.chain import Entry
from ledger.ports import UnitOfWork

BATCH = 1_000
"""Entries read from the log per query."""


def entries_of(uow: UnitOfWork, kinds: Collection[str], end: int | None = None) -> Iterator[Entry]:
    """The entries of the given kinds among the first ``end`` (default: all), oldest first."""
    stop = uow.log.size() if end is None else end
    for start in range(0, stop, BATCH):
        for body in uow.log.read_entries(start, min(stop, start + BATCH)):
            entry = Entry.from_canonical(body)
            if entry.kind in kinds:
                yield entry


def entry_at(uow: UnitOfWork, seq: int) -> Entry:
    """The entry of ``seq``."""
    return Entry.from_canonical(uow.log.read_entries(seq, seq + 1)[0])
