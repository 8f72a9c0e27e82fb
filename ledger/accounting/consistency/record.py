"""Recording a check: a ``consistency.checked`` ledger entry that flags the blocks its findings
concern as inconsistent, so that their use towards an NDC is refused (4/CMA.6 para 40;
:func:`ledger.registry.services.use_for_ndc`). A block is flagged by the identifiers the reports
give for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

from ledger.accounting.consistency.results import (
    BlockRange,
    ConsistencyResult,
    Finding,
    RowRef,
    SubmissionCheck,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry.codec import to_json
from ledger.registry.model import UnitBlock
from ledger.registry.projection import BlockKey

CONSISTENCY_CHECKED = "consistency.checked"


@dataclass(frozen=True, slots=True)
class RecordedCheck:
    """The ``consistency.checked`` entry and the block states it flagged inconsistent."""

    seq: int
    flagged: tuple[UnitBlock, ...]


def _merged(ranges: Iterable[BlockRange]) -> dict[BlockKey, list[tuple[int, int]]]:
    by_key: dict[BlockKey, list[tuple[int, int]]] = defaultdict(list)
    for block in ranges:
        if block.first_id <= block.last_id:
            by_key[block.key].append((block.first_id, block.last_id))
    merged: dict[BlockKey, list[tuple[int, int]]] = {}
    for key, intervals in by_key.items():
        out: list[tuple[int, int]] = []
        for first, last in sorted(intervals):
            if out and first <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], last))
            else:
                out.append((first, last))
        merged[key] = out
    return merged


def _flag(
    uow: UnitOfWork, ranges: Iterable[BlockRange], registries: Collection[str] | None
) -> tuple[list[UnitBlock], list[UnitBlock], list[int]]:
    """Flag the active blocks in ``ranges`` (held in ``registries`` only, when given); a block
    only partly in them is split so that only the serials concerned are flagged. Every block
    written is dated with the check (its recording date), as an action's blocks are. Returns
    (remainders, flagged, superseded ids)."""
    seq = uow.log.size()
    today = uow.now().date()
    next_id = uow.projection.next_block_id()
    remainders: list[UnitBlock] = []
    flagged: list[UnitBlock] = []
    superseded: list[int] = []
    seen: set[int] = set()
    for key, intervals in _merged(ranges).items():
        for low, high in intervals:
            for block in uow.projection.overlapping_blocks(key, low, high):
                if block.block_id in seen or block.inconsistent:
                    continue
                if registries is not None and not _held_in(uow, block, registries):
                    continue
                seen.add(block.block_id)
                block = replace(block, last_action_date=today)
                covered = [
                    (max(first, block.first), min(last, block.last))
                    for first, last in intervals
                    if first <= block.last and block.first <= last
                ]
                if covered == [(block.first, block.last)]:
                    flagged.append(replace(block, inconsistent=True))
                    continue
                superseded.append(block.block_id)
                cursor = block.first
                for first, last in covered:
                    if first > cursor:
                        remainders.append(block.piece(next_id, cursor, first - 1, seq))
                        next_id += 1
                    piece = block.piece(next_id, first, last, seq)
                    flagged.append(replace(piece, inconsistent=True))
                    next_id += 1
                    cursor = last + 1
                if cursor <= block.last:
                    remainders.append(block.piece(next_id, cursor, block.last, seq))
                    next_id += 1
    return remainders, flagged, superseded


def _held_in(uow: UnitOfWork, block: UnitBlock, registries: Collection[str]) -> bool:
    account = uow.projection.get_account(block.account_id)
    return account is not None and account.registry_id in registries


def _ref_json(ref: RowRef) -> dict[str, JsonValue]:
    return {"party": ref.party, "table": ref.table.value, "row": ref.row}


def _finding_json(finding: Finding) -> dict[str, JsonValue]:
    return {
        "kind": finding.kind.value,
        "column": finding.column,
        "reason": finding.reason,
        "rows": [_ref_json(ref) for ref in finding.rows],
        "parties": list(finding.parties),
        "blocks": [to_json(block) for block in finding.blocks],
    }


def _submission_json(check: SubmissionCheck) -> dict[str, JsonValue]:
    return {
        "party": check.party,
        "version": check.version,
        "reported_year": check.reported_year,
        "notation": check.notation.value,
    }


def record_findings(
    uow: UnitOfWork,
    result: ConsistencyResult,
    actor: str,
    *,
    registries: Collection[str] | None = None,
) -> RecordedCheck:
    """Record ``result`` as a ``consistency.checked`` entry and flag the blocks its findings
    concern as inconsistent in the projection (block snapshots in the payload, as every
    registry action records them). Blocks already flagged stay as they are.

    ``registries`` limits the flagging to blocks held in those registries: a Party's registry
    running the check flags only its own holdings, so a counterpart report it supplies cannot
    freeze another Party's units."""
    remainders, flagged, superseded = _flag(uow, result.inconsistent_blocks, registries)
    payload: dict[str, JsonValue] = {
        "date_tolerance_seconds": result.date_tolerance // timedelta(seconds=1),
        "submissions": [
            _submission_json(check)
            for check in (result.own, result.counterpart)
            if check is not None
        ],
        "rows": [
            {**_ref_json(check.ref), "notation": check.notation.value} for check in result.rows
        ],
        "findings": [_finding_json(finding) for finding in result.findings],
        "blocks": [to_json(block) for block in (*remainders, *flagged)],
        "acted": [block.block_id for block in flagged],
        "superseded": superseded,
    }
    appended = record_entry(uow, CONSISTENCY_CHECKED, payload, actor)
    return RecordedCheck(appended.seq, tuple(flagged))
