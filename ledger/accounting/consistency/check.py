"""The check of a Party's AEF against a counterpart's: completeness and accuracy of each report,
then the transfers and acquisitions across them (2/CMA.3 annex para 33; 4/CMA.6 para 29)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from ledger.accounting.aef import AefReport, AefTable, check_report
from ledger.accounting.consistency.matching import Matching, is_cross, match_transfers
from ledger.accounting.consistency.results import (
    BlockRange,
    ConsistencyResult,
    Finding,
    FindingKind,
    Notation,
    RowCheck,
    RowRef,
    SubmissionCheck,
)
from ledger.errors import InvalidInput

DEFAULT_DATE_TOLERANCE = timedelta(days=1)
"""How far apart a transfer and its acquisition may be dated (configurable per check)."""


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


def _row_checks(report: AefReport, matching: Matching) -> list[RowCheck]:
    party = report.submission.party
    checks = []
    for number, row in enumerate(report.actions, start=1):
        ref = RowRef(party, AefTable.ACTIONS, number)
        findings = tuple(f for f in matching.findings if ref in f.rows)
        counterpart = matching.pairs.get(ref)
        if findings:
            notation = Notation.INCONSISTENCIES
        elif is_cross(row) and counterpart is None:
            notation = Notation.NOT_AVAILABLE
        else:
            notation = Notation.NO_INCONSISTENCIES
        checks.append(
            RowCheck(ref, row.action_type, notation, counterpart, findings, BlockRange.of(row))
        )
    return checks


def _submission_check(
    report: AefReport, findings: Sequence[Finding], rows: Sequence[RowCheck]
) -> SubmissionCheck:
    party = report.submission.party
    own = tuple(f for f in findings if party in f.parties)
    cross = [check for check, row in zip(rows, report.actions, strict=True) if is_cross(row)]
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
    matching = Matching({}, [])
    if counterpart is not None and (
        own.submission.reported_year == counterpart.submission.reported_year
    ):
        match_transfers(own, counterpart, date_tolerance, matching)
        match_transfers(counterpart, own, date_tolerance, matching)
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
