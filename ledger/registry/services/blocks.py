"""Block surgery: carve the units an action takes out of the blocks an account holds, and the
block part of an entry's payload (the blocks written, the ones acted on, the ones replaced)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ledger.errors import SerialsNotHeld
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.registry import rules
from ledger.registry.codec import to_json
from ledger.registry.model import UnitBlock, UnitSelection


@dataclass(frozen=True, slots=True)
class Carved:
    """The outcome of taking pieces out of held blocks: the blocks acted on, the untouched
    remainders, and the parents they replace."""

    acted: list[UnitBlock]
    remainders: list[UnitBlock]
    superseded: list[int]


def carve_blocks(
    uow: UnitOfWork,
    account_id: str,
    selection: UnitSelection,
    eligible: Callable[[UnitBlock], bool] | None = None,
) -> Carved:
    """Take the selected units out of the account's blocks, splitting blocks where an action
    covers part of them. A bare quantity is filled from ``eligible`` blocks only."""
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
        block = blocks[block_id]
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
    blocks: Sequence[UnitBlock], acted: Sequence[UnitBlock], superseded: Sequence[int] = ()
) -> dict[str, JsonValue]:
    return {
        "blocks": [to_json(b) for b in blocks],
        "acted": [b.block_id for b in acted],
        "superseded": list(superseded),
    }


def total_quantity(blocks: Sequence[UnitBlock]) -> int:
    return sum(b.quantity for b in blocks)
