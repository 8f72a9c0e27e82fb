"""The para 23(j) breakdowns (decision 2/CMA.3, annex): the 23(c)-(e) amounts per cooperative
approach, and within each approach per sector, transferring Party, using Party and vintage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from ledger.accounting.adjustments import (
    Figure,
    FirstTransferFact,
    FirstTransferYear,
    OimpAuthorizationFact,
    UseFact,
)
from ledger.accounting.btr.paragraphs import Paragraph

NOT_APPLICABLE = "NA"
"""Key of a 23(j) breakdown row where the dimension does not apply (AEF notation)."""


class BreakdownDimension(StrEnum):
    """The dimensions of para 23(j): per cooperative approach, and within each approach per
    sector, transferring Party, using Party and vintage."""

    COOPERATIVE_APPROACH = "cooperative approach"
    SECTOR = "sector"
    TRANSFERRING_PARTY = "transferring Party"
    USING_PARTY = "using Party"
    VINTAGE = "vintage"


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """The amount of ``paragraph`` (23(c), 23(d) or 23(e)) booked to ``year`` in
    ``cooperative_approach`` whose ``dimension`` equals ``key`` (para 23(j)).

    ``year`` is the year the amount counts in on the summary row: for 23(c) the vintage or the
    year of the first transfer (``AdjustmentPolicy.first_transfer_year``), for 23(d) the year of
    authorization, for 23(e) the year of use. The vintage dimension keeps the vintage either
    way, so a 23(c) year booked by first transfer still breaks down by vintage. ``key`` is the
    value of the dimension (a vintage as four digits), or ``"NA"`` where it does not apply: a
    first transfer with no acquiring Party, or the using Party of an OIMP authorization.
    """

    paragraph: Paragraph
    year: int
    cooperative_approach: str
    dimension: BreakdownDimension
    key: str
    quantity: Figure


@dataclass(frozen=True, slots=True)
class _Amount:
    paragraph: Paragraph
    year: int
    seq: int
    quantity: int
    keys: tuple[tuple[BreakdownDimension, str], ...]


def _amounts(
    first_transfers: Iterable[FirstTransferFact],
    uses: Iterable[UseFact],
    oimp_authorizations: Iterable[OimpAuthorizationFact],
    first_transfer_year: FirstTransferYear,
) -> Iterable[_Amount]:
    dim = BreakdownDimension
    for ft in first_transfers:
        yield _Amount(
            Paragraph.P23_C,
            booked_year(ft, first_transfer_year),
            ft.seq,
            ft.quantity,
            (
                (dim.COOPERATIVE_APPROACH, ft.cooperative_approach),
                (dim.SECTOR, ft.sector),
                (dim.TRANSFERRING_PARTY, ft.transferring_party),
                (dim.USING_PARTY, ft.using_party or NOT_APPLICABLE),
                (dim.VINTAGE, str(ft.vintage)),
            ),
        )
    for auth in oimp_authorizations:
        yield _Amount(
            Paragraph.P23_D,
            auth.year,
            auth.seq,
            auth.quantity,
            (
                (dim.COOPERATIVE_APPROACH, auth.cooperative_approach),
                (dim.SECTOR, auth.sector),
                (dim.TRANSFERRING_PARTY, auth.transferring_party),
                (dim.USING_PARTY, NOT_APPLICABLE),
                (dim.VINTAGE, str(auth.vintage)),
            ),
        )
    for use in uses:
        yield _Amount(
            Paragraph.P23_E,
            use.use_year,
            use.seq,
            use.quantity,
            (
                (dim.COOPERATIVE_APPROACH, use.cooperative_approach),
                (dim.SECTOR, use.sector),
                (dim.TRANSFERRING_PARTY, use.transferring_party),
                (dim.USING_PARTY, use.using_party),
                (dim.VINTAGE, str(use.vintage)),
            ),
        )


_PARAGRAPH_ORDER = {p: i for i, p in enumerate(Paragraph)}
_DIMENSION_ORDER = {d: i for i, d in enumerate(BreakdownDimension)}


def booked_year(ft: FirstTransferFact, axis: FirstTransferYear) -> int:
    """The year 23(c) books the first transfer to under ``axis``."""
    if axis is FirstTransferYear.YEAR_OF_FIRST_TRANSFER and ft.transfer_year is not None:
        return ft.transfer_year
    return ft.vintage


def breakdowns_23j(
    first_transfers: Iterable[FirstTransferFact],
    uses: Iterable[UseFact],
    oimp_authorizations: Iterable[OimpAuthorizationFact] = (),
    first_transfer_year: FirstTransferYear = FirstTransferYear.VINTAGE,
) -> tuple[BreakdownRow, ...]:
    """The 23(c)-(e) amounts per cooperative approach, and within each approach per sector,
    transferring Party, using Party and vintage (decision 2/CMA.3, annex, para 23(j)).

    For each paragraph, year and cooperative approach the rows of every dimension add up to the
    same total, which is the approach's share of that year's summary-row cell. Rows are sorted
    by paragraph, year, approach, dimension and key.
    """
    groups: dict[tuple[Paragraph, int, str, BreakdownDimension, str], list[_Amount]]
    groups = defaultdict(list)
    for amount in _amounts(first_transfers, uses, oimp_authorizations, first_transfer_year):
        approach = amount.keys[0][1]
        for dimension, key in amount.keys:
            groups[(amount.paragraph, amount.year, approach, dimension, key)].append(amount)
    ordered = sorted(
        groups.items(),
        key=lambda item: (
            _PARAGRAPH_ORDER[item[0][0]],
            item[0][1],
            item[0][2],
            _DIMENSION_ORDER[item[0][3]],
            item[0][4],
        ),
    )
    return tuple(
        BreakdownRow(
            paragraph=paragraph,
            year=year,
            cooperative_approach=approach,
            dimension=dimension,
            key=key,
            quantity=Figure(
                Fraction(sum(a.quantity for a in amounts)), tuple(a.seq for a in amounts)
            ),
        )
        for (paragraph, year, approach, dimension, key), amounts in ordered
    )
