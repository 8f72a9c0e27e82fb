"""The secretariat's results of its consistency check in the AEF's CARP-populated columns: Table 1
"Result of the consistency check of this AEF submission" and Table 3 "Result of the consistency
checks" (4/CMA.6 annex II; the notations of 4/CMA.6 para 29).

A Party submits these columns empty (:func:`~ledger.accounting.aef.validate_report`); once the
result of a submitted version is imported, an export of that version shows it
(:func:`with_results`, written with ``SpellingPolicy(carp_results=True)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ledger.accounting.aef.rows import AefReport


@dataclass(frozen=True, slots=True)
class ConsistencyResults:
    """The result for the submission and for the Table 3 rows (1-based) the check lists; a row
    it does not list stays blank."""

    submission: str
    rows: Mapping[int, str]


def with_results(report: AefReport, results: ConsistencyResults) -> AefReport:
    """``report`` with the results in its CARP-populated consistency-check columns."""
    return replace(
        report,
        submission=replace(report.submission, consistency_check_result=results.submission),
        actions=tuple(
            replace(row, consistency_check_result=results.rows.get(number))
            for number, row in enumerate(report.actions, start=1)
        ),
    )


def without_results(report: AefReport) -> AefReport:
    """``report`` with its consistency-check columns empty, as the Party submitted it (an
    exported or returned file that shows the secretariat's results validates as this)."""
    return replace(
        report,
        submission=replace(report.submission, consistency_check_result=None),
        actions=tuple(replace(row, consistency_check_result=None) for row in report.actions),
    )
