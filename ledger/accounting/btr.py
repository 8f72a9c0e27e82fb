"""BTR structured summary, Article 6 rows (decision 5/CMA.3, annex II, CTF Table 4) and the
para 23(j) breakdowns (decision 2/CMA.3, annex).

Pure functions from an :class:`~ledger.accounting.adjustments.AdjustmentReport` and ledger facts to
rows.
Rows that do not apply to the Party's metric or method are marked ``applicable=False`` with the
reason, never filled with made-up numbers. Every value is an exact
:class:`~ledger.accounting.adjustments.Figure` that names the ledger ``seq`` numbers behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction

from ledger.accounting.adjustments import (
    GHG_UNIT,
    AdjustmentReport,
    Figure,
    FirstTransferFact,
    OimpAuthorizationFact,
    UseFact,
    YearRow,
    check_oimp_authorizations,
)
from ledger.registry.model import CaMethod, Metric, NdcType

__all__ = [
    "NOT_APPLICABLE",
    "BreakdownDimension",
    "BreakdownRow",
    "Paragraph",
    "StructuredSummary",
    "SummaryCell",
    "SummaryRow",
    "breakdowns_23j",
    "build_structured_summary",
]

NOT_APPLICABLE = "NA"
"""Key of a 23(j) breakdown row where the dimension does not apply (AEF notation)."""


class Paragraph(StrEnum):
    """The paragraph each Article 6 row reports: of the annex to decision 2/CMA.3, except
    ``MPG_77_D_III`` (para 77(d)(iii) of the annex to decision 18/CMA.1)."""

    P7_A_I = "7(a)(i)"
    P7_B = "7(b)"
    P23_A = "23(a)"
    P23_B = "23(b)"
    P23_I = "23(i)"
    P23_C = "23(c)"
    P23_D = "23(d)"
    P23_E = "23(e)"
    P23_F = "23(f)"
    P7_A_II = "7(a)(ii)"
    P23_G = "23(g)"
    P23_H = "23(h)"
    P23_K_I = "23(k)(i)"
    P23_K_II = "23(k)(ii)"
    MPG_77_D_III = "MPG 77(d)(iii)"
    P23_L = "23(l)"


_ROWS: tuple[tuple[Paragraph, str, str], ...] = (
    (
        Paragraph.P7_A_I,
        "Indicative multi-year trajectory/trajectories/budget (7(a)(i)), if applicable",
        "If applicable, an indicative multi-year emissions trajectory, trajectories or budget for "
        "its NDC implementation period (para. 7(a)(i), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P7_B,
        "Multi-year trajectory/trajectories/budget (7(b)), if applicable",
        "If applicable, multi-year emissions trajectory, trajectories or budget for its NDC "
        "implementation period that is consistent with the NDC (para. 7(b), annex to decision "
        "2/CMA.3)",
    ),
    (
        Paragraph.P23_A,
        "Annual NDC-covered emissions and removals (23(a)), or the para 10 categories",
        "Annual anthropogenic emissions by sources and removals by sinks covered by its NDC or, "
        "where applicable, from the emission or sink categories as identified by the host Party "
        "pursuant to paragraph 10 of annex to decision 2/CMA.3 (para. 23(a), annex to decision "
        "2/CMA.3) (as part of para. 77 (d)(i) of the MPGs)",
    ),
    (
        Paragraph.P23_B,
        "The same for the portion of the NDC (23(b))",
        "Annual anthropogenic emissions by sources and removals by sinks covered by its NDC or, "
        "where applicable, from the portion of its NDC in accordance with paragraph 10, annex to "
        "decision 2/CMA.3 (para. 23(b), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_I,
        "Annual level of the relevant non-GHG indicator (23(i))",
        "If applicable, annual level of the relevant non-GHG indicator that is being used by the "
        "Party to track progress towards the implementation and achievement of its NDC and was "
        "selected pursuant to paragraph 65, annex to decision 18/CMA.1 (para. 23(i), annex, "
        "decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_C,
        "Annual quantity of ITMOs first transferred (23(c))",
        "Annual quantity of ITMOs first transferred (para. 23(c), annex to decision 2/CMA.3) "
        "(para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_D,
        "Annual quantity of MOs authorized for OIMP, and the entities authorized (23(d))",
        "Annual quantity of mitigation outcomes authorized for use for other international "
        "mitigation purposes and entities authorized to use such mitigation outcomes, as "
        "appropriate (para. 23(d), annex to decision 2/CMA.3) (para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_E,
        "Annual quantity of ITMOs used towards the NDC (23(e))",
        "Annual quantity of ITMOs used towards achievement of the NDC (para. 23(e), annex to "
        "decision 2/CMA.3) (para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_F,
        "Net annual quantity (23(f))",
        "Net annual quantity of ITMOs resulting from paras. 23(c)-(e), annex to decision 2/CMA.3 "
        "(para. 23(f), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P7_A_II,
        "Cumulative ITMOs ÷ elapsed years (7(a)(ii)), if applicable",
        "If applicable, the cumulative amount of ITMOs, divided by the number of elapsed years in "
        "the NDC implementation period (para. 7(a)(ii), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_G,
        "Total quantitative CAs used to calculate the emissions balance (23(g))",
        "Total quantitative corresponding adjustments used to calculate the emissions balance "
        "referred to in para. 23(k)(i), annex to decision 2/CMA.3, in accordance with the Party's "
        "method for applying corresponding adjustments consistent with section III.B, annex to "
        "decision 2/CMA.3 (Application of corresponding adjustments) (para. 23(g), annex to "
        "decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_H,
        "Cumulative information on 23(f) (23(h))",
        "The cumulative information in respect of the annual information in para. 23(f), annex to "
        "decision 2/CMA.3, as applicable (para. 23(h), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_K_I,
        "Annual emissions balance (23(k)(i))",
        "For metrics in tonnes of CO2 eq. or non-GHG, an annual emissions balance consistent with "
        "chapter III.B (Application of corresponding adjustment), annex, decision 2/CMA.3 (para. "
        "23(k)(i), annex to decision 2/CMA.3) (as part of para. 77 (d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_K_II,
        "Annual adjusted indicator for non-GHG (23(k)(ii))",
        "For metrics in non-GHG, for each non-GHG metric determined by participating Parties, "
        "annual adjustments resulting in an annual adjusted indicator, consistent with para. 9 of "
        "chapter III.B (Corresponding adjustments), annex to decision 2/CMA.3, and future "
        "guidance to be adopted by the CMA (para. 23(k)(ii), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.MPG_77_D_III,
        "Any other Article 6 information (MPG 77(d)(iii))",
        "Any other information consistent with decisions adopted by the CMA on reporting under "
        "Article 6 (para. 77(d)(iii) of the MPGs)",
    ),
    (
        Paragraph.P23_L,
        "The end-of-period assessment, including the final indicator with CAs applied (23(l)), "
        'Comparison, and "Achievement of NDC: yes/no"',
        "Final information for the indicator for the target year/period, including the "
        "application of the necessary corresponding adjustments consistent with chapter III, "
        "annex, decision 2/CMA.3 (Corresponding adjustments) and consistent with future decisions "
        "from the CMA (para. 23(l), annex to decision 2/CMA.3)",
    ),
)


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
    """The 16 Article 6 rows of CTF Table 4 for one Party and NDC period, in CTF order."""

    party: str
    period_start: int
    period_end: int
    rows: tuple[SummaryRow, ...]

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
        "Figures are exact; displayed values are rounded half to even for display only.",
    ]
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


def build_structured_summary(
    report: AdjustmentReport,
    oimp_authorizations: Iterable[OimpAuthorizationFact] = (),
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
        Paragraph.P23_C: _Spec(True, "", unit, _cells(report, lambda row: row.first_transferred)),
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
    for number, (paragraph, label, ctf_text) in enumerate(_ROWS, start=1):
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
    return StructuredSummary(profile.party, profile.period_start, profile.period_end, tuple(rows))


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


# --------------------------------------------------------------------------------------------
# Para 23(j) breakdowns
# --------------------------------------------------------------------------------------------


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

    ``year`` is the year the amount counts in on the summary row: the vintage for 23(c), the
    year of authorization for 23(d), the year of use for 23(e). ``key`` is the value of the
    dimension (a vintage as four digits), or ``"NA"`` where it does not apply: a first transfer
    with no acquiring Party, or the using Party of an OIMP authorization.
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
) -> Iterable[_Amount]:
    dim = BreakdownDimension
    for ft in first_transfers:
        yield _Amount(
            Paragraph.P23_C,
            ft.vintage,
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


def breakdowns_23j(
    first_transfers: Iterable[FirstTransferFact],
    uses: Iterable[UseFact],
    oimp_authorizations: Iterable[OimpAuthorizationFact] = (),
) -> tuple[BreakdownRow, ...]:
    """The 23(c)-(e) amounts per cooperative approach, and within each approach per sector,
    transferring Party, using Party and vintage (decision 2/CMA.3, annex, para 23(j)).

    For each paragraph, year and cooperative approach the rows of every dimension add up to the
    same total, which is the approach's share of that year's summary-row cell. Rows are sorted
    by paragraph, year, approach, dimension and key.
    """
    groups: dict[tuple[Paragraph, int, str, BreakdownDimension, str], list[_Amount]]
    groups = defaultdict(list)
    for amount in _amounts(first_transfers, uses, oimp_authorizations):
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
