"""Block surgery: carve the units an action takes out of the blocks an account holds, and the
block part of an entry's payload (the blocks written, the ones acted on, the ones replaced).

Every block an action writes (the pieces it acts on and the remainders of the blocks it splits)
carries the action's date as its ``last_action_date``, and an action is checked against the
last action date of every block it takes (:func:`check_dated`): so the actions on each serial
are dated in ``seq`` order, which is what lets a report replay the log up to a date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from ledger.errors import SerialsNotHeld
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import rules
from ledger.registry.codec import to_json
from ledger.registry.dating import action_date
from ledger.registry.model import UnitBlock, UnitSelection
from ledger.registry.projection import block_key


@dataclass(frozen=True, slots=True)
class Carved:
    """The outcome of taking pieces out of held blocks: the blocks acted on, the untouched
    remainders, and the parents they replace."""

    acted: list[UnitBlock]
    remainders: list[UnitBlock]
    superseded: list[int]


def last_action_date(uow: UnitOfWork, block: UnitBlock) -> date | None:
    """The action date of the last entry that wrote the block. A block written before action
    dates were recorded does not carry it: its last entry (its creation or its last event) is
    read instead; ``None`` if the block has no entry."""
    if block.last_action_date is not None:
        return block.last_action_date
    events = uow.projection.block_history(block_key(block), block.first)
    seq = max(
        [block.created_seq, *(e.seq for e in events if e.block_id == block.block_id)], default=-1
    )
    if seq < 0:
        return None
    (body,) = uow.log.read_entries(seq, seq + 1)
    return action_date(Entry.from_canonical(body))


def check_dated(uow: UnitOfWork, block: UnitBlock, on: date) -> UnitBlock:
    """Check that an action on the block may be dated ``on`` (not in a year before its
    vintage, not before the last action on it) and return the block dated ``on``."""
    rules.check_vintage_achieved(block.attributes.vintage, on)
    if block.last_action_date != on:
        rules.check_after_previous_action(block, last_action_date(uow, block), on)
    return replace(block, last_action_date=on)


def carve_blocks(
    uow: UnitOfWork,
    account_id: str,
    selection: UnitSelection,
    eligible: Callable[[UnitBlock], bool] | None = None,
    *,
    on: date,
) -> Carved:
    """Take the selected units out of the account's blocks, splitting blocks where an action
    covers part of them. A bare quantity is filled from ``eligible`` blocks only. The action is
    dated ``on``: every block taken is checked (:func:`check_dated`) and every block written
    is dated ``on``."""
    held: Iterable[UnitBlock] = uow.projection.held_blocks_for(account_id, selection)
    if eligible is not None and not selection.ranges:
        held = (b for b in held if eligible(b))
    try:
        pieces = rules.carve(held, selection, presorted=True)
    except SerialsNotHeld as exc:
        _refuse_retired_serials(uow, selection)
        raise exc
    by_block: dict[int, list[tuple[int, int]]] = defaultdict(list)
    blocks: dict[int, UnitBlock] = {}
    for block, first, last in pieces:
        by_block[block.block_id].append((first, last))
        blocks[block.block_id] = block
    next_id = uow.projection.next_block_id()
    seq = uow.log.size()
    acted: list[UnitBlock] = []
    remainders: list[UnitBlock] = []
    superseded: list[int] = []
    for block_id, ranges in by_block.items():
        block = check_dated(uow, blocks[block_id], on)
        if ranges == [(block.first, block.last)]:
            acted.append(block)
            continue
        superseded.append(block_id)
        cursor = block.first
        for first, last in sorted(ranges):
            if first > cursor:
                remainders.append(block.piece(next_id, cursor, first - 1, seq))
                next_id += 1
            acted.append(block.piece(next_id, first, last, seq))
            next_id += 1
            cursor = last + 1
        if cursor <= block.last:
            remainders.append(block.piece(next_id, cursor, block.last, seq))
            next_id += 1
    return Carved(acted, remainders, superseded)


def _refuse_retired_serials(uow: UnitOfWork, selection: UnitSelection) -> None:
    """Explicit serials that were used or cancelled are refused as such (one-time use), which
    says more than "not held here"."""
    a = selection
    if a.ca_id is None or a.originating_registry is None or a.first_transferring_party is None:
        return
    if a.vintage is None:
        return
    key = (a.ca_id, a.originating_registry, a.first_transferring_party, a.vintage)
    for wanted in selection.ranges:
        for block in uow.projection.overlapping_blocks(key, wanted.first, wanted.last):
            rules.check_not_retired(block)


def blocks_payload(
    uow: UnitOfWork,
    blocks: Sequence[UnitBlock],
    acted: Sequence[UnitBlock],
    superseded: Sequence[int] = (),
) -> dict[str, JsonValue]:
    """The block part of an action's entry. Every acted block that enters an account (issued,
    or moved there) is checked against the account's metric (``rules.check_account_metric``)."""
    for block in acted:
        before = uow.projection.get_block(block.block_id)
        if before is not None and before.account_id == block.account_id:
            continue
        account = uow.projection.get_account(block.account_id)
        if account is not None:
            rules.check_account_metric(account, block.attributes)
    return {
        "blocks": [to_json(b) for b in blocks],
        "acted": [b.block_id for b in acted],
        "superseded": list(superseded),
    }


def total_quantity(blocks: Sequence[UnitBlock]) -> int:
    return sum(b.quantity for b in blocks)
