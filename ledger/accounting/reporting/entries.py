"""Reading entries for the reports: the whole log in ``seq`` order (for reports about every
Party), the tree size a report is computed as of, and the payload fields the reports use. A
payload field of the wrong type is a :class:`MalformedEntry`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ledger.errors import InvalidInput
from ledger.log.chain import Entry, MalformedEntry
from ledger.ports import UnitOfWork
from ledger.registry.codec import from_json
from ledger.registry.model import UnitBlock

BATCH = 1_000
"""Entries read from the log per query."""


class TreeSizeBeyondLog(InvalidInput):
    """A report *as of* a tree size needs 0 <= tree size <= the current log size."""

    problem_type = "tree-size-beyond-log"
    title = "A report as of a tree size needs 0 <= tree size <= the current log size"
    rule = "tree-size"


class EntryReader(Protocol):
    """What the reports read of a log: its entries' canonical bytes by seq range. A
    :class:`~ledger.ports.LedgerLog` is one; so are another instance's entries verified against
    its checkpoint (``ledger.accounting.reconciliation``)."""

    def read_entries(self, start: int, end: int) -> list[bytes]: ...


def entries(log: EntryReader, end: int) -> Iterator[Entry]:
    """Entries ``0 .. end-1`` in seq order, read in batches."""
    for start in range(0, end, BATCH):
        for body in log.read_entries(start, min(end, start + BATCH)):
            yield Entry.from_canonical(body)


def check_tree_size(uow: UnitOfWork, tree_size: int) -> None:
    """Refuse a tree size outside ``0 ..`` the current log size (:class:`TreeSizeBeyondLog`)."""
    size = uow.log.size()
    if isinstance(tree_size, bool) or not isinstance(tree_size, int) or not 0 <= tree_size <= size:
        raise TreeSizeBeyondLog(
            f"tree size {tree_size!r} is outside 0..{size}", tree_size=tree_size, log_size=size
        )


def malformed(entry: Entry, key: str, wanted: str) -> MalformedEntry:
    """The error for payload field ``key`` of ``entry`` not being ``wanted``."""
    return MalformedEntry(f"entry {entry.seq} ({entry.kind}): {key!r} is not {wanted}")


def payload_int(entry: Entry, key: str) -> int:
    value = entry.payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed(entry, key, "an integer")
    return value


def payload_opt_int(entry: Entry, key: str) -> int | None:
    return None if entry.payload.get(key) is None else payload_int(entry, key)


def payload_str(entry: Entry, key: str) -> str:
    value = entry.payload.get(key)
    if not isinstance(value, str):
        raise malformed(entry, key, "a string")
    return value


def payload_opt_str(entry: Entry, key: str) -> str | None:
    return None if entry.payload.get(key) is None else payload_str(entry, key)


def acted_blocks(entry: Entry) -> list[UnitBlock]:
    """The block states an action produced, for the blocks it acted on (payload ``acted``)."""
    raw_blocks = entry.payload.get("blocks")
    raw_acted = entry.payload.get("acted")
    if not isinstance(raw_blocks, list) or not isinstance(raw_acted, list):
        raise malformed(entry, "blocks", "a list of blocks with the acted ids")
    by_id = {block.block_id: block for block in (from_json(UnitBlock, b) for b in raw_blocks)}
    acted: list[UnitBlock] = []
    for block_id in raw_acted:
        if not isinstance(block_id, int) or block_id not in by_id:
            raise malformed(entry, "acted", "a list of ids of blocks in the payload")
        acted.append(by_id[block_id])
    return acted
