"""Profiles, facts and adjustment reports for the BTR tests."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ledger.accounting.adjustments import (
    AdjustmentReport,
    EmissionsFact,
    FirstTransferFact,
    NdcProfile,
    OimpAuthorizationFact,
    UseFact,
    compute_adjustments,
)
from ledger.accounting.btr import (
    SummaryRow,
)
from ledger.registry.model import CaMethod, Metric, NdcType, Purpose

HOST, BUYER = "THA", "JPN"


def make_profile(
    party: str,
    method: CaMethod,
    period: tuple[int, int] = (2021, 2030),
    **extra: object,
) -> NdcProfile:
    ndc_type = NdcType.MULTI_YEAR if method is CaMethod.ANNUAL else NdcType.SINGLE_YEAR
    return NdcProfile(
        party,
        ndc_type,
        extra.pop("metric", Metric.GHG),  # type: ignore[arg-type]
        period[0],
        period[1],
        method,
        period[1],
        **extra,  # type: ignore[arg-type]
    )


def ft(
    seq: int,
    vintage: int,
    quantity: int,
    *,
    purpose: Purpose = Purpose.NDC,
    approach: str = "CA0001",
    sector: str = "Energy generation",
    to: str | None = BUYER,
) -> FirstTransferFact:
    return FirstTransferFact(seq, vintage, quantity, purpose, approach, sector, HOST, to)


def use(
    seq: int,
    use_year: int,
    quantity: int,
    *,
    vintage: int = 2021,
    approach: str = "CA0001",
    sector: str = "Energy generation",
    source: str = HOST,
    party: str = BUYER,
) -> UseFact:
    return UseFact(seq, use_year, vintage, quantity, approach, sector, source, party)


def oimp(
    seq: int, year: int, quantity: int, entities: tuple[str, ...] = ("Airline A",)
) -> OimpAuthorizationFact:
    return OimpAuthorizationFact(
        seq, year, quantity, entities, "CA0002", "Forestry and land use", HOST, year
    )


def emissions(values: Mapping[int, int], first_seq: int = 1000) -> list[EmissionsFact]:
    return [EmissionsFact(first_seq + i, y, v) for i, (y, v) in enumerate(values.items())]


def cell_values(row: SummaryRow) -> dict[int, Fraction | None]:
    return {cell.year: None if cell.value is None else cell.value.value for cell in row.cells}


def japan_averaging() -> AdjustmentReport:
    """T3 with a target level (article6.md §2.3)."""
    uses = [
        use(i, year, qty)
        for i, (year, qty) in enumerate(
            {
                2025: 1_009,
                2026: 5_000,
                2027: 10_000,
                2028: 20_000,
                2029: 30_000,
                2030: 33_991,
            }.items(),
            start=1,
        )
    ]
    party = make_profile(BUYER, CaMethod.AVERAGING, target_level=995_000)
    return compute_adjustments(party, emissions({2030: 1_000_000}), [], uses)


def host_multi_year() -> AdjustmentReport:
    """T1 (article6.md §2.3)."""
    party = make_profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=2_960_000)
    return compute_adjustments(
        party,
        emissions({2021: 1_000_000, 2022: 980_000, 2023: 960_000}, first_seq=1),
        [ft(10, 2021, 5_000), ft(11, 2022, 8_000)],
        [],
    )
