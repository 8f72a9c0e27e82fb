"""The BTR structured summary, Article 6 rows (decision 5/CMA.3, annex II, CTF Table 4), from an
:class:`~ledger.accounting.adjustments.AdjustmentReport` and the para 23(d) authorizations.

Rows that do not apply to the Party's metric or method are marked ``applicable=False`` with the
reason, never filled with made-up numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

from ledger.accounting.adjustments import (
    DEFAULT_POLICY,
    GHG_UNIT,
    AdjustmentPolicy,
    AdjustmentReport,
    Figure,
    FirstTransferFact,
    FirstTransferYear,
    OimpAuthorizationFact,
    YearRow,
    check_oimp_authorizations,
)
from ledger.accounting.btr.breakdowns import booked_year
from ledger.accounting.btr.paragraphs import CTF_ROWS, Paragraph
from ledger.registry.model import CaMethod, Metric, NdcType


@dataclass(frozen=True, slots=True)
class SummaryCell:
    """One implementation-period year of a row. ``value`` is ``None`` where nothing is reported
    for that year (e.g. emissions not yet recorded); ``entities`` is used by the 23(d) row
    only: the entities authorized that year."""

    year: int
    value: Figure | None
    entities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One Article 6 row of CTF Table 4 (decision 5/CMA.3, annex II).

    ``label`` is the row as listed in article6.md §3.7, ``ctf_text`` the wording of the CTF.
    ``cells`` has one entry per NDC-period year (empty if the row is not applicable or carries
    text only). ``target_level``/``target_year``/``progress`` fill the CTF columns of the same
    names where they apply; ``progress`` is the balance minus the target level (or the
    cumulative balance minus the budget), so a positive value means above target.
    ``achieved`` is the "Achievement of NDC" answer of the 23(l) row, ``None`` where it cannot
    be determined. ``note`` says why a row is not applicable, or how its figures were obtained.
    """

    number: int
    paragraph: Paragraph
    label: str
    ctf_text: str
    applicable: bool
    unit: str | None
    cells: tuple[SummaryCell, ...]
    note: str = ""
    target_level: Figure | None = None
    target_year: str | None = None
    progress: Figure | None = None
    achieved: bool | None = None


@dataclass(frozen=True, slots=True)
class StructuredSummary:
    """The 16 Article 6 rows of CTF Table 4 for one Party and NDC period, in CTF order, and the
    policy the figures were computed under (also stated in the MPG 77(d)(iii) row)."""

    party: str
    period_start: int
    period_end: int
    rows: tuple[SummaryRow, ...]
    policy: AdjustmentPolicy = DEFAULT_POLICY

    def row(self, paragraph: Paragraph | str) -> SummaryRow:
        """The row reporting ``paragraph`` (e.g. ``"23(c)"``)."""
        wanted = Paragraph(paragraph)
        return next(row for row in self.rows if row.paragraph is wanted)


@dataclass(frozen=True, slots=True)
class _Target:
    level: Figure | None
    year: str | None
    progress: Figure | None
    achieved: bool | None


_NO_TARGET = _Target(None, None, None, None)


@dataclass(frozen=True, slots=True)
class _Spec:
    """How to fill one row: whether it applies (and why not), its unit and its cells."""

    applicable: bool
    reason: str
    unit: str | None
    cells: tuple[SummaryCell, ...]
    target: _Target = _NO_TARGET
    note: str = ""


def _target(report: AdjustmentReport) -> _Target:
    """Target columns: the budget of a multi-year NDC (para 7(b)) compared with the cumulative
    balance, else the target level compared with the balance of the target year."""
    profile = report.profile
    if profile.ndc_type is NdcType.MULTI_YEAR and profile.budget is not None:
        assessment = report.budget_assessment
        return _Target(
            level=Figure(Fraction(profile.budget)),
            year=profile.period_label,
            progress=None if assessment is None else assessment.difference,
            achieved=None if assessment is None else assessment.met,
        )
    if profile.target_level is None:
        return _Target(None, str(profile.target_year), None, None)
    level = Figure(Fraction(profile.target_level))
    balance = report.row(profile.target_year).emissions_balance
    if balance is None:
        return _Target(level, str(profile.target_year), None, None)
    achieved = balance.value <= level.value if profile.metric is Metric.GHG else None
    return _Target(level, str(profile.target_year), balance - level, achieved)


def _cells(
    report: AdjustmentReport, value: Callable[[YearRow], Figure | None]
) -> tuple[SummaryCell, ...]:
    return tuple(SummaryCell(row.year, value(row)) for row in report.rows)


def _point(row: YearRow) -> Figure | None:
    return None if row.trajectory_point is None else Figure(Fraction(row.trajectory_point))


