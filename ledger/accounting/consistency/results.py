"""What a consistency check finds and concludes: findings, per-row and per-submission results
in the notations of 4/CMA.6 para 29."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from ledger.accounting.aef import ActionRow, ActionType, AefTable
from ledger.registry.projection import BlockKey


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
    GUIDANCE = "guidance"
    """A report contradicts the guidance itself (``ledger.accounting.cycle.guidance``)."""


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
    whole row), in which rows, which Parties' submissions it concerns and which blocks; ``rule``
    names the rule of the guidance a check against it found broken."""

    kind: FindingKind
    column: str
    reason: str
    rows: tuple[RowRef, ...]
    parties: tuple[str, ...]
    blocks: tuple[BlockRange, ...]
    rule: str = ""


@dataclass(frozen=True, slots=True)
class RowCheck:
    """The result for one Table 3 row; ``counterpart`` is the row it was matched with and
    ``block`` the ITMOs the row is about."""

    ref: RowRef
    action_type: ActionType
    notation: Notation
    counterpart: RowRef | None
    findings: tuple[Finding, ...]
    block: BlockRange | None = None


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
