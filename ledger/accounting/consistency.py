"""The secretariat's consistency checks of AEF submissions, run locally before submitting
(2/CMA.3 annex para 33; 6/CMA.4 annex I paras 37-40; 4/CMA.6 paras 29-32 and 40).

Two kinds of check:

- **completeness and accuracy** of each report: every problem
:func:`ledger.accounting.aef.check_report`
  finds (missing mandatory information, values outside the nomenclatures, broken cross-table
  references);
- **across the Parties of a cooperative approach**: each First transfer or Transfer row of one
  Party is matched with the Acquisition row of the acquiring Party, and each Acquisition row with
  the transferring Party's First transfer or Transfer row. Rows match on the Party ITMO registry
  ID and overlapping serial ranges; a matched pair must then agree on the cooperative approach,
  authorization, first transferring Party, First and Last ID, quantity, vintage, the Parties,
  and the action dates within a tolerance.

Results use the notations of 4/CMA.6 para 29 exactly, per action row and per submission. Every
finding carries its reason and the ITMO blocks it concerns. :func:`record_findings` records a
result as a ``consistency.checked`` ledger entry and flags those blocks inconsistent, so that
their use towards an NDC is refused (4/CMA.6 para 40; :func:`ledger.registry.services.use_for_ndc`).
A block is flagged by the identifiers the reports give for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from ledger.accounting.aef import (
    ActionRow,
    ActionType,
    AefReport,
    AefTable,
    check_report,
    table_spec,
)
from ledger.errors import InvalidInput
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry.codec import to_json
from ledger.registry.model import UnitBlock
from ledger.registry.projection import BlockKey

__all__ = [
    "CONSISTENCY_CHECKED",
    "DEFAULT_DATE_TOLERANCE",
    "BlockRange",
    "ConsistencyResult",
    "Finding",
    "FindingKind",
    "Notation",
    "RecordedCheck",
    "RowCheck",
    "RowRef",
    "SubmissionCheck",
    "check_against_counterpart",
    "check_completeness",
    "record_findings",
]

CONSISTENCY_CHECKED = "consistency.checked"

DEFAULT_DATE_TOLERANCE = timedelta(days=1)
"""How far apart a transfer and its acquisition may be dated (configurable per check)."""


class Notation(StrEnum):
    """Result notations of the consistency checks (4/CMA.6 para 29), exactly as published."""

    NO_INCONSISTENCIES = "Checked, no inconsistencies identified"
    INCONSISTENCIES = "Checked, inconsistencies identified"
    NOT_AVAILABLE = "Null, information for check not available"


class FindingKind(StrEnum):
    MISMATCH = "mismatch"
    """A transfer and its acquisition were matched but disagree on a field."""
    MISSING_COUNTERPART = "missing-counterpart"
    """A transfer with no acquisition in the acquiring Party's report, or the reverse."""
    MANDATORY_INFORMATION = "mandatory-information"
    """Missing or inaccurate mandatory information in one report."""


@dataclass(frozen=True, slots=True)
class RowRef:
    """A row of a Party's report: 1-based within its table; 0 means the table as a whole."""

    party: str
    table: AefTable
    row: int

    def __str__(self) -> str:
        where = f"{self.table}, row {self.row}" if self.row else str(self.table)
        return f"{self.party} {where}"


