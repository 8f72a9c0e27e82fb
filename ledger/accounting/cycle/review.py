"""The secretariat's result of its consistency check of one AEF submission, imported per action
in the notations of 4/CMA.6 para 29, as a ``consistency.reviewed`` ledger entry.

A row "Checked, inconsistencies identified" flags the ITMOs of that Table 3 row (held in the
Party's registries) inconsistent, with the secretariat's reason, so that their use towards the
NDC is refused (para 40). A row "Checked, no inconsistencies identified" resolves the open flags
of its ITMOs: the inconsistency was corrected by a revised submission and verified by the
secretariat's new check (para 32). "Null, information for check not available" changes nothing.
Rows the result does not list keep their flags.

:func:`review_results` gives the latest imported result of a submitted version for the AEF's
"Result of the consistency check" columns (Table 1 and Table 3) of its export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.accounting import aef, reporting
from ledger.accounting.consistency import BlockRange, Notation, RecordedCheck, flag_changes
from ledger.accounting.reporting.replay import indexed_entries
from ledger.errors import InvalidInput, NotFound
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.codec import to_json
from ledger.registry.entry_tags import party_tag

CONSISTENCY_REVIEWED = "consistency.reviewed"


class ReviewedSubmissionNotFound(NotFound):
    """A review result names an AEF submission (Party, reported year, version) that was not
    recorded."""

    problem_type = "reviewed-submission-not-found"
    title = "A review result names an AEF submission that was not recorded"
    rule = "review-of-a-recorded-submission"


@dataclass(frozen=True, slots=True)
class RowResult:
    """The secretariat's result for Table 3 row ``row`` (1-based) of the submission, and its
    description of the inconsistency (required for "Checked, inconsistencies identified")."""

    row: int
    notation: Notation
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """The secretariat's result of its check of one submission (AEF Table 1 "Result of the
    consistency check of this AEF submission") and of each Table 3 row it checked."""

    party: str
    reported_year: int
    version: str
    notation: Notation
    rows: tuple[RowResult, ...]


def _checked(result: ReviewResult, actions: int) -> None:
    numbers = [r.row for r in result.rows]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("the review result lists a Table 3 row twice", field="rows")
    for row in result.rows:
        if not 1 <= row.row <= actions:
            raise InvalidInput(
                f"the submission has {actions} Table 3 rows; there is no row {row.row}",
                field="rows",
                row=row.row,
            )
        if row.notation is Notation.INCONSISTENCIES and not row.reason.strip():
            raise InvalidInput(
                f"row {row.row}: an inconsistency needs the secretariat's description",
                field="reason",
                row=row.row,
            )
    flagged = any(r.notation is Notation.INCONSISTENCIES for r in result.rows)
    if flagged and result.notation is not Notation.INCONSISTENCIES:
        raise InvalidInput(
            f"rows are checked inconsistent but the submission is marked {result.notation}",
            field="notation",
        )


def record_review(uow: UnitOfWork, result: ReviewResult, actor: str) -> RecordedCheck:
    """Record the secretariat's ``result`` of a submitted AEF, flagging and resolving the ITMOs
    of its rows (see the module). The submission must have been recorded."""
    services.party_of(uow, result.party)
    recorded = [
        s
        for s in reporting.submissions(uow, result.party)
        if s.reported_year == result.reported_year and s.version == result.version
    ]
    if not recorded:
        raise ReviewedSubmissionNotFound(
            f"{result.party} has no submitted version {result.version} of its AEF for "
            f"{result.reported_year}",
            party=result.party,
            reported_year=result.reported_year,
            version=result.version,
        )
    report = reporting.aef_report_for(uow, result.party, result.reported_year, result.version)
    _checked(result, len(report.actions))
    registries = [r.registry_id for r in uow.projection.registries() if r.party == result.party]
    where = f"{result.party} AEF {result.reported_year} v{result.version}"
    inconsistent = [
        BlockRange.of(report.actions[r.row - 1])
        for r in result.rows
        if r.notation is Notation.INCONSISTENCIES
    ]
    clean = [
        (
            BlockRange.of(report.actions[r.row - 1]),
            f"the secretariat's check of {where}, Table 3 row {r.row}: {r.notation}"
            + (f" ({r.reason.strip()})" if r.reason.strip() else ""),
        )
        for r in result.rows
        if r.notation is Notation.NO_INCONSISTENCIES
    ]
    changes = flag_changes(uow, inconsistent, clean, registries)
    payload: dict[str, JsonValue] = {
        "party": result.party,
        "reported_year": result.reported_year,
        "version": result.version,
        "submission_seq": recorded[-1].seq,
        "notation": result.notation.value,
        "rows": [
            {
                "row": r.row,
                "notation": r.notation.value,
                "reason": r.reason.strip(),
                "itmos": to_json(BlockRange.of(report.actions[r.row - 1])),
            }
            for r in result.rows
        ],
        **changes.payload(),
    }
    appended = record_entry(uow, CONSISTENCY_REVIEWED, payload, actor)
    return RecordedCheck(
        appended.seq, changes.flagged, tuple(block for block, _ in changes.resolved)
    )


def review_results(
    uow: UnitOfWork, party: str, reported_year: int, version: str, tree_size: int | None = None
) -> aef.ConsistencyResults | None:
    """The secretariat's latest result of the Party's submitted ``version`` of its AEF for
    ``reported_year`` among the first ``tree_size`` entries (default: all), as the AEF's
    consistency-check columns; ``None`` if none was imported."""
    end = uow.log.size() if tree_size is None else tree_size
    found: aef.ConsistencyResults | None = None
    for entry in indexed_entries(uow, (party_tag(party),), end):
        p: Mapping[str, Any] = entry.payload
        if entry.kind != CONSISTENCY_REVIEWED or (
            p["party"],
            p["reported_year"],
            p["version"],
        ) != (party, reported_year, version):
            continue
        rows: list[Any] = p["rows"]
        found = aef.ConsistencyResults(
            str(p["notation"]), {int(r["row"]): str(r["notation"]) for r in rows}
        )
    return found
