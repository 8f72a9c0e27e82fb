"""Corresponding adjustments (CAs) and emissions balances under decision 2/CMA.3, annex, ch. III.

Pure functions over ledger facts. Every quantity is exact (``int`` or ``fractions.Fraction``); no
value is rounded here. :func:`render_decimal` rounds for display only.

Formal contract (``article6.md`` §2.2), for Party P and NDC period years t = T0..T1, N = T1-T0+1:

- ``FT[t]``: ITMOs P first transferred, booked to the **vintage** t (para 8(a)).
- ``U[t]``: ITMOs P used towards its NDC, booked to the **calendar year of use** t (para 8(b)).
- ``NET[t] = FT[t] - U[t]`` (para 23(f)); its running sum is para 23(h).
- Annual methods (multi-year NDC, para 7(b); single-year trajectory, para 7(a)(i)):
  ``CA[t] = NET[t]``.
- Averaging (single-year NDC, para 7(a)(ii)): ``AVG(y) = sum(NET[T0..y]) / n(y)`` is the indicative
  CA of year y; the actual CA of the NDC year is ``sum(NET[T0..T1]) / N``.
- Emissions balance (para 8, para 23(k)(i)): ``EB[t] = E[t] + CA[t]``. For a non-GHG indicator
  the signs are reversed (para 9, para 23(k)(ii)):
  ``Indicator[t] - FT[t] + U[t] = Indicator[t] - CA[t]``.

The points the decision leaves open are settings of :class:`AdjustmentPolicy`, not hard-coded.
Every :class:`Figure` lists the ledger ``seq`` numbers of the facts it was computed from.

Modules: :mod:`~ledger.accounting.adjustments.profile` (the NDC profile and the policy),
:mod:`~ledger.accounting.adjustments.facts` (the ledger facts and the checks that they count),
:mod:`~ledger.accounting.adjustments.figures` (exact figures),
:mod:`~ledger.accounting.adjustments.compute` (:func:`compute_adjustments`),
:mod:`~ledger.accounting.adjustments.report` (the result and :func:`restate`) and
:mod:`~ledger.accounting.adjustments.errors`.
"""

from ledger.accounting.adjustments.compute import compute_adjustments
from ledger.accounting.adjustments.errors import (
    AverageNotDefined,
    DuplicateSeq,
    EmissionsNotReported,
    FactNotOfParty,
    IncomparableReports,
    InvalidFact,
    InvalidNdcProfile,
    MethodNotAllowedForNdc,
    OutsideNdcPeriod,
)
from ledger.accounting.adjustments.facts import (
    EmissionsFact,
    FirstTransferFact,
    OimpAuthorizationFact,
    UseFact,
    check_oimp_authorizations,
)
from ledger.accounting.adjustments.figures import Figure, render_decimal
from ledger.accounting.adjustments.profile import (
    DEFAULT_POLICY,
    GHG_UNIT,
    PARTY_CHOICES,
    AdjustmentPolicy,
    AveragingBasis,
    FirstTransferYear,
    NdcProfile,
    NonGhgSign,
    PartyPolicyChoice,
)
from ledger.accounting.adjustments.report import (
    AdjustmentReport,
    BudgetAssessment,
    CaKind,
    Restatement,
    RowField,
    YearRow,
    restate,
)
from ledger.errors import UseOutsideNdcPeriod, VintageBefore2021
from ledger.registry.model import CaMethod, Metric, NdcType, Purpose

__all__ = [
    "DEFAULT_POLICY",
    "GHG_UNIT",
    "PARTY_CHOICES",
    "AdjustmentPolicy",
    "AdjustmentReport",
    "AverageNotDefined",
    "AveragingBasis",
    "FirstTransferYear",
    "NonGhgSign",
    "BudgetAssessment",
    "CaKind",
    "CaMethod",
    "DuplicateSeq",
    "EmissionsFact",
    "EmissionsNotReported",
    "FactNotOfParty",
    "Figure",
    "FirstTransferFact",
    "IncomparableReports",
    "InvalidFact",
    "InvalidNdcProfile",
    "Metric",
    "MethodNotAllowedForNdc",
    "NdcProfile",
    "NdcType",
    "OimpAuthorizationFact",
    "OutsideNdcPeriod",
    "PartyPolicyChoice",
    "Purpose",
    "Restatement",
    "RowField",
    "UseFact",
    "UseOutsideNdcPeriod",
    "VintageBefore2021",
    "YearRow",
    "check_oimp_authorizations",
    "compute_adjustments",
    "render_decimal",
    "restate",
]
