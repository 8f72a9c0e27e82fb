"""The ledger facts the computation counts, each recorded at a ledger ``seq``: first transfers,
uses towards the NDC, emissions, and OIMP authorizations; and the checks that they can be
counted for a profile (one entry counts once, the right Party, the NDC period, vintage 2021 or
later)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.accounting.adjustments.checks import check_int, check_party, check_text, coerce_enum
from ledger.accounting.adjustments.errors import (
    DuplicateSeq,
    FactNotOfParty,
    InvalidFact,
    OutsideNdcPeriod,
)
from ledger.accounting.adjustments.profile import NdcProfile
from ledger.errors import InvalidInput, RuleViolation, VintageBefore2021
from ledger.registry.model import MIN_VINTAGE, Purpose


class Fact(Protocol):
    """A fact: it carries the ``seq`` of its ledger entry."""

    @property
    def seq(self) -> int: ...


class QuantityFact(Fact, Protocol):
    """A fact that counts a quantity of ITMOs or mitigation outcomes."""

    @property
    def quantity(self) -> int: ...


def _check_fact_header(fact: Fact, quantity: object) -> None:
    check_int(InvalidFact, "seq", fact.seq)
    if fact.seq < 0:
        raise InvalidFact(f"seq must be >= 0, got {fact.seq}", field="seq", seq=fact.seq)
    check_int(InvalidFact, "quantity", quantity)
    if not isinstance(quantity, int) or quantity <= 0:
        raise InvalidFact(
            f"quantity must be a positive int, got {quantity!r}", field="quantity", seq=fact.seq
        )


@dataclass(frozen=True, slots=True)
class FirstTransferFact:
    """A first transfer of ITMOs recorded by the ledger at ``seq`` (para 2, para 8(a)).

    Booked to its ``vintage`` (the year the mitigation occurred). ``purpose`` is the authorized
    purpose; ``using_party`` is the acquiring Party, or ``None`` for an OIMP first transfer at
    authorization, issuance or cancellation with no acquiring Party. ``cooperative_approach``,
    ``sector`` and the Parties feed the para 23(j) breakdowns.
    """

    seq: int
    vintage: int
    quantity: int
    purpose: Purpose
    cooperative_approach: str
    sector: str
    transferring_party: str
    using_party: str | None = None
    transfer_year: int | None = None
    """The year of the first transfer's action date (``None``: not known; the vintage stands
    in), for 23(c) booked by year of first transfer (``AdjustmentPolicy.first_transfer_year``)."""

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        check_int(InvalidFact, "vintage", self.vintage)
        if self.transfer_year is not None:
            check_int(InvalidFact, "transfer_year", self.transfer_year)
        coerce_enum(self, "purpose", Purpose, InvalidFact)
        check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        check_text(InvalidFact, "sector", self.sector)
        check_party(InvalidFact, "transferring_party", self.transferring_party)
        if self.using_party is not None:
            check_party(InvalidFact, "using_party", self.using_party)


@dataclass(frozen=True, slots=True)
class UseFact:
    """A use of ITMOs towards the NDC recorded at ``seq``, booked to ``use_year`` (para 8(b)).

    ``transferring_party`` is the Party the using Party acquired the ITMOs from (the first
    transferring Party when it acquired them from it, or when the ledger did not see the
    acquisition); ``using_party`` is the Party that used them.
    """

    seq: int
    use_year: int
    vintage: int
    quantity: int
    cooperative_approach: str
    sector: str
    transferring_party: str
    using_party: str

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        check_int(InvalidFact, "use_year", self.use_year)
        check_int(InvalidFact, "vintage", self.vintage)
        check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        check_text(InvalidFact, "sector", self.sector)
        check_party(InvalidFact, "transferring_party", self.transferring_party)
        check_party(InvalidFact, "using_party", self.using_party)


@dataclass(frozen=True, slots=True)
class EmissionsFact:
    """NDC-covered emissions and removals ``E[year]`` (para 23(a)), or the non-GHG indicator
    level (para 23(i)), recorded at ``seq``. A later fact for the same year (higher ``seq``)
    restates it; the earlier value stays as "previously reported"."""

    seq: int
    year: int
    value: int

    def __post_init__(self) -> None:
        check_int(InvalidFact, "seq", self.seq)
        if self.seq < 0:
            raise InvalidFact(f"seq must be >= 0, got {self.seq}", field="seq")
        check_int(InvalidFact, "year", self.year)
        check_int(InvalidFact, "value", self.value)


@dataclass(frozen=True, slots=True)
class OimpAuthorizationFact:
    """Mitigation outcomes authorized for other international mitigation purposes in ``year``,
    and the entities authorized to use them (para 23(d)), recorded at ``seq``.

    Reported on its own row; it enters ``FT`` only when a first transfer is recorded for the
    same outcomes (a separate :class:`FirstTransferFact`).
    """

    seq: int
    year: int
    quantity: int
    entities: tuple[str, ...]
    cooperative_approach: str
    sector: str
    transferring_party: str
    vintage: int

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        check_int(InvalidFact, "year", self.year)
        check_int(InvalidFact, "vintage", self.vintage)
        entities: object = self.entities
        if isinstance(entities, str) or not isinstance(entities, Iterable):
            raise InvalidFact("entities must be a sequence of names", field="entities")
        object.__setattr__(self, "entities", tuple(entities))
        for entity in self.entities:
            check_text(InvalidFact, "entities", entity)
        check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        check_text(InvalidFact, "sector", self.sector)
        check_party(InvalidFact, "transferring_party", self.transferring_party)


def check_oimp_authorizations(
    profile: NdcProfile, facts: Iterable[OimpAuthorizationFact]
) -> tuple[OimpAuthorizationFact, ...]:
    """Validate 23(d) facts for ``profile``: the authorizing Party is the reporting Party, the
    year of authorization lies in the NDC period, the vintage is 2021 or later (para 1(e)) and no
    ``seq`` repeats. Returns the facts in ``seq`` order."""
    ordered = tuple(sorted(facts, key=lambda fact: fact.seq))
    check_unique_seqs("OIMP-authorization", ordered)
    for fact in ordered:
        check_party_of(profile, fact.seq, "transferring_party", fact.transferring_party)
        check_vintage(fact.seq, fact.vintage)
        check_in_period(profile, fact.seq, "year", fact.year)
    return ordered


def check_unique_seqs(
    kind: str, facts: Iterable[Fact], booking: Callable[[Any], object] | None = None
) -> None:
    """One entry counts once. Without ``booking`` a seq may carry one fact only; with it, one
    entry may carry several facts (an entry acting on blocks of several vintages) as long as
    they agree on ``booking`` (e.g. the year of use) and none is repeated: facts of one entry
    that agree on every field are given once, with their quantities added (as
    ``ledger.accounting.reporting`` does)."""
    seen: dict[int, object] = {}
    distinct: set[object] = set()
    for fact in facts:
        if fact.seq in seen and (
            booking is None or seen[fact.seq] != booking(fact) or fact in distinct
        ):
            raise DuplicateSeq(f"two {kind} facts carry seq {fact.seq}", seq=fact.seq, kind=kind)
        seen[fact.seq] = None if booking is None else booking(fact)
        distinct.add(fact)


def check_in_period(
    profile: NdcProfile,
    seq: int,
    name: str,
    year: int,
    error: type[InvalidInput | RuleViolation] = OutsideNdcPeriod,
) -> None:
    if not profile.period_start <= year <= profile.period_end:
        raise error(
            f"{name} {year} of seq {seq} is outside the NDC period {profile.period_label}",
            seq=seq,
            field=name,
            year=year,
            period_start=profile.period_start,
            period_end=profile.period_end,
        )


def check_vintage(seq: int, vintage: int) -> None:
    if vintage < MIN_VINTAGE:
        raise VintageBefore2021(
            f"vintage {vintage} of seq {seq} is before {MIN_VINTAGE}",
            seq=seq,
            vintage=vintage,
        )


def check_party_of(profile: NdcProfile, seq: int, role: str, party: str) -> None:
    if party != profile.party:
        raise FactNotOfParty(
            f"seq {seq}: {role} is {party}, not the reporting Party {profile.party}",
            seq=seq,
            role=role,
            party=party,
        )
