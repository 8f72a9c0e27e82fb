"""AEF submissions: recording one, listing them, and verifying one against the ledger.

A submission records the tree size and the SHA-256 of the report it was built from, so
:func:`~ledger.accounting.reporting.aef_report.aef_report_for` rebuilds a submitted version
exactly and :func:`verify_submission` checks it;
:func:`~ledger.accounting.reporting.party_facts.restated_since` compares the adjustments then and
now (2/CMA.3 para 12).
"""

from __future__ import annotations

import hashlib

from ledger.accounting import aef
from ledger.accounting.reporting.aef_report import build_report
from ledger.accounting.reporting.entries import payload_str
from ledger.accounting.reporting.inputs import (
    AEF_SUBMITTED,
    Submission,
    check_year,
    declared_periods,
    read_submission,
)
from ledger.accounting.reporting.replay import indexed_entries, scan_party
from ledger.errors import InvalidInput
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.entry_tags import party_tag


class ReportedYearNotOver(InvalidInput):
    """An AEF covers the actions of a whole calendar year and is submitted after it ends (by 15
    April of the following year, 2/CMA.3 annex para 20)."""

    problem_type = "reported-year-not-over"
    title = "An AEF covering a calendar year is submitted after the year ends"
    rule = "reported-year-over"


def report_digest(report: aef.AefReport) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of the report's JSON rendering."""
    return hashlib.sha256(canonical_bytes(aef.to_json(report))).hexdigest()


def record_submission(uow: UnitOfWork, party: str, reported_year: int, actor: str) -> str:
    """Record the submission of the Party's AEF for ``reported_year`` and return its version:
    ``1.0`` for the first, then ``1.1``, ``1.2``, ... for each resubmission.

    The report is built from the log as it stands (see
    :func:`~ledger.accounting.reporting.aef_report.aef_report_for`) and must pass
    :func:`ledger.accounting.aef.validate_report` (else
    :class:`~ledger.accounting.aef.AefValidationError` names every table, row and column at
    fault). The entry records the tree size it was built from, so the same report can be
    rebuilt, and restatements shown, later.
    """
    declared = services.party_of(uow, party)
    declared_periods(declared)
    check_year("reported_year", reported_year)
    today = uow.now().date()
    if reported_year >= today.year:
        raise ReportedYearNotOver(
            f"the AEF for {reported_year} can be submitted once the year is over",
            reported_year=reported_year,
            today=today.isoformat(),
        )
    scan = scan_party(uow, party, uow.log.size(), reported_year)
    version = f"1.{len(scan.submissions_of(reported_year))}"
    report = build_report(scan, version, today)
    aef.validate_report(report)
    payload: dict[str, JsonValue] = {
        "party": party,
        "reported_year": reported_year,
        "version": version,
        "tree_size": scan.end,
        "date_of_submission": today.isoformat(),
        "report_sha256": report_digest(report),
    }
    record_entry(uow, AEF_SUBMITTED, payload, actor)
    return version


def submissions(uow: UnitOfWork, party: str) -> list[Submission]:
    """The Party's recorded AEF submissions, oldest first."""
    services.party_of(uow, party)
    return [
        read_submission(entry)
        for entry in indexed_entries(uow, (party_tag(party),), uow.log.size())
        if entry.kind == AEF_SUBMITTED and payload_str(entry, "party") == party
    ]


def verify_submission(uow: UnitOfWork, submission: Submission) -> bool:
    """Rebuild a submitted AEF from the ledger and check it against the recorded digest."""
    scan = scan_party(uow, submission.party, submission.tree_size, submission.reported_year)
    report = build_report(scan, submission.version, submission.date_of_submission)
    return report_digest(report) == submission.report_sha256