def _disclosure(report: AdjustmentReport) -> str:
    profile, policy = report.profile, report.policy
    parts = [
        f"CA method: {profile.method.value} ({profile.ndc_type.value} NDC, "
        f"period {profile.period_label}, metric {profile.metric.value}).",
        "First transfers authorized for OIMP only enter the net quantity: "
        f"{'yes' if policy.oimp_first_transfers_in_net else 'no'}.",
        f"23(c) is booked to the {policy.first_transfer_year.value.replace('-', ' ')}.",
        "Figures are exact; displayed values are rounded half to even for display only.",
    ]
    if policy.chosen_by_party:
        parts.append(
            f"Chosen by the Party (ledger entry {policy.party_choice_seq}): "
            f"{', '.join(policy.chosen_by_party)}; the other settings are the deployment's."
        )
    if profile.method is CaMethod.AVERAGING:
        elapsed = (
            "including the reporting year"
            if policy.elapsed_years_inclusive
            else "completed before the reporting year"
        )
        parts.insert(
            1,
            f"Averaging basis: {policy.averaging_basis.value}; elapsed years counted as the years "
            f"{elapsed}; the actual CA of {profile.target_year} averages the whole period.",
        )
    return " ".join(parts)


def _oimp_cells(
    report: AdjustmentReport, facts: tuple[OimpAuthorizationFact, ...]
) -> tuple[SummaryCell, ...]:
    by_year: dict[int, list[OimpAuthorizationFact]] = defaultdict(list)
    for fact in facts:
        by_year[fact.year].append(fact)
    cells = []
    for year in report.profile.years:
        year_facts = by_year[year]
        quantity = Figure(
            Fraction(sum(fact.quantity for fact in year_facts)),
            tuple(fact.seq for fact in year_facts),
        )
        entities = sorted({entity for fact in year_facts for entity in fact.entities})
        cells.append(SummaryCell(year, quantity, tuple(entities)))
    return tuple(cells)


def _first_transfer_cells(
    report: AdjustmentReport, first_transfers: Iterable[FirstTransferFact]
) -> tuple[SummaryCell, ...]:
    """23(c): the report's first-transferred figures (booked to the vintage), or, under
    ``first_transfer_year = year-of-first-transfer``, the facts booked to the year of their
    first transfer (those of the period's vintages, in the period's years)."""
    if report.policy.first_transfer_year is FirstTransferYear.VINTAGE:
        return _cells(report, lambda row: row.first_transferred)
    by_year: dict[int, list[FirstTransferFact]] = defaultdict(list)
    for fact in first_transfers:
        by_year[booked_year(fact, report.policy.first_transfer_year)].append(fact)
    return tuple(
        SummaryCell(
            year,
            Figure(
                Fraction(sum(f.quantity for f in by_year[year])),
                tuple(f.seq for f in by_year[year]),
            ),
        )
        for year in report.profile.years
    )


