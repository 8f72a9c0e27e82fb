"""Facts and profiles for the adjustment tests, and the golden cases T3 and T4 that several
tests reuse (article6.md §2.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AdjustmentReport,
    EmissionsFact,
    FirstTransferFact,
    NdcProfile,
    RowField,
    UseFact,
    compute_adjustments,
)
from ledger.registry.model import CaMethod, Metric, NdcType, Purpose

HOST, BUYER = "THA", "JPN"


def profile(
    party: str = BUYER,
    method: CaMethod = CaMethod.AVERAGING,
    period: tuple[int, int] = (2021, 2030),
    *,
    metric: Metric = Metric.GHG,
    budget: int | None = None,
    trajectory: Mapping[int, int] | None = None,
    target_level: int | None = None,
    non_ghg_unit: str | None = None,
) -> NdcProfile:
    ndc_type = NdcType.MULTI_YEAR if method is CaMethod.ANNUAL else NdcType.SINGLE_YEAR
    return NdcProfile(
        party=party,
        ndc_type=ndc_type,
        metric=metric,
        period_start=period[0],
        period_end=period[1],
        method=method,
        target_year=period[1],
        budget=budget,
        trajectory=trajectory or {},
        target_level=target_level,
        non_ghg_unit=non_ghg_unit,
    )


def ft(
    seq: int,
    vintage: int,
    quantity: int,
    purpose: Purpose = Purpose.NDC,
    *,
    party: str = HOST,
    to: str | None = BUYER,
    approach: str = "CA0001",
    sector: str = "Energy generation",
) -> FirstTransferFact:
    return FirstTransferFact(seq, vintage, quantity, purpose, approach, sector, party, to)


def use(
    seq: int,
    use_year: int,
    quantity: int,
    vintage: int = 2021,
    *,
    party: str = BUYER,
    source: str = HOST,
    approach: str = "CA0001",
    sector: str = "Energy generation",
) -> UseFact:
    return UseFact(seq, use_year, vintage, quantity, approach, sector, source, party)


def emissions(values: Mapping[int, int], first_seq: int = 1000) -> list[EmissionsFact]:
    return [
        EmissionsFact(first_seq + i, year, value) for i, (year, value) in enumerate(values.items())
    ]


def by_year(report: AdjustmentReport, field: RowField) -> dict[int, Fraction | None]:
    return {
        row.year: (None if (fig := row.figures()[field]) is None else fig.value)
        for row in report.rows
    }


T3_USES = {2025: 1_009, 2026: 5_000, 2027: 10_000, 2028: 20_000, 2029: 30_000, 2030: 33_991}


DEFAULT = AdjustmentPolicy()


def t3_report(policy: AdjustmentPolicy = DEFAULT) -> AdjustmentReport:
    uses = [use(i, year, qty) for i, (year, qty) in enumerate(T3_USES.items(), start=1)]
    return compute_adjustments(profile(), emissions({2030: 1_000_000}), [], uses, policy)


def t4_transfers(oimp_purpose: Purpose = Purpose.OIMP) -> list[FirstTransferFact]:
    return [
        ft(1, 2021, 1_009),
        ft(2, 2023, 4_000),
        ft(3, 2025, 6_000),
        # authorized for CORSIA, OIMP first-transfer definition "Authorization"
        ft(4, 2026, 3_000, oimp_purpose, to=None),
    ]
