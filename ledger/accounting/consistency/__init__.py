"""The secretariat's consistency checks of AEF submissions, run locally before submitting
(2/CMA.3 annex para 33; 6/CMA.4 annex I paras 37-40; 4/CMA.6 paras 29-32 and 40).

Two kinds of check:

- **completeness and accuracy** of each report: every problem
  :func:`ledger.accounting.aef.check_report` finds (missing mandatory information, values
  outside the nomenclatures, broken cross-table references);
- **across the Parties of a cooperative approach**: each First transfer or Transfer row of one
  Party is matched with the Acquisition row of the acquiring Party, and each Acquisition row with
  the transferring Party's First transfer or Transfer row. Rows match on the Party ITMO registry
  ID and overlapping serial ranges; a matched pair must then agree on the cooperative approach,
  authorization, first transferring Party, First and Last ID, quantity, vintage, the Parties,
  and the action dates within a tolerance.

Results use the notations of 4/CMA.6 para 29 exactly, per action row and per submission. Every
finding carries its reason and the ITMO blocks it concerns. :func:`record_findings` records a
result as a ``consistency.checked`` ledger entry and flags those blocks inconsistent, so that
their use towards an NDC is refused (4/CMA.6 para 40;
:func:`ledger.registry.services.use_for_ndc`), and resolves the open flags of blocks whose rows
it finds consistent (paras 32, 39). A block is flagged by the identifiers the reports give for
it. The secretariat's own result is imported by :mod:`ledger.accounting.cycle.review`.

Modules: :mod:`~ledger.accounting.consistency.check` (the check),
:mod:`~ledger.accounting.consistency.matching` (transfers against acquisitions),
:mod:`~ledger.accounting.consistency.results` (findings and notations) and
:mod:`~ledger.accounting.consistency.record` (the ledger entry and the flagging).
"""

from ledger.accounting.consistency.check import (
    DEFAULT_DATE_TOLERANCE,
    check_against_counterpart,
    check_completeness,
)
from ledger.accounting.consistency.record import (
    CONSISTENCY_CHECKED,
    FlagChanges,
    RecordedCheck,
    finding_json,
    flag_changes,
    record_findings,
    submission_json,
)
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

__all__ = [
    "CONSISTENCY_CHECKED",
    "DEFAULT_DATE_TOLERANCE",
    "BlockRange",
    "ConsistencyResult",
    "Finding",
    "FlagChanges",
    "FindingKind",
    "Notation",
    "RecordedCheck",
    "RowCheck",
    "RowRef",
    "SubmissionCheck",
    "check_against_counterpart",
    "check_completeness",
    "flag_changes",
    "finding_json",
    "record_findings",
    "submission_json",
]
