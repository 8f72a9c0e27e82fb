"""The submission gate of the annual information (4/CMA.6 paras 26-27): an AEF is submitted
only once the Party has recorded an initial report (or updated initial report) for every
cooperative approach it reports on.

:func:`submit` is the submission the service and the CLI run: it refuses with
:class:`InitialReportMissing` (naming the approaches and their rows) and records nothing, else
records the submission (:func:`ledger.accounting.reporting.record_submission`). The pre-check
lists the same reasons as ``blockers`` (:func:`initial_report_blockers`).
"""

from __future__ import annotations

from ledger.accounting import reporting
from ledger.accounting.aef import AefReport
from ledger.accounting.cycle.initial_report import missing_initial_reports
from ledger.errors import RuleViolation
from ledger.ports import UnitOfWork

PARAS = "4/CMA.6 paras 26-27"


class InitialReportMissing(RuleViolation):
    """An initial report or updated initial report of the Party for a cooperative approach is a
    requirement for submitting annual information on the ITMOs from it, and is submitted prior
    to or in conjunction with it (4/CMA.6 paras 26-27)."""

    problem_type = "initial-report-missing"
    title = "No initial report of the Party for a cooperative approach its AEF reports on"
    rule = "initial-report-before-annual-information"


def initial_report_blockers(uow: UnitOfWork, party: str, report: AefReport) -> dict[str, str]:
    """For each cooperative approach the AEF reports on (Table 3 rows of an approach the Party
    participates in, or its own authorizations in Table 2) without the Party's initial report:
    why the AEF is not submittable."""
    rows: dict[str, list[int]] = {}
    for number, row in enumerate(report.actions, start=1):
        rows.setdefault(row.cooperative_approach_id, []).append(number)
    participating = {a.ca_id for a in uow.projection.cooperative_approaches() if party in a.parties}
    concerned = {ca for ca in rows if ca in participating}
    concerned |= {a.ca_id for a in uow.projection.authorizations() if a.party == party} & {
        row.cooperative_approach_id for row in report.authorizations
    }
    blockers = {}
    for ca in missing_initial_reports(uow, party, concerned):
        where = (
            f"Table 3 rows {', '.join(str(n) for n in rows[ca])}"
            if ca in rows
            else "its authorizations in Table 2"
        )
        blockers[ca] = (
            f"{party} has recorded no initial report for {ca} ({where}): an initial report "
            "for a cooperative approach is a requirement for submitting annual information on "
            f"ITMOs from it ({PARAS})"
        )
    return blockers


def submit(uow: UnitOfWork, party: str, reported_year: int, actor: str) -> str:
    """Record the submission of the Party's AEF for ``reported_year`` and return its version,
    unless an initial report is missing (:class:`InitialReportMissing`, nothing recorded)."""
    draft = reporting.aef_report_for(uow, party, reported_year)
    blockers = initial_report_blockers(uow, party, draft)
    if blockers:
        raise InitialReportMissing(
            f"the AEF of {party} for {reported_year} cannot be submitted: "
            + "; ".join(blockers.values()),
            party=party,
            reported_year=reported_year,
            cooperative_approaches=sorted(blockers),
            paragraphs=PARAS,
        )
    return reporting.record_submission(uow, party, reported_year, actor)