@dataclass(frozen=True, slots=True)
class BlockRange:
    """The ITMOs a row is about, by their identifier elements (6/CMA.4 annex I para 5)."""

    cooperative_approach_id: str
    registry_id: str
    first_transferring_party_id: str
    vintage: int
    first_id: int
    last_id: int

    @classmethod
    def of(cls, row: ActionRow) -> BlockRange:
        return cls(
            row.cooperative_approach_id,
            row.registry_id,
            row.first_transferring_party_id,
            row.vintage,
            row.first_id,
            row.last_id,
        )

    @property
    def key(self) -> BlockKey:
        return (
            self.cooperative_approach_id,
            self.registry_id,
            self.first_transferring_party_id,
            self.vintage,
        )

    def __str__(self) -> str:
        return (
            f"{self.cooperative_approach_id} {self.registry_id} {self.first_transferring_party_id} "
            f"vintage {self.vintage} serials {self.first_id}-{self.last_id}"
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One inconsistency: what is wrong (``reason``), in which column (AEF header, ``""`` for a
    whole row), in which rows, which Parties' submissions it concerns and which blocks."""

    kind: FindingKind
    column: str
    reason: str
    rows: tuple[RowRef, ...]
    parties: tuple[str, ...]
    blocks: tuple[BlockRange, ...]


@dataclass(frozen=True, slots=True)
class RowCheck:
    """The result for one Table 3 row; ``counterpart`` is the row it was matched with."""

    ref: RowRef
    action_type: ActionType
    notation: Notation
    counterpart: RowRef | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class SubmissionCheck:
    """The result for one submission (AEF Table 1 "Result of the consistency check")."""

    party: str
    version: str
    reported_year: int
    notation: Notation
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyResult:
    """The check of ``own`` against ``counterpart`` (``None`` if the counterpart's report is not
    available): the submissions, every Table 3 row of the reports, and every finding."""

    own: SubmissionCheck
    counterpart: SubmissionCheck | None
    rows: tuple[RowCheck, ...]
    findings: tuple[Finding, ...]
    date_tolerance: timedelta

    @property
    def notation(self) -> Notation:
        """The result of the own submission."""
        return self.own.notation

    def submission(self, party: str) -> SubmissionCheck:
        for check in (self.own, self.counterpart):
            if check is not None and check.party == party:
                return check
        raise KeyError(party)

    def row(self, party: str, number: int) -> RowCheck:
        """The result of Table 3 row ``number`` of ``party``'s report."""
        for check in self.rows:
            if check.ref.party == party and check.ref.row == number:
                return check
        raise KeyError((party, number))

    @property
    def inconsistent_blocks(self) -> tuple[BlockRange, ...]:
        """Every block some finding concerns, once each."""
        return tuple(dict.fromkeys(b for f in self.findings for b in f.blocks))


# --- completeness --------------------------------------------------------------------------------


def check_completeness(report: AefReport) -> tuple[Finding, ...]:
    """Missing or inaccurate mandatory information in one report: each problem of
    :func:`ledger.accounting.aef.check_report` as a finding (with the block of a Table 3 row)."""
    party = report.submission.party
    findings = []
    for problem in check_report(report):
        blocks: tuple[BlockRange, ...] = ()
        if problem.table is AefTable.ACTIONS and 1 <= problem.row <= len(report.actions):
            blocks = (BlockRange.of(report.actions[problem.row - 1]),)
        findings.append(
            Finding(
                kind=FindingKind.MANDATORY_INFORMATION,
                column=problem.column,
                reason=str(problem),
                rows=(RowRef(party, problem.table, problem.row),),
                parties=(party,),
                blocks=blocks,
            )
        )
    return tuple(findings)


# --- matching transfers and acquisitions ---------------------------------------------------------

_TRANSFERS = frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER})


def _header(field_name: str) -> str:
    return table_spec(AefTable.ACTIONS).column(field_name).header


def _is_transfer(row: ActionRow) -> bool:
    """A First transfer or Transfer to another Party (not an OIMP first transfer at
    authorization, issuance or cancellation, nor a transfer to the Adaptation Fund)."""
    return row.action_type in _TRANSFERS and row.acquiring_party_id is not None


def _is_cross(row: ActionRow) -> bool:
    return _is_transfer(row) or row.action_type is ActionType.ACQUISITION


