"""BTR structured summary, Article 6 rows (decision 5/CMA.3, annex II, CTF Table 4) and the
para 23(j) breakdowns (decision 2/CMA.3, annex).

Pure functions from an :class:`~ledger.accounting.adjustments.AdjustmentReport` and ledger facts to
rows (:mod:`~ledger.accounting.btr.summary`, :mod:`~ledger.accounting.btr.breakdowns`; the CTF
wording of each row is in :mod:`~ledger.accounting.btr.paragraphs`).
Rows that do not apply to the Party's metric or method are marked ``applicable=False`` with the
reason, never filled with made-up numbers. Every value is an exact
:class:`~ledger.accounting.adjustments.Figure` that names the ledger ``seq`` numbers behind it.
"""

from ledger.accounting.btr.breakdowns import (
    NOT_APPLICABLE,
    BreakdownDimension,
    BreakdownRow,
    breakdowns_23j,
)
from ledger.accounting.btr.paragraphs import Paragraph
from ledger.accounting.btr.regular_information import (
    ContributionFact,
    ContributionKind,
    RegularInformation,
    RegularInformationRow,
    regular_information,
)
from ledger.accounting.btr.summary import (
    StructuredSummary,
    SummaryCell,
    SummaryRow,
    build_structured_summary,
)

__all__ = [
    "NOT_APPLICABLE",
    "BreakdownDimension",
    "BreakdownRow",
    "ContributionFact",
    "ContributionKind",
    "RegularInformation",
    "RegularInformationRow",
    "regular_information",
    "Paragraph",
    "StructuredSummary",
    "SummaryCell",
    "SummaryRow",
    "breakdowns_23j",
    "build_structured_summary",
]
