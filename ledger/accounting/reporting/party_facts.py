"""A Party's accounting from the log: its NDC profile and facts as of any tree size, and the
corresponding adjustments, restatements and BTR structured summary computed from them.

Facts outside the NDC period are left to that period's accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.accounting.adjustments import (
    DEFAULT_POLICY,
    AdjustmentPolicy,
    AdjustmentReport,
    EmissionsFact,
    FirstTransferFact,
    NdcProfile,
    OimpAuthorizationFact,
    Restatement,
    UseFact,
    compute_adjustments,
    restate,
)
from ledger.accounting.btr import (
    BreakdownRow,
    StructuredSummary,
    breakdowns_23j,
    build_structured_summary,
)
from ledger.accounting.reporting.entries import check_tree_size
from ledger.accounting.reporting.inputs import NdcTarget, ndc_profile
from ledger.accounting.reporting.replay import scan_party
from ledger.ports import UnitOfWork
from ledger.registry.model import Purpose


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """What the ledger holds for a Party's accounting, as of ``tree_size`` entries: the NDC
    profile and the facts of its NDC period, each fact carrying the seq of its entry.

    Facts whose year lies outside the NDC period (a first transfer of a later vintage, emissions
    of another year) belong to another period's accounting and are left out.
    """

    party: str
    tree_size: int
    profile: NdcProfile
    target: NdcTarget | None
    emissions: tuple[EmissionsFact, ...]
    first_transfers: tuple[FirstTransferFact, ...]
    uses: tuple[UseFact, ...]
    oimp_authorizations: tuple[OimpAuthorizationFact, ...]


def party_facts(uow: UnitOfWork, party: str, *, tree_size: int | None = None) -> PartyFacts:
    """The Party's profile and facts from the first ``tree_size`` entries (default: all)."""
    end = uow.log.size() if tree_size is None else tree_size
    check_tree_size(uow, end)
    scan = scan_party(uow, party, end)
    declared = scan.state.get_party(party)
    assert declared is not None
    facts = scan.facts
    profile = ndc_profile(declared, facts.target)
    start, stop = profile.period_start, profile.period_end
    return PartyFacts(
        party=party,
        tree_size=end,
        profile=profile,
        target=facts.target,
        emissions=tuple(f for f in facts.emissions if start <= f.year <= stop),
        first_transfers=tuple(f for f in facts.first_transfers if start <= f.vintage <= stop),
        uses=tuple(facts.uses),
        oimp_authorizations=tuple(f for f in facts.oimp_authorizations if start <= f.year <= stop),
    )


def ndc_profile_for(uow: UnitOfWork, party: str) -> NdcProfile:
    """The Party's NDC profile: its NDC declaration and its latest recorded target."""
    return party_facts(uow, party).profile


def _booked(facts: PartyFacts, policy: AdjustmentPolicy) -> AdjustmentReport:
    """:func:`~ledger.accounting.adjustments.compute_adjustments` over the facts, one fact per
    entry and booking: it takes one fact per seq, while one entry may act on blocks of several
    approaches, sectors or vintages. A use counts whole in its year of use; first transfers
    count per vintage and purpose, so an entry first transferring two vintages still raises
    :class:`~ledger.accounting.adjustments.DuplicateSeq`. The 23(j) breakdowns keep every fact."""
    uses: dict[int, UseFact] = {}
    for use in facts.uses:
        booked = uses.get(use.seq)
        uses[use.seq] = (
            use
            if booked is None
            else replace(
                booked,
                quantity=booked.quantity + use.quantity,
                vintage=min(booked.vintage, use.vintage),
            )
        )
    first_transfers: dict[tuple[int, int, Purpose], FirstTransferFact] = {}
    for ft in facts.first_transfers:
        key = (ft.seq, ft.vintage, ft.purpose)
        known = first_transfers.get(key)
        first_transfers[key] = (
            ft if known is None else replace(known, quantity=known.quantity + ft.quantity)
        )
    return compute_adjustments(
        facts.profile, facts.emissions, first_transfers.values(), uses.values(), policy
    )


def adjustments_as_of(
    uow: UnitOfWork, party: str, tree_size: int, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> AdjustmentReport:
    """Corresponding adjustments from the first ``tree_size`` entries only: what could have been
    reported at that point (e.g. a submission's tree size)."""
    return _booked(party_facts(uow, party, tree_size=tree_size), policy)


def adjustments_for(
    uow: UnitOfWork, party: str, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> AdjustmentReport:
    """Corresponding adjustments and emissions balances of the Party from the whole ledger."""
    return adjustments_as_of(uow, party, uow.log.size(), policy)


def restated_since(
    uow: UnitOfWork, party: str, tree_size: int, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> list[Restatement]:
    """Figures reported as of ``tree_size`` (e.g. a :class:`Submission`'s) that the ledger now
    restates (2/CMA.3 annex paras 12, 23)."""
    return restate(
        adjustments_as_of(uow, party, tree_size, policy), adjustments_for(uow, party, policy)
    )


def structured_summary_for(
    uow: UnitOfWork, party: str, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> StructuredSummary:
    """The Article 6 rows of the BTR structured summary (CTF Table 4)."""
    facts = party_facts(uow, party)
    return build_structured_summary(_booked(facts, policy), facts.oimp_authorizations)


def breakdowns_for(uow: UnitOfWork, party: str) -> tuple[BreakdownRow, ...]:
    """The para 23(j) breakdowns of the Party's 23(c)-(e) amounts."""
    facts = party_facts(uow, party)
    return breakdowns_23j(facts.first_transfers, facts.uses, facts.oimp_authorizations)
