"""The submission workflow of the annual information (AEF): draft, pre-check, submission,
the secretariat's result, corrected resubmission (2/CMA.3 annex para 20; 4/CMA.6 paras 26-32).

- **Draft**: the AEF as the ledger stands
  (:func:`ledger.accounting.reporting.aef_report_for`).
- **Pre-check** (:func:`pre_check`, recorded by :func:`record_pre_check` as an
  ``aef.pre_checked`` entry): every check the Party can run before submitting, with the
  notations of 4/CMA.6 para 29: completeness and accuracy of the draft, the checks against the
  guidance itself (:mod:`~ledger.accounting.cycle.guidance`), the stock-flow reconciliation
  per account type and vintage in the ledger (:mod:`~ledger.accounting.cycle.account_types`),
  the submitted version of the year (if any) against the regular information, 23(c)-(f)
  (:mod:`~ledger.accounting.cycle.regular_information`), and the transfers and
  acquisitions against the AEF of every other Party of its cooperative approaches that this
  instance hosts (its latest submitted version, else its draft) or that the caller supplies. It
  also says whether the AEF is submittable: not while the Party has no initial report for a
  cooperative approach the AEF reports on (4/CMA.6 para 26).
- **Submission**: :func:`ledger.accounting.cycle.submission.submit`, refused without the
  initial reports (4/CMA.6 paras 26-27), then
  :func:`ledger.accounting.reporting.record_submission` (a versioned snapshot).
- **Result**: :func:`ledger.accounting.cycle.review.record_review`.
- **Status** (:func:`cycle_status`): where the year stands, the due date (15 April of the
  following year, 2/CMA.3 annex para 20) and which submissions were late. A late submission is
  accepted and marked late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.accounting import reporting
from ledger.accounting.aef import AefReport
from ledger.accounting.consistency import (
    DEFAULT_DATE_TOLERANCE,
    Finding,
    FindingKind,
    Notation,
    RowRef,
    check_against_counterpart,
    check_completeness,
)
from ledger.accounting.consistency.record import finding_json
from ledger.accounting.consistency.year_end import YearEndMatch, match_across_year_end
from ledger.accounting.cycle.account_types import check_account_types
from ledger.accounting.cycle.entries import entries_of
from ledger.accounting.cycle.flags import open_flags
from ledger.accounting.cycle.guidance import check_guidance
from ledger.accounting.cycle.regular_information import check_regular_information
from ledger.accounting.cycle.review import CONSISTENCY_REVIEWED
from ledger.accounting.cycle.submission import initial_report_blockers
from ledger.errors import InvalidInput
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services

AEF_PRE_CHECKED = "aef.pre_checked"


def due_date(reported_year: int) -> date:
    """Annual information is due by 15 April of the year after the reported year (2/CMA.3
    annex para 20)."""
    return date(reported_year + 1, 4, 15)


@dataclass(frozen=True, slots=True)
class PreCheck:
    """The pre-check of the draft ``version`` of the Party's AEF, built from ``tree_size``
    entries: its notation and findings, the counterpart reports it was checked against (Party,
    version), and why it is not submittable (``blockers``; none: submittable)."""

    party: str
    reported_year: int
    version: str
    tree_size: int
    notation: Notation
    findings: tuple[Finding, ...]
    counterparts: tuple[tuple[str, str], ...]
    blockers: tuple[str, ...]
    due: date
    late: bool

    @property
    def submittable(self) -> bool:
        return not self.blockers


def _hosted_counterparts(uow: UnitOfWork, party: str, own: AefReport) -> list[AefReport]:
    """The AEFs for the year of ``own`` of the other Parties that this instance hosts, among
    the Parties of the Party's cooperative approaches (three or more included) and every Party
    its Table 3 transfers to or acquires from (an onward transfer A -> B -> C of ITMOs of an
    approach C does not take part in is checked at each step): their latest submitted version,
    else their draft."""
    year = own.submission.reported_year
    named = {
        other
        for row in own.actions
        for other in (row.acquiring_party_id, row.transferring_party_id)
        if other is not None
    }
    approaches = {
        other
        for approach in uow.projection.cooperative_approaches()
        if party in approach.parties
        for other in approach.parties
    }
    partners = sorted((approaches | named) - {party})
    hosted = {r.party for r in uow.projection.registries() if r.hosted}
    reports = []
    for other in partners:
        if other not in hosted or uow.projection.get_party(other) is None:
            continue
        submitted = [s for s in reporting.submissions(uow, other) if s.reported_year == year]
        version = submitted[-1].version if submitted else None
        reports.append(reporting.aef_report_for(uow, other, year, version))
    return reports


def _report_of(
    uow: UnitOfWork, party: str, year: int, supplied: Mapping[tuple[str, int], AefReport]
) -> AefReport | None:
    """The Party's AEF for ``year``: the one supplied, else, for a Party with a registry hosted
    here, its latest submitted version or its draft (``None`` if there is none)."""
    if (party, year) in supplied:
        return supplied[(party, year)]
    hosted = {r.party for r in uow.projection.registries() if r.hosted}
    if party not in hosted:
        return None
    submitted = [s for s in reporting.submissions(uow, party) if s.reported_year == year]
    try:
        return reporting.aef_report_for(
            uow, party, year, submitted[-1].version if submitted else None
        )
    except InvalidInput:  # a year no AEF of the Party can report
        return None


def _across_year_end(
    uow: UnitOfWork,
    own: AefReport,
    other: AefReport,
    supplied: Mapping[tuple[str, int], AefReport],
    tolerance: timedelta,
) -> YearEndMatch:
    """The transfers and acquisitions of ``own`` and ``other`` (AEFs of the same year) matched
    with the other Party's rows across 31 December, at either end of the year."""
    year = own.submission.reported_year
    party, other_party = own.submission.party, other.submission.party
    pairs: dict[RowRef, RowRef] = {}
    findings: list[Finding] = []
    for earlier, later in (
        (own, _report_of(uow, other_party, year + 1, supplied)),
        (other, _report_of(uow, party, year + 1, supplied)),
        (_report_of(uow, other_party, year - 1, supplied), own),
        (_report_of(uow, party, year - 1, supplied), other),
    ):
        if earlier is None or later is None:
            continue
        match = match_across_year_end(earlier, later, tolerance)
        pairs.update(match.pairs)
        findings += [f for f in match.findings if party in f.parties]
    return YearEndMatch(pairs, tuple(findings))


