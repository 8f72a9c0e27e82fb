"""A Party's NDC periods: complete validation of a declaration, successive disjoint periods,
amendments, and how the entries that declare them read (article6.md §1-§2).

A Party has a list of NDC implementation periods (e.g. 2021-2030, then 2031-2035), each with its
own NDC type, metric, corresponding-adjustment method, NDC year and non-GHG unit. A period is
known by its years; an amendment is a new version of the same period.

Validation happens when a period is declared, so that every accepted declaration can be
reported: :func:`check_declaration` accepts exactly the shapes the adjustments compute
(``ledger.accounting.adjustments.NdcProfile`` runs the same checks):

- single-year NDC: method ``trajectory`` (para 7(a)(i)) or ``averaging`` (para 7(a)(ii)), and the
  NDC year is the last year of the period (article6.md §2.2 places it at T1);
- multi-year NDC: method ``annual`` (para 7(b)), any NDC year within the period;
- non-GHG metric: the unit of the indicator (para 9, 22(d)); a GHG NDC is tracked in t CO2 eq and
  declares no other unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ledger.errors import (
    InvalidInput,
    InvalidNdcDeclaration,
    MethodNotAllowedForNdc,
    NdcAlreadyDeclared,
    NdcPeriodNotDeclared,
    NdcPeriodsOverlap,
)
from ledger.log.canonical import JsonValue
from ledger.registry.codec import from_json, to_json
from ledger.registry.model import (
    CaMethod,
    Metric,
    NdcDeclaration,
    NdcPeriod,
    NdcType,
    Party,
)

SOURCE = "article6.md §2.1"
"""Where the rules of the CA methods are summarised (2/CMA.3 annex para 7)."""

ALLOWED_METHODS: Mapping[NdcType, tuple[CaMethod, ...]] = {
    NdcType.SINGLE_YEAR: (CaMethod.TRAJECTORY, CaMethod.AVERAGING),
    NdcType.MULTI_YEAR: (CaMethod.ANNUAL,),
}
"""The CA methods of each NDC type (2/CMA.3 annex para 7(a) and 7(b))."""


def check_declaration(
    ndc: NdcDeclaration, error: type[InvalidInput] = InvalidNdcDeclaration
) -> None:
    """Refuse a declaration that no report could be computed for; ``error`` is raised for every
    problem but the method, which is :class:`~ledger.errors.MethodNotAllowedForNdc`. Each
    message says what is allowed."""
    if ndc.period_start > ndc.period_end:
        raise error(
            f"period_start {ndc.period_start} is after period_end {ndc.period_end}",
            field="period_start",
            period_start=ndc.period_start,
            period_end=ndc.period_end,
        )
    allowed = ALLOWED_METHODS[ndc.ndc_type]
    if ndc.method not in allowed:
        names = " or ".join(repr(m.value) for m in allowed)
        raise MethodNotAllowedForNdc(
            f"method {ndc.method.value!r} does not apply to a {ndc.ndc_type.value} NDC: a "
            f"{ndc.ndc_type.value} NDC applies {names} (2/CMA.3 annex para "
            f"{'7(a)' if ndc.ndc_type is NdcType.SINGLE_YEAR else '7(b)'}; {SOURCE})",
            field="method",
            method=ndc.method.value,
            ndc_type=ndc.ndc_type.value,
            allowed=[m.value for m in allowed],
            source=SOURCE,
        )
    if not ndc.covers(ndc.target_year):
        raise error(
            f"target_year {ndc.target_year} is outside the NDC period {ndc.period_label}: the "
            "NDC year is a year of its period",
            field="target_year",
            target_year=ndc.target_year,
            period_start=ndc.period_start,
            period_end=ndc.period_end,
        )
    if ndc.ndc_type is NdcType.SINGLE_YEAR and ndc.target_year != ndc.period_end:
        raise error(
            f"the NDC year of a single-year NDC is the last year of its period: target_year "
            f"must be {ndc.period_end} ({SOURCE}; article6.md §2.2 places the NDC year at T1); "
            "a target in an earlier year is a multi-year NDC with the annual method",
            field="target_year",
            target_year=ndc.target_year,
            period_end=ndc.period_end,
            allowed=[ndc.period_end],
            source=SOURCE,
        )
    unit = ndc.non_ghg_unit
    if ndc.metric is Metric.NON_GHG and (not isinstance(unit, str) or not unit.strip()):
        raise error(
            "non_ghg_unit must be a non-empty string: a non-GHG NDC declares the unit its "
            "indicator is tracked in, e.g. 'MWh' (2/CMA.3 annex paras 9, 22(d))",
            field="non_ghg_unit",
        )
    if ndc.metric is Metric.GHG and unit is not None:
        raise error(
            "a GHG NDC has no non-GHG unit: it is tracked in t CO2 eq; give non_ghg_unit only "
            "with the non-GHG metric",
            field="non_ghg_unit",
        )


def check_new_period(party: Party, ndc: NdcDeclaration) -> bool:
    """Whether ``ndc`` is a new period of ``party``: ``False`` if the very same declaration is
    already in force (nothing to record). Refused: a period starting in the same year as a
    declared one (:class:`~ledger.errors.NdcAlreadyDeclared`: amend it instead) or sharing a
    year with one (:class:`~ledger.errors.NdcPeriodsOverlap`)."""
    for declared in party.declarations:
        if declared == ndc:
            return False
        if declared.period_start == ndc.period_start:
            raise NdcAlreadyDeclared(
                f"{party.code} already declared its NDC period {declared.period_label}; a "
                "declared period changes only by amendment, until an AEF report covering it "
                "has been submitted",
                party=party.code,
                period=declared.period_label,
            )
    overlapping = [
        d.period_label
        for d in party.declarations
        if d.period_start <= ndc.period_end and ndc.period_start <= d.period_end
    ]
    if overlapping:
        raise NdcPeriodsOverlap(
            f"the NDC period {ndc.period_label} of {party.code} overlaps its declared period "
            f"{', '.join(overlapping)}: NDC periods are successive",
            party=party.code,
            period=ndc.period_label,
            overlapping=overlapping,
        )
    return True


def period_to_amend(party: Party, ndc: NdcDeclaration) -> NdcPeriod:
    """The declared period with the years of ``ndc``: an amendment keeps its period's years
    (:class:`~ledger.errors.NdcPeriodNotDeclared` if the Party declared no such period)."""
    for period in party.ndc_periods:
        declared = period.declaration
        if (declared.period_start, declared.period_end) == (ndc.period_start, ndc.period_end):
            return period
    raise NdcPeriodNotDeclared(
        f"{party.code} has declared no NDC period {ndc.period_label} (declared: "
        f"{', '.join(d.period_label for d in party.declarations) or 'none'}); an amendment keeps "
        "the years of the period it amends",
        party=party.code,
        period=ndc.period_label,
    )


def period_for_year(party: Party, year: int) -> NdcDeclaration | None:
    """The NDC period a year is reported under: the one containing it, else the latest period
    that started before it, else the first period (a Party with one period always gets it)."""
    periods = party.declarations
    if not periods:
        return None
    covering = party.ndc_covering(year)
    if covering is not None:
        return covering
    started = [ndc for ndc in periods if ndc.period_start <= year]
    return started[-1] if started else periods[0]


def period_starting(party: Party, period_start: int) -> NdcDeclaration:
    """The Party's NDC period that starts in ``period_start``."""
    for ndc in party.declarations:
        if ndc.period_start == period_start:
            return ndc
    raise NdcPeriodNotDeclared(
        f"{party.code} has declared no NDC period starting in {period_start} (declared: "
        f"{', '.join(d.period_label for d in party.declarations) or 'none'})",
        party=party.code,
        period_start=period_start,
    )


