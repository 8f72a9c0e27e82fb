"""The Article 6 reporting cycle around the AEF tables (2/CMA.3 annex paras 18-20; 4/CMA.6
paras 26-44), every step a ledger entry:

- :mod:`~ledger.accounting.cycle.initial_report`: initial reports and their updates per Party
  and cooperative approach (versioned records, JSON export);
- :mod:`~ledger.accounting.cycle.precheck`: the submission workflow (draft, pre-check,
  submission, result, resubmission), the due date and late submissions, a year's status;
- :mod:`~ledger.accounting.cycle.submission`: the submission gate (no AEF for an approach
  without the Party's initial report);
- :mod:`~ledger.accounting.cycle.guidance`: the checks against the guidance itself that the
  pre-check runs;
- :mod:`~ledger.accounting.cycle.account_types`: the stock-flow reconciliation per account
  type and vintage in the ledger, also run by the pre-check;
- :mod:`~ledger.accounting.cycle.regular_information`: a year's submitted AEF against the
  regular information (23(c)-(f) of the BTR summary), also run by the pre-check;
- :mod:`~ledger.accounting.cycle.review`: the secretariat's result of its consistency check
  imported per action, raising and resolving inconsistency flags;
- :mod:`~ledger.accounting.cycle.flags`: the open flags of a Party and their reasons.

The reports it reads come from :mod:`ledger.accounting.reporting` through its public entry
points.
"""

from ledger.accounting.cycle.account_types import check_account_types
from ledger.accounting.cycle.flags import OpenFlag, open_flags
from ledger.accounting.cycle.guidance import check_guidance
from ledger.accounting.cycle.initial_report import (
    ELEMENTS,
    INITIAL_REPORT_RECORDED,
    Element,
    InitialReport,
    InitialReportDraft,
    InitialReportNotFound,
    initial_report,
    initial_reports,
    missing_initial_reports,
    record_initial_report,
    to_document,
)
from ledger.accounting.cycle.precheck import (
    AEF_PRE_CHECKED,
    STAGES,
    CycleStatus,
    PreCheck,
    PreCheckStatus,
    SubmissionStatus,
    cycle_status,
    due_date,
    pre_check,
    record_pre_check,
)
from ledger.accounting.cycle.regular_information import check_regular_information
from ledger.accounting.cycle.review import (
    CONSISTENCY_REVIEWED,
    ReviewedSubmissionNotFound,
    ReviewResult,
    RowResult,
    record_review,
    review_results,
)
from ledger.accounting.cycle.submission import (
    InitialReportMissing,
    initial_report_blockers,
    submit,
)

__all__ = [
    "check_account_types",
    "AEF_PRE_CHECKED",
    "CONSISTENCY_REVIEWED",
    "ELEMENTS",
    "INITIAL_REPORT_RECORDED",
    "STAGES",
    "CycleStatus",
    "Element",
    "InitialReport",
    "InitialReportDraft",
    "InitialReportMissing",
    "InitialReportNotFound",
    "OpenFlag",
    "PreCheck",
    "PreCheckStatus",
    "ReviewResult",
    "ReviewedSubmissionNotFound",
    "RowResult",
    "SubmissionStatus",
    "check_guidance",
    "check_regular_information",
    "cycle_status",
    "due_date",
    "initial_report",
    "initial_report_blockers",
    "initial_reports",
    "missing_initial_reports",
    "open_flags",
    "pre_check",
    "record_initial_report",
    "record_pre_check",
    "record_review",
    "review_results",
    "submit",
    "to_document",
]