def pre_check(
    uow: UnitOfWork,
    party: str,
    reported_year: int,
    counterparts: Sequence[AefReport] = (),
    *,
    date_tolerance: timedelta = DEFAULT_DATE_TOLERANCE,
) -> PreCheck:
    """Pre-check the draft of the Party's AEF for ``reported_year`` (see the module)."""
    services.party_of(uow, party)
    supplied_years = [(r.submission.party, r.submission.reported_year) for r in counterparts]
    if party in {p for p, _ in supplied_years}:
        raise InvalidInput("a counterpart report is another Party's", field="counterparts")
    if len(set(supplied_years)) != len(supplied_years):
        raise InvalidInput("one counterpart report per Party and year", field="counterparts")
    adjacent = {
        (r.submission.party, r.submission.reported_year): r
        for r in counterparts
        if abs(r.submission.reported_year - reported_year) == 1
    }
    same_year = [
        r for r in counterparts if (r.submission.party, r.submission.reported_year) not in adjacent
    ]
    supplied = {r.submission.party for r in same_year}
    tree_size = uow.log.size()
    own = reporting.aef_report_for(uow, party, reported_year)
    others = [
        *same_year,
        *(r for r in _hosted_counterparts(uow, party, own) if r.submission.party not in supplied),
    ]
    findings: list[Finding] = [
        *check_completeness(own),
        *check_guidance(uow, own),
        *check_account_types(uow, own),
        *check_regular_information(uow, own),
    ]
    for other in others:
        result = check_against_counterpart(own, other, date_tolerance=date_tolerance)
        found = [
            f
            for f in result.findings
            if f.kind is not FindingKind.MANDATORY_INFORMATION and party in f.parties
        ]
        if any(f.kind is FindingKind.MISSING_COUNTERPART for f in found):
            split = _across_year_end(uow, own, other, adjacent, date_tolerance)
            found = [
                f
                for f in found
                if not (f.kind is FindingKind.MISSING_COUNTERPART and f.rows[0] in split.pairs)
            ]
            found += split.findings
        findings += found
    unique = tuple(dict.fromkeys(findings))
    today = uow.now().date()
    return PreCheck(
        party=party,
        reported_year=reported_year,
        version=own.submission.version,
        tree_size=tree_size,
        notation=Notation.INCONSISTENCIES if unique else Notation.NO_INCONSISTENCIES,
        findings=unique,
        counterparts=tuple((r.submission.party, r.submission.version) for r in others),
        blockers=tuple(initial_report_blockers(uow, party, own).values()),
        due=due_date(reported_year),
        late=today > due_date(reported_year),
    )