# --- the entries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RegisteredParty:
    """A Party as a ``party.registered`` entry records it: with one NDC declaration or none."""

    code: str
    name: str
    ndc: NdcDeclaration | None = None


def registered_party_payload(party: Party) -> dict[str, JsonValue]:
    """The ``party`` member of a ``party.registered`` payload (at most one NDC period; further
    periods are declared with ``ndc.declared``)."""
    if len(party.ndc_periods) > 1:
        raise InvalidInput(
            "a Party is registered with at most one NDC period; declare the others afterwards",
            party=party.code,
        )
    ndc = party.declarations[0] if party.ndc_periods else None
    return to_json(_RegisteredParty(party.code, party.name, ndc))


def registered_party(obj: Any) -> Party:
    """A ``party.registered`` payload's ``party``: its NDC, if any, is the first period."""
    registered = from_json(_RegisteredParty, obj)
    return Party.with_ndc(registered.code, registered.name, registered.ndc)


def with_declared(party: Party, ndc: NdcDeclaration) -> Party:
    """``party`` after an ``ndc.declared`` entry: a new period, version 1. Ledgers written before
    successive periods existed may repeat the very same declaration, which changes nothing."""
    if ndc in party.declarations:
        return party
    return _with_periods(party, [*party.ndc_periods, NdcPeriod(ndc)])


def with_amended(party: Party, ndc: NdcDeclaration, version: int) -> Party:
    """``party`` after an ``ndc.amended`` entry: the period with the same years, as ``version``."""
    amended = period_to_amend(party, ndc)
    return _with_periods(
        party,
        [NdcPeriod(ndc, version) if p is amended else p for p in party.ndc_periods],
    )


def _with_periods(party: Party, periods: Iterable[NdcPeriod]) -> Party:
    ordered = sorted(periods, key=lambda p: p.declaration.period_start)
    return replace(party, ndc_periods=tuple(ordered))
