"""A Party's accounting from the log, one NDC period at a time: the period's profile and facts
as of any tree size, and the corresponding adjustments, restatements and BTR structured summary
computed from them under the deployment's policy with the Party's own choices.

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
    PartyPolicyChoice,
    Restatement,
    UseFact,
    compute_adjustments,
    restate,
)
from ledger.accounting.btr import (
    BreakdownRow,
    RegularInformation,
    StructuredSummary,
    breakdowns_23j,
    build_structured_summary,
    regular_information,
)
from ledger.accounting.reporting.entries import check_tree_size
from ledger.accounting.reporting.inputs import (
    NdcTarget,
    applicable_target,
    ndc_period,
    ndc_profile,
)
from ledger.accounting.reporting.replay import scan_party
from ledger.ports import UnitOfWork
from ledger.registry.model import Purpose


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """What the ledger holds for the accounting of one of a Party's NDC periods, as of
    ``tree_size`` entries: the period's profile, the policy the Party chose (if any), and the
    facts of the period, each fact carrying the seq of its entry.

    Facts whose year lies outside the period (a first transfer of a vintage of another period,
    a use for a year of another period, emissions of another year) belong to another period's
    accounting and are left out; so are emissions recorded in another unit than the period's
    (recorded before an amendment changed its metric).
    """

    party: str
    tree_size: int
    profile: NdcProfile
    target: NdcTarget | None
    emissions: tuple[EmissionsFact, ...]
    first_transfers: tuple[FirstTransferFact, ...]
    uses: tuple[UseFact, ...]
    oimp_authorizations: tuple[OimpAuthorizationFact, ...]
    policy_choice: PartyPolicyChoice | None = None

    def policy(self, default: AdjustmentPolicy = DEFAULT_POLICY) -> AdjustmentPolicy:
        """The deployment's ``default`` with the Party's choices: the policy its reports use."""
        return default if self.policy_choice is None else self.policy_choice.applied_to(default)


def party_facts(
    uow: UnitOfWork,
    party: str,
    *,
    tree_size: int | None = None,
    period_start: int | None = None,
) -> PartyFacts:
    """The profile and facts of one of the Party's NDC periods from the first ``tree_size``
    entries (default: all). ``period_start`` names the period; by default the period of the
    current year (:func:`~ledger.accounting.reporting.inputs.ndc_period`), which for a Party
    with one NDC period is that period."""
    end = uow.log.size() if tree_size is None else tree_size
    check_tree_size(uow, end)
    scan = scan_party(uow, party, end)
    declared = scan.state.get_party(party)
    assert declared is not None
    facts = scan.facts
    ndc = ndc_period(declared, period_start, uow.now().year)
    target = facts.targets.get(ndc.period_start)
    profile = ndc_profile(party, ndc, applicable_target(ndc, target))
    start, stop = profile.period_start, profile.period_end
    return PartyFacts(
        party=party,
        tree_size=end,
        profile=profile,
        target=target,
        emissions=tuple(
            f
            for f in facts.emissions
            if start <= f.year <= stop
            and facts.emission_units.get(f.seq, profile.unit) == profile.unit
        ),
        first_transfers=tuple(f for f in facts.first_transfers if start <= f.vintage <= stop),
        uses=tuple(f for f in facts.uses if start <= f.use_year <= stop),
        oimp_authorizations=tuple(f for f in facts.oimp_authorizations if start <= f.year <= stop),
        policy_choice=facts.policy_choice,
    )


def ndc_profile_for(uow: UnitOfWork, party: str, period_start: int | None = None) -> NdcProfile:
    """The profile of one of the Party's NDC periods: its declaration and latest target."""
    return party_facts(uow, party, period_start=period_start).profile


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
    uow: UnitOfWork,
    party: str,
    tree_size: int,
    policy: AdjustmentPolicy = DEFAULT_POLICY,
    *,
    period_start: int | None = None,
) -> AdjustmentReport:
    """Corresponding adjustments of one NDC period from the first ``tree_size`` entries only:
    what could have been reported at that point (e.g. a submission's tree size), under the
    deployment's ``policy`` with the Party's choices recorded by then."""
    facts = party_facts(uow, party, tree_size=tree_size, period_start=period_start)
    return _booked(facts, facts.policy(policy))


def adjustments_for(
    uow: UnitOfWork,
    party: str,
    policy: AdjustmentPolicy = DEFAULT_POLICY,
    *,
    period_start: int | None = None,
) -> AdjustmentReport:
    """Corresponding adjustments and emissions balances of one of the Party's NDC periods from
    the whole ledger (``period_start`` as in :func:`party_facts`)."""
    return adjustments_as_of(uow, party, uow.log.size(), policy, period_start=period_start)


def restated_since(
    uow: UnitOfWork,
    party: str,
    tree_size: int,
    policy: AdjustmentPolicy = DEFAULT_POLICY,
    *,
    period_start: int | None = None,
    as_of: int | None = None,
) -> list[Restatement]:
    """Figures of one NDC period reported as of ``tree_size`` (e.g. a :class:`Submission`'s)
    that the ledger restates as of ``as_of`` entries (default: now) (2/CMA.3 annex paras 12,
    23). Both sides are computed under the policy in force then (the deployment's with the
    Party's latest choices), so a changed choice restates the figures it changes. Each restated
    figure names its entries, among them the actions that restated it (an action dated in a
    submitted year records the year it ``restates``)."""
    now = party_facts(uow, party, tree_size=as_of, period_start=period_start)
    then = party_facts(uow, party, tree_size=tree_size, period_start=now.profile.period_start)
    in_force = now.policy(policy)
    return restate(_booked(then, in_force), _booked(now, in_force))


def structured_summary_for(
    uow: UnitOfWork,
    party: str,
    policy: AdjustmentPolicy = DEFAULT_POLICY,
    *,
    period_start: int | None = None,
    tree_size: int | None = None,
) -> StructuredSummary:
    """The Article 6 rows of the BTR structured summary (CTF Table 4) of one NDC period, from
    the first ``tree_size`` entries (default: all)."""
    facts = party_facts(uow, party, tree_size=tree_size, period_start=period_start)
    return build_structured_summary(
        _booked(facts, facts.policy(policy)), facts.oimp_authorizations, facts.first_transfers
    )


def breakdowns_for(
    uow: UnitOfWork,
    party: str,
    policy: AdjustmentPolicy = DEFAULT_POLICY,
    *,
    period_start: int | None = None,
    tree_size: int | None = None,
) -> tuple[BreakdownRow, ...]:
    """The para 23(j) breakdowns of the Party's 23(c)-(e) amounts in one NDC period, from the
    first ``tree_size`` entries (default: all); 23(c) booked as the policy says."""
    facts = party_facts(uow, party, tree_size=tree_size, period_start=period_start)
    return breakdowns_23j(
        facts.first_transfers,
        facts.uses,
        facts.oimp_authorizations,
        facts.policy(policy).first_transfer_year,
    )


def regular_information_for(
    uow: UnitOfWork, party: str, *, tree_size: int | None = None
) -> RegularInformation:
    """The Party's share of proceeds and OMGE summary for its regular information (2/CMA.3
    annex paras 38, 40; 22(j)-(k)), every year, from the first ``tree_size`` entries (default:
    all): ITMOs transferred to the Adaptation Fund, cancellations to deliver OMGE and recorded
    monetary contributions to the Adaptation Fund, per approach and year."""
    end = uow.log.size() if tree_size is None else tree_size
    check_tree_size(uow, end)
    scan = scan_party(uow, party, end)
    return regular_information(party, scan.facts.contributions)
