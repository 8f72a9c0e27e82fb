"""The submitted AEF against the regular information (2/CMA.3 annex para 23(c)-(f) and the
23(j) breakdowns; the consistency of the annual information with the regular information,
6/CMA.4 annex I).

The BTR structured summary (:mod:`ledger.accounting.btr.summary`) reports, per year of the NDC
period: 23(c) the ITMOs first transferred (booked to the vintage or to the year of the first
transfer, ``AdjustmentPolicy.first_transfer_year``), 23(d) the mitigation outcomes authorized for
OIMP (the AEF's "Authorization" actions under an authorization whose purposes cover OIMP,
booked to the year of the action), 23(e) the ITMOs used towards the NDC
(booked to the year of use, AEF field 25), and 23(f) the net quantity (first transfers booked
to the vintage, para 8(a), those authorized for OIMP only counted as the policy says, minus the
uses); 23(j) breaks 23(c), 23(d) and 23(e) down per cooperative approach and, within it, per vintage
(the dimensions an AEF row carries; the sector, and the transferring Party of a use, are not on
the row and are not compared). The Table 3 actions of an AEF for year Y are those dated in Y,
so they make up the part of those figures that year Y's actions contribute: a 23(c) cell booked
to the vintage also takes first transfers of its vintage made in other years, which other
years' AEFs report.

:func:`check_regular_information` derives that part of each figure twice, by the same rules and
on the same configured axis: from the submitted AEF's Table 3, and from the Table 3 the ledger
gives for Y now (the actions the BTR summary is computed from). A figure that differs (an action
dated in Y recorded after the submission, one that ``restates`` the year, or a snapshot that
differs from the ledger for any other reason) is one finding naming the paragraph, the year it
is booked to, both values and the submitted AEF's rows behind its side (rule
``aef-regular-information``). First transfers of vintages outside the NDC period belong to
another period's summary and are left out, as the summary leaves them out.

23(g) (the total of the corresponding adjustments used for the emissions balance) and 23(h)
(cumulative 23(f)) are sums of 23(f) over the years: a year's part of them differs exactly when
its 23(f) does, which is compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.accounting import reporting
from ledger.accounting.adjustments import DEFAULT_POLICY, AdjustmentPolicy, FirstTransferYear
from ledger.accounting.aef import ActionRow, ActionType, AefReport, AefTable
from ledger.accounting.btr import Paragraph
from ledger.accounting.consistency import Finding, FindingKind, RowRef
from ledger.errors import InvalidInput, RuleViolation
from ledger.ports import UnitOfWork
from ledger.registry.model import Metric

RULE = "aef-regular-information"

_COLUMN = {Metric.GHG: "Quantity (t CO2 eq)", Metric.NON_GHG: "Quantity (in non-GHG metric)"}


@dataclass(frozen=True, slots=True)
class Basis:
    """How the figures are booked: the policy's 23(c) axis and OIMP-in-net choice, the NDC
    period (``None``: no period known, every vintage counts) and the metric of its unit."""

    policy: AdjustmentPolicy = DEFAULT_POLICY
    period: tuple[int, int] | None = None
    metric: Metric = Metric.GHG


@dataclass(slots=True)
class _Figure:
    quantity: int = 0
    rows: list[int] = field(default_factory=list)

    def add(self, quantity: int, row: int) -> None:
        self.quantity += quantity
        if row not in self.rows:
            self.rows.append(row)


Figures = dict[tuple[str, int], _Figure]
"""Figures by what they are (a paragraph, or a 23(j) breakdown row: ``"23(j) 23(c) CA0001"``,
``"23(j) 23(c) CA0001 vintage 2021"``) and the year they are booked to."""


def basis_of(uow: UnitOfWork, party: str) -> Basis:
    """The policy the Party's BTR summary uses (the deployment's with the Party's choices),
    its current NDC period and the metric of that period (defaults if it declared none)."""
    try:
        facts = reporting.party_facts(uow, party)
    except (InvalidInput, RuleViolation):  # no NDC period to report against
        return Basis()
    profile = facts.profile
    return Basis(facts.policy(), (profile.period_start, profile.period_end), profile.metric)


def _quantity(row: ActionRow, basis: Basis) -> int:
    value = row.quantity if basis.metric is Metric.GHG else row.quantity_non_ghg
    return 0 if value is None else value


def _in_period(year: int, basis: Basis) -> bool:
    return basis.period is None or basis.period[0] <= year <= basis.period[1]


def _add(
    found: Figures, paragraph: Paragraph, booked: int, row: ActionRow, quantity: int, number: int
) -> None:
    """Book ``quantity`` to the paragraph's figure and, for 23(c) and 23(e), to its 23(j)
    breakdown per cooperative approach and, within it, per vintage."""
    found[(str(paragraph), booked)].add(quantity, number)
    if paragraph is not Paragraph.P23_F:
        approach = f"23(j) {paragraph} {row.cooperative_approach_id}"
        found[(approach, booked)].add(quantity, number)
        found[(f"{approach} vintage {row.vintage}", booked)].add(quantity, number)


def figures(report: AefReport, basis: Basis) -> Figures:
    """The part of the 23(c), 23(d), 23(e) and 23(f) figures, and of the 23(j) breakdowns of
    23(c), 23(d) and 23(e) per cooperative approach and vintage, that ``report``'s Table 3
    makes up, per figure and the year each is booked to, with the Table 3 rows (1-based) behind
    each."""
    party = report.submission.party
    latest = {a.authorization_id: a.purposes.covers_ndc for a in report.authorizations}
    oimp = {a.authorization_id: a.purposes.covers_oimp for a in report.authorizations}
    found: Figures = defaultdict(_Figure)
    by_first_transfer = basis.policy.first_transfer_year is FirstTransferYear.YEAR_OF_FIRST_TRANSFER
    for number, row in enumerate(report.actions, start=1):
        quantity = _quantity(row, basis)
        if (
            row.action_type is ActionType.FIRST_TRANSFER
            and row.first_transferring_party_id == party
            and _in_period(row.vintage, basis)
        ):
            booked = row.action_date.year if by_first_transfer else row.vintage
            _add(found, Paragraph.P23_C, booked, row, quantity, number)
            ndc = latest.get(row.authorization_id, True)
            if basis.policy.oimp_first_transfers_in_net or ndc:
                _add(found, Paragraph.P23_F, row.vintage, row, quantity, number)
        elif (
            row.action_type is ActionType.AUTHORIZATION
            and oimp.get(row.authorization_id, False)
            and _in_period(row.action_date.year, basis)
        ):
            _add(found, Paragraph.P23_D, row.action_date.year, row, quantity, number)
        elif (
            row.action_type is ActionType.USE
            and row.ndc_use_year is not None
            and row.using_party_id in (None, party)
            and _in_period(row.ndc_use_year, basis)
        ):
            _add(found, Paragraph.P23_E, row.ndc_use_year, row, quantity, number)
            _add(found, Paragraph.P23_F, row.ndc_use_year, row, -quantity, number)
    return dict(found)


def _rows(numbers: Iterable[int]) -> str:
    listed = ", ".join(str(n) for n in numbers)
    return f"Table 3 rows {listed}" if listed else "no Table 3 row"


def compare(submitted: AefReport, ledger: AefReport, basis: Basis = Basis()) -> tuple[Finding, ...]:
    """One finding per 23(c)/(d)/(e)/(f)/(j) figure (and booked year) on which ``submitted`` (a
    submitted AEF version) and ``ledger`` (the AEF of the same Party and year as the ledger
    gives it now) differ (see the module)."""
    party, year = submitted.submission.party, submitted.submission.reported_year
    version = submitted.submission.version
    theirs, ours = figures(submitted, basis), figures(ledger, basis)
    found = []
    for paragraph, booked in sorted({*theirs, *ours}):
        aef = theirs.get((paragraph, booked), _Figure())
        now = ours.get((paragraph, booked), _Figure())
        if aef.quantity == now.quantity:
            continue
        found.append(
            Finding(
                kind=FindingKind.GUIDANCE,
                column=_COLUMN[basis.metric],
                reason=(
                    f"{party} {paragraph}, year {booked}: the submitted AEF for {year} (version "
                    f"{version}) gives {aef.quantity} ({_rows(aef.rows)}), but the regular "
                    f"information from the ledger gives {now.quantity} for the actions of "
                    f"{year} ({_rows(now.rows)} of the ledger's AEF for {year}); 23(c) is "
                    f"booked to the {basis.policy.first_transfer_year.value.replace('-', ' ')} "
                    f"(rule {RULE})"
                ),
                rows=tuple(RowRef(party, AefTable.ACTIONS, n) for n in aef.rows)
                or (RowRef(party, AefTable.ACTIONS, 0),),
                parties=(party,),
                blocks=(),
                rule=RULE,
            )
        )
    return tuple(found)


def check_regular_information(
    uow: UnitOfWork, ledger: AefReport, basis: Basis | None = None
) -> tuple[Finding, ...]:
    """The findings of :func:`compare` for the Party's latest submitted AEF for the year of
    ``ledger`` (its AEF as the ledger gives it now); none if the year has no submitted version."""
    party, year = ledger.submission.party, ledger.submission.reported_year
    submitted = [s for s in reporting.submissions(uow, party) if s.reported_year == year]
    if not submitted:
        return ()
    report = reporting.aef_report_for(uow, party, year, submitted[-1].version)
    return compare(report, ledger, basis_of(uow, party) if basis is None else basis)
