"""What one pass over the entries about one Party holds: the projection replayed so far, the
Party's accounting facts, and the AEF Table 3 rows of one reported year.

:mod:`ledger.accounting.reporting.replay` fills a :class:`PartyScan` entry by entry; the
reports read it at the end of the pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.accounting.adjustments import (
    EmissionsFact,
    FirstTransferFact,
    OimpAuthorizationFact,
    PartyPolicyChoice,
    UseFact,
)
from ledger.accounting.btr.regular_information import ContributionFact
from ledger.accounting.reporting.aef_rows import ActionTable
from ledger.accounting.reporting.inputs import NdcTarget, Submission
from ledger.errors import AuthorizationNotFound
from ledger.registry.model import Authorization, UnitBlock
from ledger.registry.projection import InMemoryProjection


@dataclass
class CollectedFacts:
    """The Party's facts met so far, in ``seq`` order, each carrying the seq of its entry."""

    emissions: list[EmissionsFact] = field(default_factory=list)
    emission_units: dict[int, str] = field(default_factory=dict)
    """The unit each emissions entry (by seq) was recorded in."""
    first_transfers: list[FirstTransferFact] = field(default_factory=list)
    uses: list[UseFact] = field(default_factory=list)
    oimp_authorizations: list[OimpAuthorizationFact] = field(default_factory=list)
    targets: dict[int, NdcTarget] = field(default_factory=dict)
    """The latest NDC target recorded for each NDC period, by the period's first year."""
    policy_choice: PartyPolicyChoice | None = None
    """The latest choice of the accounting settings left to the Party."""
    submissions: list[Submission] = field(default_factory=list)
    contributions: list[ContributionFact] = field(default_factory=list)
    """ITMOs to the Adaptation Fund, OMGE cancellations and monetary contributions to the
    Adaptation Fund of the Party (its regular information, paras 38 and 40)."""


@dataclass
class PartyScan:
    """One pass over the log for one Party: its facts, its AEF actions of one reported year,
    and the replayed projection at the end of the pass."""

    party: str
    reported_year: int | None
    end: int = 0
    """Tree size read: entries ``0 .. end-1``."""
    state: InMemoryProjection = field(default_factory=InMemoryProjection)
    facts: CollectedFacts = field(default_factory=CollectedFacts)
    actions: ActionTable = field(init=False)
    unconverted: dict[int, list[UnitBlock]] = field(default_factory=dict)
    """First-transfer facts (by index) of non-GHG units counted against a t CO2 eq NDC before
    their conversion was recorded, with their blocks: converted at the end of the scan."""
    acquired_from: dict[int, str] = field(default_factory=dict)
    """The Party each block acquired by the scan's Party came from, by block id."""
    year_end: InMemoryProjection = field(default_factory=InMemoryProjection)
    """The projection at 31 December of the reported year by action date: every entry that
    writes no blocks, and the block-writing entries dated on or before that day. Actions on a
    serial are dated in ``seq`` order (``ledger.registry.services.blocks``), so this subset of
    the log replays consistently."""

    def __post_init__(self) -> None:
        self.actions = ActionTable(self.reported_year)

    def submissions_of(self, reported_year: int) -> list[Submission]:
        """The Party's submissions of the AEF for ``reported_year``, oldest first."""
        return [s for s in self.facts.submissions if s.reported_year == reported_year]

    # --- context from the projection replayed so far

    def authorization(self, authorization_id: str, version: int | None = None) -> Authorization:
        found = self.state.get_authorization(authorization_id, version)
        if found is None:
            raise AuthorizationNotFound(
                f"authorization {authorization_id} v{version} is not in the ledger",
                authorization_id=authorization_id,
            )
        return found

    def account_party(self, account_id: str) -> str | None:
        """The Party whose registry holds the account, if both are known."""
        account = self.state.get_account(account_id)
        registry = None if account is None else self.state.get_registry(account.registry_id)
        return None if registry is None else registry.party

    def entity_name(self, entity_id: str) -> str:
        entity = self.state.get_entity(entity_id)
        return entity_id if entity is None else entity.name

    def entity_identification(self, entity_id: str | None) -> str | None:
        """The entity's identification number, for a Table 3 row; the entity goes to Table 5."""
        if entity_id is None:
            return None
        self.actions.used_entities.add(entity_id)
        entity = self.state.get_entity(entity_id)
        return entity_id if entity is None else entity.identification
