"""Contributions of resources for adaptation (share of proceeds) and delivery of overall
mitigation in global emissions (OMGE) in a Party's regular information (decision 2/CMA.3,
annex, paras 37-40 and 22(j)-(k); decision 4/CMA.6, para 25; outline in decision 6/CMA.4,
annex VI, chapter VI.J-K).

The ledger knows the ITMO side of both from the Party's actions: ITMOs it transferred to the
Adaptation Fund (first transfer or transfer to an Adaptation Fund account) and its cancellations
to deliver OMGE (voluntary or mandatory). A monetary contribution to the Adaptation Fund is
not an ITMO action: the Party records it (``adaptation_contribution.recorded``, an exact
decimal amount and its currency). :func:`regular_information` sums them per paragraph,
cooperative approach, year and kind, each figure naming its ledger entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from ledger.accounting.adjustments import Figure


class ContributionKind(StrEnum):
    """What a Party contributed, and under which paragraph it reports it."""

    ADAPTATION_FUND_ITMOS = "ITMOs transferred to the Adaptation Fund"
    ADAPTATION_FUND_MONETARY = "Monetary contribution to the Adaptation Fund"
    VOLUNTARY_OMGE = "Voluntary cancellation to deliver OMGE"
    MANDATORY_OMGE = "Mandatory cancellation to deliver OMGE"

    @property
    def paragraph(self) -> str:
        """2/CMA.3 annex para 38 (resources for adaptation, reported under 22(j)) or para 40
        (OMGE, reported under 22(k))."""
        if self in (ContributionKind.VOLUNTARY_OMGE, ContributionKind.MANDATORY_OMGE):
            return "40"
        return "38"


@dataclass(frozen=True, slots=True)
class ContributionFact:
    """One contribution recorded at ``seq``: ITMOs (``quantity``) or money (``amount`` in
    ``currency``), in ``year``, for ``cooperative_approach``."""

    seq: int
    year: int
    cooperative_approach: str
    kind: ContributionKind
    quantity: int | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class RegularInformationRow:
    """The contributions of one kind to one approach in one year: ITMOs as a figure, money as
    the exact sum per currency, each naming its entries (``seqs``)."""

    paragraph: str
    cooperative_approach: str
    year: int
    kind: ContributionKind
    quantity: Figure | None
    amount: Decimal | None
    currency: str | None
    seqs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RegularInformation:
    """A Party's share of proceeds and OMGE summary, rows sorted by paragraph, approach, year,
    kind and currency; empty when the Party reports none (the rows apply "if applicable")."""

    party: str
    rows: tuple[RegularInformationRow, ...]


def regular_information(party: str, facts: Iterable[ContributionFact]) -> RegularInformation:
    groups: dict[tuple[str, str, int, ContributionKind, str], list[ContributionFact]]
    groups = defaultdict(list)
    for fact in facts:
        key = (
            fact.kind.paragraph,
            fact.cooperative_approach,
            fact.year,
            fact.kind,
            fact.currency or "",
        )
        groups[key].append(fact)
    order = {kind: i for i, kind in enumerate(ContributionKind)}
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], order[k[3]], k[4])):
        paragraph, approach, year, kind, currency = key
        found = groups[key]
        seqs = tuple(f.seq for f in found)
        monetary = kind is ContributionKind.ADAPTATION_FUND_MONETARY
        rows.append(
            RegularInformationRow(
                paragraph=paragraph,
                cooperative_approach=approach,
                year=year,
                kind=kind,
                quantity=None
                if monetary
                else Figure(Fraction(sum(f.quantity or 0 for f in found)), seqs),
                amount=sum((f.amount or Decimal(0) for f in found), Decimal(0))
                if monetary
                else None,
                currency=currency or None,
                seqs=seqs,
            )
        )
    return RegularInformation(party, tuple(rows))
