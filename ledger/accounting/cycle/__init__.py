"""The Article 6 reporting cycle around the AEF tables (4/CMA.6 paras 26-44): the
secretariat's result of its consistency check imported per action, raising and resolving
inconsistency flags (:mod:`~ledger.accounting.cycle.review`), and the open flags of a Party
with their reasons (:mod:`~ledger.accounting.cycle.flags`).

Each step is a ledger entry; the reports it reads come from
:mod:`ledger.accounting.reporting` through its public entry points.
"""

from ledger.accounting.cycle.flags import OpenFlag, open_flags
from ledger.accounting.cycle.review import (
    CONSISTENCY_REVIEWED,
    ReviewedSubmissionNotFound,
    ReviewResult,
    RowResult,
    record_review,
)

__all__ = [
    "CONSISTENCY_REVIEWED",
    "OpenFlag",
    "ReviewResult",
    "ReviewedSubmissionNotFound",
    "RowResult",
    "open_flags",
    "record_review",
]
