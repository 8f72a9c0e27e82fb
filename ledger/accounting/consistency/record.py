"""Recording a check: a ``consistency.checked`` ledger entry that flags the blocks its findings
concern as inconsistent, so that their use towards an NDC is refused (4/CMA.6 para 40;
:func:`ledger.registry.services.use_for_ndc`), and resolves the flags of blocks a later check of
the same rows finds consistent (4/CMA.6 paras 32 and 39). A block is flagged by the identifiers
the reports give for it.

A flag's lifecycle is a sequence of entries, each with its reason: raised by a check
(``findings``) or by the secretariat's result (``consistency.reviewed``,
:mod:`~ledger.accounting.consistency.review`); resolved (``resolved``, one reason per block) by a
later check or result in which every row naming those serials is "Checked, no inconsistencies
identified" and no finding names them. NDC use is refused only while a flag is open."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from ledger.accounting.consistency.results import (
    BlockRange,
    ConsistencyResult,
    Finding,
    Notation,
    RowRef,
    SubmissionCheck,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry.codec import to_json
from ledger.registry.model import UnitBlock
from ledger.registry.projection import BlockKey, block_key

CONSISTENCY_CHECKED = "consistency.checked"


@dataclass(frozen=True, slots=True)
class RecordedCheck:
    """The entry and the block states it flagged inconsistent and whose flags it resolved."""

    seq: int
    flagged: tuple[UnitBlock, ...]
    resolved: tuple[UnitBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class FlagChanges:
    """What one check or review result does to the flags: the block states to write and the
    reason each resolved flag is cleared."""

    remainders: tuple[UnitBlock, ...]
    flagged: tuple[UnitBlock, ...]
    superseded: tuple[int, ...]
    resolved: tuple[tuple[UnitBlock, str], ...]

    def payload(self) -> dict[str, JsonValue]:
        """The ``blocks``, ``acted``, ``superseded`` and ``resolved`` members of the entry."""
        cleared = [block for block, _ in self.resolved]
        return {
            "blocks": [to_json(b) for b in (*self.remainders, *self.flagged, *cleared)],
            "acted": [b.block_id for b in (*self.flagged, *cleared)],
            "superseded": list(self.superseded),
            "resolved": [
                {"block_id": block.block_id, "reason": reason} for block, reason in self.resolved
            ],
        }


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


def _overlaps(block: UnitBlock, ranges: Iterable[BlockRange]) -> bool:
    return any(
        r.key == block_key(block) and r.first_id <= block.last and block.first <= r.last_id
        for r in ranges
    )


def _resolve(
    uow: UnitOfWork,
    clean: Sequence[tuple[BlockRange, str]],
    inconsistent: Sequence[BlockRange],
    registries: Collection[str] | None,
) -> list[tuple[UnitBlock, str]]:
    """The open flags a check or result clears, with the reason: every flagged active block
    (held in ``registries`` only, when given) that a ``clean`` row names and no
    ``inconsistent`` range touches. A flag is cleared on the whole block, as it was raised."""
    today = uow.now().date()
    out: list[tuple[UnitBlock, str]] = []
    seen: set[int] = set()
    for block_range, reason in clean:
        if block_range.first_id > block_range.last_id:
            continue
        overlapping = uow.projection.overlapping_blocks(
            block_range.key, block_range.first_id, block_range.last_id
        )
        for block in overlapping:
            if not block.inconsistent or block.block_id in seen:
                continue
            if registries is not None and not _held_in(uow, block, registries):
                continue
            if _overlaps(block, inconsistent):
                continue
            seen.add(block.block_id)
            out.append((replace(block, inconsistent=False, last_action_date=today), reason))
    return out


def flag_changes(
    uow: UnitOfWork,
    inconsistent: Sequence[BlockRange],
    clean: Sequence[tuple[BlockRange, str]],
    registries: Collection[str] | None,
) -> FlagChanges:
    """Flag the ``inconsistent`` ranges and resolve the open flags of the ``clean`` ones (each
    with its reason), as one entry will record them."""
    remainders, flagged, superseded = _flag(uow, inconsistent, registries)
    resolved = _resolve(uow, clean, inconsistent, registries)
    return FlagChanges(tuple(remainders), tuple(flagged), tuple(superseded), tuple(resolved))


def _held_in(uow: UnitOfWork, block: UnitBlock, registries: Collection[str]) -> bool:
    account = uow.projection.get_account(block.account_id)
    return account is not None and account.registry_id in registries


def _ref_json(ref: RowRef) -> dict[str, JsonValue]:
    return {"party": ref.party, "table": ref.table.value, "row": ref.row}


def finding_json(finding: Finding) -> dict[str, JsonValue]:
    """A finding as entries record it (``rule`` only when it names one)."""
    out: dict[str, JsonValue] = {
        "kind": finding.kind.value,
        "column": finding.column,
        "reason": finding.reason,
        "rows": [_ref_json(ref) for ref in finding.rows],
        "parties": list(finding.parties),
        "blocks": [to_json(block) for block in finding.blocks],
    }
    if finding.rule:
        out["rule"] = finding.rule
    return out


def submission_json(check: SubmissionCheck) -> dict[str, JsonValue]:
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
    registry action records them). Blocks already flagged stay as they are; a flagged block
    that a row of this check names as "Checked, no inconsistencies identified", and no finding
    names, is resolved (its flag cleared, with the row as the reason).

    ``registries`` limits the flagging to blocks held in those registries: a Party's registry
    running the check flags only its own holdings, so a counterpart report it supplies cannot
    freeze another Party's units."""
    clean = [
        (check.block, f"{check.ref} checked, no inconsistencies identified")
        for check in result.rows
        if check.block is not None and check.notation is Notation.NO_INCONSISTENCIES
    ]
    changes = flag_changes(uow, result.inconsistent_blocks, clean, registries)
    payload: dict[str, JsonValue] = {
        "date_tolerance_seconds": result.date_tolerance // timedelta(seconds=1),
        "submissions": [
            submission_json(check)
            for check in (result.own, result.counterpart)
            if check is not None
        ],
        "rows": [
            {**_ref_json(check.ref), "notation": check.notation.value} for check in result.rows
        ],
        "findings": [finding_json(finding) for finding in result.findings],
        **changes.payload(),
    }
    appended = record_entry(uow, CONSISTENCY_CHECKED, payload, actor)
    return RecordedCheck(
        appended.seq, changes.flagged, tuple(block for block, _ in changes.resolved)
    )
