"""The inputs the registry does not produce, recorded as ledger entries of their own, never as
edits: NDC-covered emissions (``emissions.recorded``), the NDC target, trajectory or budget of an
NDC period (``ndc.target_recorded``), the Party's choice of the accounting settings left to it
(``adjustment_policy.chosen``) and AEF submissions (``aef.submitted``). A restated year is a new
entry; a resubmission is a new version.

This module records emissions, targets and policy choices, and reads every kind back; the
submission use cases are in :mod:`ledger.accounting.reporting.submissions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ledger.accounting.adjustments import (
    GHG_UNIT,
    AveragingBasis,
    EmissionsFact,
    NdcProfile,
    PartyPolicyChoice,
)
from ledger.accounting.reporting.entries import (
    malformed,
    payload_int,
    payload_opt_int,
    payload_opt_str,
    payload_str,
)
from ledger.errors import InvalidInput, NdcNotDeclared
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import ndc as ndc_periods
from ledger.registry import services
from ledger.registry.dating import UNDATED, Dating, date_action
from ledger.registry.model import CaMethod, Metric, NdcDeclaration, Party
from ledger.registry.projection import AEF_SUBMITTED as AEF_SUBMITTED

EMISSIONS_RECORDED = "emissions.recorded"
NDC_TARGET_RECORDED = "ndc.target_recorded"
POLICY_CHOSEN = "adjustment_policy.chosen"


class EmissionsUnitMismatch(InvalidInput):
    """Emissions (or the non-GHG indicator) are recorded in the unit the Party's NDC is tracked
    in: t CO2 eq for a GHG NDC, the declared non-GHG unit otherwise (2/CMA.3 paras 23(a), 23(i))."""

    problem_type = "emissions-unit-mismatch"
    title = "Emissions are recorded in the unit the Party's NDC is tracked in"
    rule = "emissions-unit"


@dataclass(frozen=True, slots=True)
class NdcTarget:
    """An ``ndc.target_recorded`` entry of a Party: the budget and/or trajectory of the CA method
    of one NDC period (2/CMA.3 annex para 7) and the target level of its NDC year (para 18(d)).
    ``period_start`` names the period; entries written before successive periods existed have
    none and belong to the Party's one period at the time."""

    seq: int
    budget: int | None
    trajectory: Mapping[int, int]
    target_level: int | None
    period_start: int | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """An ``aef.submitted`` entry: the AEF of ``reported_year``, version ``version``, built from
    the first ``tree_size`` entries; ``report_sha256`` is the SHA-256 of the RFC 8785 bytes of
    its JSON rendering (:func:`ledger.accounting.aef.to_json`), so anyone can rebuild and compare
    it."""

    seq: int
    party: str
    reported_year: int
    version: str
    tree_size: int
    date_of_submission: date
    report_sha256: str


# --- the NDC profile ----------------------------------------------------------------------------


def declared_periods(party: Party) -> tuple[NdcDeclaration, ...]:
    """The Party's NDC periods; :class:`~ledger.errors.NdcNotDeclared` if it has none."""
    if not party.ndc_periods:
        raise NdcNotDeclared(f"{party.code} has not declared its NDC", party=party.code)
    return party.declarations


def ndc_period(party: Party, period_start: int | None, year: int) -> NdcDeclaration:
    """The NDC period starting in ``period_start`` or, without one, the period ``year`` is
    reported under (:func:`ledger.registry.ndc.period_for_year`): for a Party with one NDC
    period, that period."""
    declared_periods(party)
    if period_start is not None:
        return ndc_periods.period_starting(party, period_start)
    found = ndc_periods.period_for_year(party, year)
    assert found is not None
    return found


def ndc_profile(party: str, ndc: NdcDeclaration, target: NdcTarget | None) -> NdcProfile:
    """The profile of one NDC period: its declaration and its latest recorded target."""
    return NdcProfile(
        party=party,
        ndc_type=ndc.ndc_type,
        metric=ndc.metric,
        period_start=ndc.period_start,
        period_end=ndc.period_end,
        method=ndc.method,
        target_year=ndc.target_year,
        budget=None if target is None else target.budget,
        trajectory={} if target is None else dict(target.trajectory),
        target_level=None if target is None else target.target_level,
        non_ghg_unit=ndc.non_ghg_unit if ndc.metric is Metric.NON_GHG else None,
    )