def record_pre_check(uow: UnitOfWork, check: PreCheck, actor: str) -> int:
    """Record ``check`` as an ``aef.pre_checked`` entry; returns its seq. It flags nothing:
    flags are raised by a recorded consistency check or the secretariat's result."""
    payload: dict[str, JsonValue] = {
        "party": check.party,
        "reported_year": check.reported_year,
        "version": check.version,
        "tree_size": check.tree_size,
        "notation": check.notation.value,
        "findings": [finding_json(f) for f in check.findings],
        "counterparts": [{"party": p, "version": v} for p, v in check.counterparts],
        "blockers": list(check.blockers),
        "submittable": check.submittable,
        "due_date": check.due.isoformat(),
    }
    return record_entry(uow, AEF_PRE_CHECKED, payload, actor).seq


@dataclass(frozen=True, slots=True)
class SubmissionStatus:
    """One submitted version: when, whether late, and the secretariat's result if imported."""

    version: str
    seq: int
    date_of_submission: date
    late: bool
    review_notation: Notation | None
    review_seq: int | None


@dataclass(frozen=True, slots=True)
class PreCheckStatus:
    seq: int
    version: str
    tree_size: int
    notation: Notation
    submittable: bool
    findings: int


@dataclass(frozen=True, slots=True)
class CycleStatus:
    """Where the Party's annual information for ``reported_year`` stands (see :func:`stage`)."""

    party: str
    reported_year: int
    due: date
    overdue: bool
    stage: str
    submissions: tuple[SubmissionStatus, ...]
    last_pre_check: PreCheckStatus | None
    open_flags: int


STAGES = (
    "draft",
    "pre-checked",
    "submitted",
    "inconsistencies identified",
    "correcting",
    "consistent",
    "not checked",
)
"""The stages of a year: nothing submitted yet (``draft``, or ``pre-checked`` after a
pre-check), the latest version ``submitted`` and awaiting the secretariat's result, its result
(``inconsistencies identified``, ``consistent``, ``not checked`` for "Null, information for
check not available"), and ``correcting`` once a pre-check followed an inconsistent result."""


def _stage(submissions: Sequence[SubmissionStatus], pre: PreCheckStatus | None) -> str:
    latest = submissions[-1] if submissions else None
    if latest is None:
        return "pre-checked" if pre is not None else "draft"
    if latest.review_notation is None or latest.review_seq is None:
        return "submitted"
    if latest.review_notation is Notation.INCONSISTENCIES:
        corrected = pre is not None and pre.seq > latest.review_seq
        return "correcting" if corrected else "inconsistencies identified"
    if latest.review_notation is Notation.NO_INCONSISTENCIES:
        return "consistent"
    return "not checked"


def cycle_status(uow: UnitOfWork, party: str, reported_year: int) -> CycleStatus:
    """The stage of the Party's annual information for ``reported_year``, its due date, the
    submitted versions (late or not, with the secretariat's result), the last pre-check and the
    number of open inconsistency flags."""
    services.party_of(uow, party)
    due = due_date(reported_year)
    reviews: dict[str, tuple[Notation, int]] = {}
    pre: PreCheckStatus | None = None
    for entry in entries_of(uow, {AEF_PRE_CHECKED, CONSISTENCY_REVIEWED}):
        p: Mapping[str, Any] = entry.payload
        if p["party"] != party or p["reported_year"] != reported_year:
            continue
        if entry.kind == CONSISTENCY_REVIEWED:
            reviews[str(p["version"])] = (Notation(p["notation"]), entry.seq)
        else:
            pre = PreCheckStatus(
                entry.seq,
                str(p["version"]),
                int(p["tree_size"]),
                Notation(p["notation"]),
                bool(p["submittable"]),
                len(p["findings"]),
            )
    submitted = [s for s in reporting.submissions(uow, party) if s.reported_year == reported_year]
    statuses = tuple(
        SubmissionStatus(
            s.version,
            s.seq,
            s.date_of_submission,
            s.date_of_submission > due,
            reviews[s.version][0] if s.version in reviews else None,
            reviews[s.version][1] if s.version in reviews else None,
        )
        for s in submitted
    )
    return CycleStatus(
        party=party,
        reported_year=reported_year,
        due=due,
        overdue=not statuses and uow.now().date() > due,
        stage=_stage(statuses, _after_last_submission(pre, statuses)),
        submissions=statuses,
        last_pre_check=pre,
        open_flags=len(open_flags(uow, party)),
    )


def _after_last_submission(
    pre: PreCheckStatus | None, statuses: Sequence[SubmissionStatus]
) -> PreCheckStatus | None:
    """The last pre-check if it came after the last submission (else it is history)."""
    if pre is None or (statuses and pre.seq < statuses[-1].seq):
        return None
    return pre