def _instant(value: date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return _instant(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _show_tolerance(tolerance: timedelta) -> str:
    days, rest = divmod(tolerance, timedelta(days=1))
    if rest:
        return str(tolerance)
    return f"{days} day" if days == 1 else f"{days} days"


@dataclass(frozen=True, slots=True)
class _Side:
    report: AefReport
    number: int
    row: ActionRow

    @property
    def party(self) -> str:
        return self.report.submission.party

    @property
    def ref(self) -> RowRef:
        return RowRef(self.party, AefTable.ACTIONS, self.number)


_COMPARED = (
    "cooperative_approach_id",
    "authorization_id",
    "first_transferring_party_id",
    "first_id",
    "last_id",
    "quantity",
    "vintage",
)


def _differences(
    sent: _Side, received: _Side, tolerance: timedelta
) -> list[tuple[str, object, object]]:
    """(AEF field, what the transferring side reports, what the acquiring side reports) for
    every field on which a transfer and its acquisition disagree."""
    out: list[tuple[str, object, object]] = [
        (name, getattr(sent.row, name), getattr(received.row, name))
        for name in _COMPARED
        if getattr(sent.row, name) != getattr(received.row, name)
    ]
    gap = abs(_instant(sent.row.action_date) - _instant(received.row.action_date))
    if gap > tolerance:
        out.append(("action_date", sent.row.action_date, received.row.action_date))
    if sent.row.acquiring_party_id != received.party:
        out.append(("acquiring_party_id", sent.row.acquiring_party_id, received.party))
    if received.row.transferring_party_id != sent.party:
        out.append(("transferring_party_id", sent.party, received.row.transferring_party_id))
    return out


def _mismatch(
    sent: _Side, received: _Side, name: str, said: object, heard: object, tolerance: timedelta
) -> Finding:
    header = _header(name)
    if name == "action_date":
        reason = (
            f"{header}: {sent.ref} dates the {sent.row.action_type.value} {_show(said)}, "
            f"{received.ref} dates the Acquisition {_show(heard)}, more than "
            f"{_show_tolerance(tolerance)} apart"
        )
    elif name == "acquiring_party_id":
        reason = (
            f"{header}: {sent.ref} names {said} as the acquiring Party, but the Acquisition "
            f"is {heard}'s ({received.ref})"
        )
    elif name == "transferring_party_id":
        reason = (
            f"{header}: {received.ref} names {heard} as the transferring Party, but the "
            f"{sent.row.action_type.value} is {said}'s ({sent.ref})"
        )
    else:
        reason = (
            f"{header}: {sent.ref} reports {said}, {received.ref} reports {heard} "
            f"for the {sent.row.action_type.value} and Acquisition of "
            f"{BlockRange.of(sent.row)}"
        )
    return Finding(
        kind=FindingKind.MISMATCH,
        column=header,
        reason=reason,
        rows=(sent.ref, received.ref),
        parties=(sent.party, received.party),
        blocks=tuple(dict.fromkeys((BlockRange.of(sent.row), BlockRange.of(received.row)))),
    )


def _missing(side: _Side, other: AefReport, transferred: bool) -> Finding:
    row, year = side.row, other.submission.reported_year
    other_party = other.submission.party
    if transferred:
        reason = (
            f"{side.ref}: a {row.action_type.value} of {row.quantity} ITMOs "
            f"({BlockRange.of(row)}) to {other_party} on {_show(row.action_date)} has no "
            f"matching Acquisition in {other_party}'s AEF for {year}"
        )
    else:
        reason = (
            f"{side.ref}: an Acquisition of {row.quantity} ITMOs ({BlockRange.of(row)}) from "
            f"{other_party} on {_show(row.action_date)} has no matching First transfer or "
            f"Transfer in {other_party}'s AEF for {year}"
        )
    return Finding(
        kind=FindingKind.MISSING_COUNTERPART,
        column="",
        reason=reason,
        rows=(side.ref,),
        parties=(side.party, other_party),
        blocks=(BlockRange.of(row),),
    )


@dataclass
class _Matching:
    pairs: dict[RowRef, RowRef]
    findings: list[Finding]


def _match(sender: AefReport, receiver: AefReport, tolerance: timedelta, out: _Matching) -> None:
    """Match ``sender``'s transfers with ``receiver``'s acquisitions (one direction)."""
    sending, receiving = sender.submission.party, receiver.submission.party
    sent = [
        _Side(sender, n, row) for n, row in enumerate(sender.actions, start=1) if _is_transfer(row)
    ]
    received = [
        _Side(receiver, n, row)
        for n, row in enumerate(receiver.actions, start=1)
        if row.action_type is ActionType.ACQUISITION
    ]

    def relevant_sent(side: _Side) -> bool:
        return side.row.acquiring_party_id == receiving

    def relevant_received(side: _Side) -> bool:
        return side.row.transferring_party_id == sending

    by_registry: dict[str, list[_Side]] = defaultdict(list)
    for r in received:
        by_registry[r.row.registry_id].append(r)
    candidates = []
    for s in sent:
        for r in by_registry[s.row.registry_id]:
            if not (relevant_sent(s) or relevant_received(r)):
                continue
            if not (s.row.first_id <= r.row.last_id and r.row.first_id <= s.row.last_id):
                continue
            differences = _differences(s, r, tolerance)
            gap = abs(_instant(s.row.action_date) - _instant(r.row.action_date))
            candidates.append(((len(differences), gap, s.number, r.number), s, r, differences))
    candidates.sort(key=lambda c: c[0])
    used_sent: set[int] = set()
    used_received: set[int] = set()
    for _, s, r, differences in candidates:
        if s.number in used_sent or r.number in used_received:
            continue
        used_sent.add(s.number)
        used_received.add(r.number)
        out.pairs[s.ref] = r.ref
        out.pairs[r.ref] = s.ref
        out.findings.extend(_mismatch(s, r, *d, tolerance) for d in differences)
    out.findings.extend(
        _missing(s, receiver, transferred=True)
        for s in sent
        if s.number not in used_sent and relevant_sent(s)
    )
    out.findings.extend(
        _missing(r, sender, transferred=False)
        for r in received
        if r.number not in used_received and relevant_received(r)
    )


# --- the check -----------------------------------------------------------------------------------


def _row_checks(report: AefReport, matching: _Matching) -> list[RowCheck]:
    party = report.submission.party
    checks = []
    for number, row in enumerate(report.actions, start=1):
        ref = RowRef(party, AefTable.ACTIONS, number)
        findings = tuple(f for f in matching.findings if ref in f.rows)
        counterpart = matching.pairs.get(ref)
        if findings:
            notation = Notation.INCONSISTENCIES
        elif _is_cross(row) and counterpart is None:
            notation = Notation.NOT_AVAILABLE
        else:
            notation = Notation.NO_INCONSISTENCIES
        checks.append(RowCheck(ref, row.action_type, notation, counterpart, findings))
    return checks


def _submission_check(
    report: AefReport, findings: Sequence[Finding], rows: Sequence[RowCheck]
) -> SubmissionCheck:
    party = report.submission.party
    own = tuple(f for f in findings if party in f.parties)
    cross = [check for check, row in zip(rows, report.actions, strict=True) if _is_cross(row)]
    if own:
        notation = Notation.INCONSISTENCIES
    elif cross and all(check.notation is Notation.NOT_AVAILABLE for check in cross):
        notation = Notation.NOT_AVAILABLE
    else:
        notation = Notation.NO_INCONSISTENCIES
    return SubmissionCheck(
        party, report.submission.version, report.submission.reported_year, notation, own
    )


def check_against_counterpart(
    own: AefReport,
    counterpart: AefReport | None,
    *,
    date_tolerance: timedelta = DEFAULT_DATE_TOLERANCE,
) -> ConsistencyResult:
    """Check ``own`` against the AEF of another Party of the cooperative approach, or on its
    own if that report is not available (``None``).

    Each row of the reports gets a notation: "Checked, inconsistencies identified" if a finding
    concerns it; "Null, information for check not available" for a transfer or acquisition whose
    other side is not in the reports (a third Party, no counterpart report, or reports of
    different years); otherwise "Checked, no inconsistencies identified". A submission is
    inconsistent if any finding concerns it, Null if none of its transfers and acquisitions
    could be checked.
    """
    if counterpart is not None and own.submission.party == counterpart.submission.party:
        raise InvalidInput(
            "a consistency check compares the reports of two different Parties",
            party=own.submission.party,
        )
    if date_tolerance < timedelta(0):
        raise InvalidInput("the date tolerance cannot be negative", field="date_tolerance")
    reports = (own,) if counterpart is None else (own, counterpart)
    matching = _Matching({}, [])
    if counterpart is not None and (
        own.submission.reported_year == counterpart.submission.reported_year
    ):
        _match(own, counterpart, date_tolerance, matching)
        _match(counterpart, own, date_tolerance, matching)
    for report in reports:
        matching.findings.extend(check_completeness(report))
    findings = tuple(matching.findings)
    rows = [_row_checks(report, matching) for report in reports]
    checks = [
        _submission_check(r, findings, checks) for r, checks in zip(reports, rows, strict=True)
    ]
    return ConsistencyResult(
        own=checks[0],
        counterpart=checks[1] if len(checks) > 1 else None,
        rows=tuple(check for report_rows in rows for check in report_rows),
        findings=findings,
        date_tolerance=date_tolerance,
    )


# --- recording -----------------------------------------------------------------------------------


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
    only partly in them is split so that only the serials concerned are flagged. Returns
    (remainders, flagged, superseded ids)."""
    seq = uow.log.size()
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