def applicable_target(ndc: NdcDeclaration, target: NdcTarget | None) -> NdcTarget | None:
    """The part of a period's recorded target that its declaration uses: the averaging method
    takes no budget or trajectory (para 7(a)(ii)), so a target recorded under an earlier version
    of the period keeps only its target level there. (A target recorded under the averaging
    method never has them: :func:`record_ndc_target` refuses them.)"""
    if target is None or ndc.method is not CaMethod.AVERAGING:
        return target
    return replace(target, budget=None, trajectory={})


def unit_of(ndc: NdcDeclaration) -> str:
    """The unit the period's emissions or indicator are recorded in."""
    if ndc.metric is Metric.NON_GHG:
        assert ndc.non_ghg_unit is not None
        return ndc.non_ghg_unit
    return GHG_UNIT


def _check_whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer, got {value!r}", field=name)
    return value


def check_year(name: str, value: object) -> int:
    """``value`` as a four-digit year; :class:`~ledger.errors.InvalidInput` naming ``name``
    otherwise."""
    year = _check_whole(name, value)
    if not 1000 <= year <= 9999:
        raise InvalidInput(f"{name} must be a four-digit year, got {year}", field=name)
    return year


# --- recording ----------------------------------------------------------------------------------


def record_emissions(
    uow: UnitOfWork,
    party: str,
    year: int,
    value: int,
    actor: str,
    *,
    metric_unit: str | None = None,
    dating: Dating = UNDATED,
) -> AppendedEntry:
    """Record the Party's NDC-covered emissions and removals of ``year`` (para 23(a)), or its
    non-GHG indicator level (para 23(i)), in the unit of the NDC period the year is reported
    under, dated ``dating``'s action date. Recording a year again restates it: the later entry
    counts and the earlier one stays as previously reported."""
    declared = services.party_of(uow, party)
    check_year("year", year)
    ndc = ndc_period(declared, None, year)
    _check_whole("value", value)
    if ndc.metric is Metric.NON_GHG and not (ndc.non_ghg_unit or "").strip():
        raise NdcNotDeclared(f"{party}'s non-GHG NDC declares no unit", party=party)
    unit = unit_of(ndc)
    if metric_unit is not None and metric_unit != unit:
        raise EmissionsUnitMismatch(
            f"{party}'s NDC is tracked in {unit!r}, not {metric_unit!r}",
            party=party,
            expected=unit,
            given=metric_unit,
        )
    when = date_action(uow, dating, (party,))
    payload: dict[str, JsonValue] = {
        "party": party,
        "year": year,
        "value": value,
        "metric_unit": unit,
        **when.payload(),
    }
    return record_entry(uow, EMISSIONS_RECORDED, payload, actor)


ADAPTATION_CONTRIBUTION_RECORDED = "adaptation_contribution.recorded"
AMOUNT = re.compile(r"^(0|[1-9]\d{0,17})(\.\d{1,6})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def record_adaptation_contribution(
    uow: UnitOfWork,
    party: str,
    ca_id: str,
    amount: str,
    currency: str,
    actor: str,
    *,
    reference: str | None = None,
    dating: Dating = UNDATED,
) -> AppendedEntry:
    """Record a monetary contribution of the Party to the Adaptation Fund in connection with
    its participation in ``ca_id`` (2/CMA.3 annex paras 37-38, reported under 22(j)): an exact
    decimal ``amount`` in ``currency`` (ISO 4217), dated ``dating``'s action date."""
    services.party_of(uow, party)
    approach = services.approach_of(uow, ca_id)
    if party not in approach.parties:
        raise InvalidInput(f"{party} does not participate in {ca_id}", field="ca_id")
    if not AMOUNT.match(amount) or Decimal(amount) <= 0:
        raise InvalidInput(
            f"amount {amount!r} is not a positive decimal (at most 6 decimals)", field="amount"
        )
    if not CURRENCY.match(currency):
        raise InvalidInput(f"currency {currency!r} is not an ISO 4217 code", field="currency")
    when = date_action(uow, dating, (party,))
    payload: dict[str, JsonValue] = {
        "party": party,
        "ca_id": ca_id,
        "amount": amount,
        "currency": currency,
        "reference": reference,
        **when.payload(),
    }
    return record_entry(uow, ADAPTATION_CONTRIBUTION_RECORDED, payload, actor)