def build_structured_summary(
    report: AdjustmentReport,
    oimp_authorizations: Iterable[OimpAuthorizationFact] = (),
    first_transfers: Iterable[FirstTransferFact] = (),
) -> StructuredSummary:
    """The Article 6 rows of CTF Table 4 (decision 5/CMA.3, annex II) from ``report`` and the
    para 23(d) authorizations, in the order of article6.md §3.7.

    Raises the errors of :func:`~ledger.accounting.adjustments.check_oimp_authorizations` for 23(d)
    facts
    of another Party, outside the period, or with a repeated ``seq``.
    """
    profile = report.profile
    oimp = check_oimp_authorizations(profile, oimp_authorizations)
    ghg = profile.metric is Metric.GHG
    averaging = profile.method is CaMethod.AVERAGING
    unit = profile.unit
    target = _target(report)
    balance_target = replace(target, achieved=None)
    trajectory_target = _trajectory_target(report)
    specs: dict[Paragraph, _Spec] = {
        Paragraph.P7_A_I: _Spec(
            profile.method is CaMethod.TRAJECTORY,
            "applies to a single-year NDC under the trajectory option (para 7(a)(i))",
            unit,
            _cells(report, _point),
            trajectory_target,
        ),
        Paragraph.P7_B: _Spec(
            profile.ndc_type is NdcType.MULTI_YEAR,
            "applies to a multi-year NDC (para 7(b))",
            unit,
            _cells(report, _point),
            trajectory_target,
        ),
        Paragraph.P23_A: _Spec(
            ghg,
            "the NDC is tracked with a non-GHG indicator: see 23(i)",
            GHG_UNIT,
            _cells(report, lambda row: row.emissions),
        ),
        Paragraph.P23_B: _Spec(
            False,
            "the profile declares no portion of the NDC under para 10; the NDC-covered series "
            "is reported under 23(a) or 23(i)",
            None,
            (),
        ),
        Paragraph.P23_I: _Spec(
            not ghg,
            "the NDC is tracked in t CO2 eq: see 23(a)",
            unit,
            _cells(report, lambda row: row.emissions),
        ),
        Paragraph.P23_C: _Spec(
            True,
            "",
            unit,
            _first_transfer_cells(report, first_transfers),
            note=""
            if report.policy.first_transfer_year is FirstTransferYear.VINTAGE
            else "booked to the year of the first transfer (policy); 23(f) and the CA stay "
            "booked to the vintage (para 8(a))",
        ),
        Paragraph.P23_D: _Spec(True, "", unit, _oimp_cells(report, oimp)),
        Paragraph.P23_E: _Spec(True, "", unit, _cells(report, lambda row: row.used)),
        Paragraph.P23_F: _Spec(
            True,
            "",
            unit,
            _cells(report, lambda row: row.net),
            note=""
            if report.policy.oimp_first_transfers_in_net
            else "first transfers authorized for OIMP only are not counted (policy)",
        ),
        Paragraph.P7_A_II: _Spec(
            averaging,
            "applies to a single-year NDC under the averaging option (para 7(a)(ii))",
            unit,
            _cells(report, lambda row: row.ca),
            note=f"indicative averages before {profile.target_year}; the {profile.target_year} "
            "value is the actual CA, averaged over the whole period",
        ),
        Paragraph.P23_G: _Spec(
            True,
            "",
            unit,
            _cells(report, lambda row: row.ca),
            note=f"indicative before {profile.target_year}, final in {profile.target_year} "
            "(para 7(a)(ii))"
            if averaging
            else "applied annually",
        ),
        Paragraph.P23_H: _Spec(True, "", unit, _cells(report, lambda row: row.cumulative_net)),
        Paragraph.P23_K_I: _Spec(
            ghg,
            "the NDC is tracked with a non-GHG indicator: see 23(k)(ii)",
            GHG_UNIT,
            _cells(report, lambda row: row.emissions_balance),
            balance_target,
        ),
        Paragraph.P23_K_II: _Spec(
            not ghg,
            "the NDC is tracked in t CO2 eq: see 23(k)(i)",
            unit,
            _cells(report, lambda row: row.emissions_balance),
            balance_target,
            note="indicator minus first transferred plus used (para 9)",
        ),
        Paragraph.MPG_77_D_III: _Spec(True, "", None, (), note=_disclosure(report)),
        Paragraph.P23_L: _Spec(
            True,
            "",
            unit,
            _final_cells(report),
            target,
            note=_final_note(report, target),
        ),
    }
    rows = []
    for number, (paragraph, label, ctf_text) in enumerate(CTF_ROWS, start=1):
        spec = specs[paragraph]
        if not spec.applicable:
            rows.append(
                SummaryRow(number, paragraph, label, ctf_text, False, None, (), spec.reason)
            )
            continue
        rows.append(
            SummaryRow(
                number=number,
                paragraph=paragraph,
                label=label,
                ctf_text=ctf_text,
                applicable=True,
                unit=spec.unit,
                cells=spec.cells,
                note=spec.note,
                target_level=spec.target.level,
                target_year=spec.target.year,
                progress=spec.target.progress,
                achieved=spec.target.achieved,
            )
        )
    return StructuredSummary(
        profile.party, profile.period_start, profile.period_end, tuple(rows), report.policy
    )


def _trajectory_target(report: AdjustmentReport) -> _Target:
    """Target columns of the trajectory/budget rows: the budget against the cumulative balance,
    else the trajectory point of the target year against that year's balance."""
    profile = report.profile
    if profile.budget is not None:
        assessment = report.budget_assessment
        return _Target(
            Figure(Fraction(profile.budget)),
            profile.period_label,
            None if assessment is None else assessment.difference,
            None,
        )
    at_target = report.row(profile.target_year)
    if at_target.trajectory_point is None:
        return _NO_TARGET
    return _Target(
        _point(at_target), str(profile.target_year), at_target.trajectory_difference, None
    )


def _final_cells(report: AdjustmentReport) -> tuple[SummaryCell, ...]:
    """The final balance with CAs applied (23(l)): every year of a multi-year NDC, the NDC year
    of a single-year NDC."""
    profile = report.profile
    if profile.ndc_type is NdcType.MULTI_YEAR:
        return _cells(report, lambda row: row.emissions_balance)
    return _cells(
        report, lambda row: row.emissions_balance if row.year == profile.target_year else None
    )


def _final_note(report: AdjustmentReport, target: _Target) -> str:
    profile = report.profile
    missing = report.missing_emissions_years
    if profile.ndc_type is NdcType.SINGLE_YEAR:
        missing = tuple(year for year in missing if year == profile.target_year)
    notes = []
    if missing:
        notes.append(f"emissions not yet recorded for {', '.join(map(str, missing))}")
    if target.level is None:
        notes.append("no target level or budget declared in the profile")
    if profile.metric is Metric.NON_GHG:
        notes.append(
            "achievement is not assessed: whether a higher or lower non-GHG indicator meets the "
            "NDC is for the Party to state"
        )
    notes.append("final once the period's figures are final (para 12)")
    return "; ".join(notes)