def record_ndc_target(
    uow: UnitOfWork,
    party: str,
    actor: str,
    *,
    budget: int | None = None,
    trajectory: Mapping[int, int] | None = None,
    target_level: int | None = None,
    period_start: int | None = None,
    dating: Dating = UNDATED,
) -> AppendedEntry:
    """Record the budget and/or (indicative) trajectory of the CA method of one NDC period and
    the target level of its NDC year, dated ``dating``'s action date. ``period_start`` names
    the period; it may be left out while the Party has one NDC period. A later entry for the
    period supersedes the whole earlier one. Refused with
    :class:`~ledger.accounting.adjustments.InvalidNdcProfile` (or ``MethodNotAllowedForNdc``) if
    it does not fit the declared NDC, e.g. a budget under the averaging method."""
    declared = services.party_of(uow, party)
    periods = declared_periods(declared)
    if period_start is not None:
        ndc = ndc_periods.period_starting(declared, period_start)
    elif len(periods) == 1:
        ndc = periods[0]
    else:
        raise InvalidInput(
            f"{party} has several NDC periods ("
            f"{', '.join(p.period_label for p in periods)}): name the period of the target",
            field="period_start",
        )
    points = dict(trajectory or {})
    ndc_profile(party, ndc, NdcTarget(-1, budget, points, target_level))
    when = date_action(uow, dating, (party,))
    payload: dict[str, JsonValue] = {
        "party": party,
        "period_start": ndc.period_start,
        "budget": budget,
        "trajectory": [{"year": y, "level": points[y]} for y in sorted(points)],
        "target_level": target_level,
        **when.payload(),
    }
    return record_entry(uow, NDC_TARGET_RECORDED, payload, actor)


def record_policy_choice(
    uow: UnitOfWork,
    party: str,
    actor: str,
    *,
    averaging_basis: AveragingBasis | None = None,
    elapsed_years_inclusive: bool | None = None,
) -> AppendedEntry:
    """Record the Party's choice of the accounting settings the decisions leave to it
    (:data:`~ledger.accounting.adjustments.PARTY_CHOICES`); a setting left out stays the
    deployment's. A later entry supersedes the whole earlier one. The Party's choice wins over
    the deployment's default in every report of the Party."""
    services.party_of(uow, party)
    choice = PartyPolicyChoice(-1, averaging_basis, elapsed_years_inclusive)
    payload: dict[str, JsonValue] = {
        "party": party,
        "averaging_basis": None if choice.averaging_basis is None else choice.averaging_basis.value,
        "elapsed_years_inclusive": choice.elapsed_years_inclusive,
    }
    return record_entry(uow, POLICY_CHOSEN, payload, actor)


# --- reading the entries back -------------------------------------------------------------------


def read_emissions(entry: Entry) -> EmissionsFact:
    """An ``emissions.recorded`` entry as the fact of its year."""
    return EmissionsFact(entry.seq, payload_int(entry, "year"), payload_int(entry, "value"))


def read_target(entry: Entry) -> NdcTarget:
    """An ``ndc.target_recorded`` entry."""
    points = entry.payload.get("trajectory")
    if not isinstance(points, list):
        raise malformed(entry, "trajectory", "a list")
    trajectory: dict[int, int] = {}
    for point in points:
        if not isinstance(point, dict):
            raise malformed(entry, "trajectory", "a list of {year, level} objects")
        year, level = point.get("year"), point.get("level")
        if not isinstance(year, int) or not isinstance(level, int):
            raise malformed(entry, "trajectory", "a list of integer {year, level} objects")
        trajectory[year] = level
    return NdcTarget(
        entry.seq,
        payload_opt_int(entry, "budget"),
        trajectory,
        payload_opt_int(entry, "target_level"),
        payload_opt_int(entry, "period_start"),
    )


def read_policy_choice(entry: Entry) -> PartyPolicyChoice:
    """An ``adjustment_policy.chosen`` entry."""
    basis = payload_opt_str(entry, "averaging_basis")
    inclusive = entry.payload.get("elapsed_years_inclusive")
    if inclusive is not None and not isinstance(inclusive, bool):
        raise malformed(entry, "elapsed_years_inclusive", "a boolean")
    return PartyPolicyChoice(entry.seq, None if basis is None else AveragingBasis(basis), inclusive)


def read_submission(entry: Entry) -> Submission:
    """An ``aef.submitted`` entry."""
    return Submission(
        seq=entry.seq,
        party=payload_str(entry, "party"),
        reported_year=payload_int(entry, "reported_year"),
        version=payload_str(entry, "version"),
        tree_size=payload_int(entry, "tree_size"),
        date_of_submission=date.fromisoformat(payload_str(entry, "date_of_submission")),
        report_sha256=payload_str(entry, "report_sha256"),
    )
