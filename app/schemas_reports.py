"""Response models of the reports: corresponding adjustments, BTR summary, AEF submissions and
consistency checks. Quantities are exact: ``value`` is an integer or a fraction ``p/q`` in a
string; ``decimal`` is the same value rounded half-to-even to 3 places for display only."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Annotated, Any

from pydantic import Field, StrictBool

from app.schemas import DatedRequest, RequestModel, ResponseModel
from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AdjustmentReport,
    AveragingBasis,
    Figure,
    Restatement,
    YearRow,
    render_decimal,
)
from ledger.accounting.btr import (
    BreakdownRow,
    RegularInformation,
    StructuredSummary,
    SummaryRow,
)
from ledger.accounting.consistency import ConsistencyResult, Finding, RowCheck, SubmissionCheck
from ledger.accounting.reporting import Submission

DISPLAY_PLACES = 3


class FigurePublic(ResponseModel):
    """An exact figure and the ledger entries it was computed from."""

    value: str = Field(
        description="Exact value: an integer, or a fraction p/q", examples=["-22003/3"]
    )
    decimal: str = Field(
        description=f"Display only: rounded half-to-even to {DISPLAY_PLACES} decimal places",
        examples=["-7334.333"],
    )
    entries: list[int] = Field(description="Ledger seqs behind the figure")

    @classmethod
    def of(cls, figure: Figure | None) -> FigurePublic | None:
        if figure is None:
            return None
        value: Fraction = figure.value
        return cls(
            value=str(value),
            decimal=render_decimal(value, DISPLAY_PLACES),
            entries=list(figure.seqs),
        )


class YearRowPublic(ResponseModel):
    year: int
    emissions: FigurePublic | None
    emissions_previously_reported: list[FigurePublic]
    first_transferred: FigurePublic | None = Field(description="23(c), booked by vintage")
    first_transferred_oimp: FigurePublic | None
    used: FigurePublic | None = Field(description="23(e), booked by year of use")
    net: FigurePublic | None = Field(description="23(f) = first transferred - used")
    cumulative_net: FigurePublic | None = Field(description="23(h)")
    average: FigurePublic | None = Field(description="Averaging: cumulative / elapsed years")
    average_first_transferred: FigurePublic | None
    average_used: FigurePublic | None
    corresponding_adjustment: FigurePublic | None = Field(description="23(g)")
    corresponding_adjustment_kind: str
    emissions_balance: FigurePublic | None = Field(description="23(k)")
    trajectory_point: int | None
    trajectory_difference: FigurePublic | None

    @classmethod
    def of(cls, row: YearRow) -> YearRowPublic:
        f = FigurePublic.of
        return cls(
            year=row.year,
            emissions=f(row.emissions),
            emissions_previously_reported=[
                p for p in (f(e) for e in row.emissions_superseded) if p is not None
            ],
            first_transferred=f(row.first_transferred),
            first_transferred_oimp=f(row.first_transferred_oimp),
            used=f(row.used),
            net=f(row.net),
            cumulative_net=f(row.cumulative_net),
            average=f(row.average),
            average_first_transferred=f(row.average_first_transferred),
            average_used=f(row.average_used),
            corresponding_adjustment=f(row.ca),
            corresponding_adjustment_kind=row.ca_kind.value,
            emissions_balance=f(row.emissions_balance),
            trajectory_point=row.trajectory_point,
            trajectory_difference=f(row.trajectory_difference),
        )


class BudgetAssessmentPublic(ResponseModel):
    budget: int
    cumulative_balance: FigurePublic | None
    difference: FigurePublic | None
    met: bool


class PolicyPublic(ResponseModel):
    """The accounting settings a report was computed under: the deployment's, with the Party's
    recorded choice where the decisions leave the choice to it."""

    averaging_basis: str
    elapsed_years_inclusive: bool
    oimp_first_transfers_in_net: bool
    non_ghg_sign: str = Field(
        description="For a non-GHG NDC: first-transfers-subtract (adjusted indicator = "
        "indicator - FT + U) or first-transfers-add (the GHG sign)"
    )
    first_transfer_year: str = Field(
        description="The year 23(c) books a first transfer to: vintage or year-of-first-transfer"
    )
    chosen_by_party: list[str] = Field(
        description="The settings the Party chose; the others are the deployment's"
    )
    party_choice_seq: int | None = Field(
        description="The ledger entry recording the Party's choice, if any"
    )

    @classmethod
    def of(cls, policy: AdjustmentPolicy) -> PolicyPublic:
        return cls(
            averaging_basis=policy.averaging_basis.value,
            elapsed_years_inclusive=policy.elapsed_years_inclusive,
            oimp_first_transfers_in_net=policy.oimp_first_transfers_in_net,
            non_ghg_sign=policy.non_ghg_sign.value,
            first_transfer_year=policy.first_transfer_year.value,
            chosen_by_party=list(policy.chosen_by_party),
            party_choice_seq=policy.party_choice_seq,
        )


class AdjustmentReportPublic(ResponseModel):
    party: str
    ndc_type: str
    metric: str
    method: str
    period_start: int
    period_end: int
    target_year: int
    policy: PolicyPublic
    tree_size: int = Field(description="The report covers ledger entries with seq < tree_size")
    rows: list[YearRowPublic]
    final_corresponding_adjustment: FigurePublic | None
    budget_assessment: BudgetAssessmentPublic | None

    @classmethod
    def of(cls, report: AdjustmentReport, tree_size: int) -> AdjustmentReportPublic:
        p = report.profile
        budget = report.budget_assessment
        return cls(
            party=p.party,
            ndc_type=p.ndc_type.value,
            metric=p.metric.value,
            method=p.method.value,
            period_start=p.period_start,
            period_end=p.period_end,
            target_year=p.target_year,
            policy=PolicyPublic.of(report.policy),
            tree_size=tree_size,
            rows=[YearRowPublic.of(r) for r in report.rows],
            final_corresponding_adjustment=FigurePublic.of(report.final_ca),
            budget_assessment=(
                None
                if budget is None
                else BudgetAssessmentPublic(
                    budget=budget.budget,
                    cumulative_balance=FigurePublic.of(budget.cumulative_balance),
                    difference=FigurePublic.of(budget.difference),
                    met=budget.met,
                )
            ),
        )


class RestatementPublic(ResponseModel):
    year: int
    field: str
    reported_before: FigurePublic | None
    restated: FigurePublic | None

    @classmethod
    def of(cls, restatement: Restatement) -> RestatementPublic:
        return cls(
            year=restatement.year,
            field=restatement.field.value,
            reported_before=FigurePublic.of(restatement.reported_before),
            restated=FigurePublic.of(restatement.restated),
        )


class SummaryCellPublic(ResponseModel):
    year: int
    value: FigurePublic | None
    entities: list[str]


class SummaryRowPublic(ResponseModel):
    number: int
    paragraph: str
    label: str
    ctf_text: str
    applicable: bool
    unit: str | None
    cells: list[SummaryCellPublic]
    note: str
    target_level: FigurePublic | None
    target_year: str | None
    progress: FigurePublic | None
    achieved: bool | None

    @classmethod
    def of(cls, row: SummaryRow) -> SummaryRowPublic:
        return cls(
            number=row.number,
            paragraph=row.paragraph.value,
            label=row.label,
            ctf_text=row.ctf_text,
            applicable=row.applicable,
            unit=row.unit,
            cells=[
                SummaryCellPublic(
                    year=c.year, value=FigurePublic.of(c.value), entities=list(c.entities)
                )
                for c in row.cells
            ],
            note=row.note,
            target_level=FigurePublic.of(row.target_level),
            target_year=row.target_year,
            progress=FigurePublic.of(row.progress),
            achieved=row.achieved,
        )


class BreakdownRowPublic(ResponseModel):
    paragraph: str
    year: int
    cooperative_approach: str
    dimension: str
    key: str
    quantity: FigurePublic | None

    @classmethod
    def of(cls, row: BreakdownRow) -> BreakdownRowPublic:
        return cls(
            paragraph=row.paragraph.value,
            year=row.year,
            cooperative_approach=row.cooperative_approach,
            dimension=row.dimension.value,
            key=row.key,
            quantity=FigurePublic.of(row.quantity),
        )


class StructuredSummaryPublic(ResponseModel):
    party: str
    period_start: int
    period_end: int
    policy: PolicyPublic
    rows: list[SummaryRowPublic]
    breakdowns_23j: list[BreakdownRowPublic]

    @classmethod
    def of(
        cls, summary: StructuredSummary, breakdowns: tuple[BreakdownRow, ...]
    ) -> StructuredSummaryPublic:
        return cls(
            party=summary.party,
            period_start=summary.period_start,
            period_end=summary.period_end,
            policy=PolicyPublic.of(summary.policy),
            rows=[SummaryRowPublic.of(r) for r in summary.rows],
            breakdowns_23j=[BreakdownRowPublic.of(b) for b in breakdowns],
        )


class SubmissionPublic(ResponseModel):
    seq: int
    party: str
    reported_year: int
    version: str
    tree_size: int
    date_of_submission: date
    report_sha256: str

    @classmethod
    def of(cls, submission: Submission) -> SubmissionPublic:
        return cls(
            seq=submission.seq,
            party=submission.party,
            reported_year=submission.reported_year,
            version=submission.version,
            tree_size=submission.tree_size,
            date_of_submission=submission.date_of_submission,
            report_sha256=submission.report_sha256,
        )


class BlockRangePublic(ResponseModel):
    cooperative_approach_id: str
    registry_id: str
    first_transferring_party_id: str
    vintage: int
    first_id: int
    last_id: int


class FindingPublic(ResponseModel):
    kind: str
    column: str
    reason: str
    rows: list[str]
    parties: list[str]
    blocks: list[BlockRangePublic]
    rule: str | None = Field(
        default=None, description="The rule of the guidance a check against it found broken"
    )

    @classmethod
    def of(cls, finding: Finding) -> FindingPublic:
        return cls(
            kind=finding.kind.value,
            column=finding.column,
            reason=finding.reason,
            rule=finding.rule or None,
            rows=[str(r) for r in finding.rows],
            parties=list(finding.parties),
            blocks=[
                BlockRangePublic(
                    cooperative_approach_id=b.cooperative_approach_id,
                    registry_id=b.registry_id,
                    first_transferring_party_id=b.first_transferring_party_id,
                    vintage=b.vintage,
                    first_id=b.first_id,
                    last_id=b.last_id,
                )
                for b in finding.blocks
            ],
        )


class RowCheckPublic(ResponseModel):
    party: str
    table: str
    row: int
    action_type: str
    notation: str
    counterpart: str | None
    findings: list[FindingPublic]

    @classmethod
    def of(cls, check: RowCheck) -> RowCheckPublic:
        return cls(
            party=check.ref.party,
            table=check.ref.table.value,
            row=check.ref.row,
            action_type=check.action_type.value,
            notation=check.notation.value,
            counterpart=None if check.counterpart is None else str(check.counterpart),
            findings=[FindingPublic.of(f) for f in check.findings],
        )


class SubmissionCheckPublic(ResponseModel):
    party: str
    version: str
    reported_year: int
    notation: str
    findings: list[FindingPublic]

    @classmethod
    def of(cls, check: SubmissionCheck) -> SubmissionCheckPublic:
        return cls(
            party=check.party,
            version=check.version,
            reported_year=check.reported_year,
            notation=check.notation.value,
            findings=[FindingPublic.of(f) for f in check.findings],
        )


class ConsistencyCheckPublic(ResponseModel):
    notation: str
    own: SubmissionCheckPublic
    counterpart: SubmissionCheckPublic | None
    rows: list[RowCheckPublic]
    findings: list[FindingPublic]
    recorded_seq: int | None = Field(
        description="Seq of the consistency.checked entry, if recorded"
    )
    flagged_blocks: int

    @classmethod
    def of(
        cls, result: ConsistencyResult, recorded_seq: int | None, flagged: int
    ) -> ConsistencyCheckPublic:
        return cls(
            notation=result.notation.value,
            own=SubmissionCheckPublic.of(result.own),
            counterpart=(
                None if result.counterpart is None else SubmissionCheckPublic.of(result.counterpart)
            ),
            rows=[RowCheckPublic.of(r) for r in result.rows],
            findings=[FindingPublic.of(f) for f in result.findings],
            recorded_seq=recorded_seq,
            flagged_blocks=flagged,
        )


# --- requests ------------------------------------------------------------------------------------


ExactInt = Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1, strict=True)]
Year = Annotated[int, Field(ge=1990, le=2100, strict=True)]


class EmissionsCreate(DatedRequest):
    """NDC-covered emissions and removals of a year (t CO2 eq), or the non-GHG indicator level.
    Restating a year is a new record; the earlier value stays as previously reported."""

    year: Year
    value: ExactInt
    metric_unit: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class EmissionsPublic(ResponseModel):
    party: str
    year: int
    value: int
    seq: int


class NdcTargetCreate(DatedRequest):
    period_start: Year | None = Field(
        default=None,
        description="First year of the NDC period the target is for; may be left out while "
        "the Party has one NDC period",
    )
    budget: ExactInt | None = None
    trajectory: dict[str, ExactInt] | None = Field(
        default=None, description="Indicative trajectory: year (as a string key) -> t CO2 eq"
    )
    target_level: ExactInt | None = None


class NdcTargetPublic(ResponseModel):
    party: str
    seq: int


class AdaptationContributionCreate(DatedRequest):
    """A monetary contribution of the Party to the Adaptation Fund in connection with its
    participation in ``ca_id`` (2/CMA.3 annex paras 37-38), dated ``action_date``."""

    ca_id: Annotated[str, Field(pattern=r"^CA\d{4}$")]
    amount: Annotated[
        str,
        Field(
            pattern=r"^(0|[1-9]\d{0,17})(\.\d{1,6})?$",
            description="Exact decimal amount (a string)",
            examples=["2500.50"],
        ),
    ]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"])]
    reference: Annotated[str, Field(max_length=4000)] | None = None


class AdaptationContributionPublic(ResponseModel):
    party: str
    ca_id: str
    amount: str
    currency: str
    seq: int


class RegularInformationRowPublic(ResponseModel):
    paragraph: str = Field(description="2/CMA.3 annex para 38 (adaptation) or 40 (OMGE)")
    cooperative_approach: str
    year: int
    kind: str
    quantity: FigurePublic | None = Field(description="ITMOs; null for money")
    amount: str | None = Field(description="Exact sum of monetary contributions; else null")
    currency: str | None
    entries: list[int]


class RegularInformationPublic(ResponseModel):
    """Share of proceeds (resources for adaptation) and OMGE for the regular information
    (2/CMA.3 annex paras 38, 40; 22(j)-(k)), per approach, year and kind; empty when the Party
    reports none."""

    party: str
    rows: list[RegularInformationRowPublic]

    @classmethod
    def of(cls, info: RegularInformation) -> RegularInformationPublic:
        return cls(
            party=info.party,
            rows=[
                RegularInformationRowPublic(
                    paragraph=r.paragraph,
                    cooperative_approach=r.cooperative_approach,
                    year=r.year,
                    kind=r.kind.value,
                    quantity=None if r.quantity is None else FigurePublic.of(r.quantity),
                    amount=None if r.amount is None else str(r.amount),
                    currency=r.currency,
                    entries=list(r.seqs),
                )
                for r in info.rows
            ],
        )


class PolicyChoiceCreate(RequestModel):
    """The Party's choice of how it applies the averaging method (2/CMA.3 annex para 7(a)(ii));
    a setting left out stays the deployment's."""

    averaging_basis: AveragingBasis | None = Field(
        default=None, description="Average NET (net) or FT and U separately (separate)"
    )
    elapsed_years_inclusive: StrictBool | None = Field(
        default=None, description="Whether the reporting year counts as an elapsed year"
    )


class PolicyChoicePublic(ResponseModel):
    party: str
    seq: int
    averaging_basis: AveragingBasis | None
    elapsed_years_inclusive: bool | None


class SubmissionCreate(RequestModel):
    reported_year: Year


class ConsistencyCheckCreate(RequestModel):
    """Check a Party's AEF against a counterpart's. ``counterpart`` is the counterpart's report
    in the AEF JSON rendering (as served by ``GET .../aef/{year}?format=json``), or ``null`` when
    it is not available; ``record`` appends the findings to the ledger and flags the blocks."""

    party: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    reported_year: Year
    version: Annotated[str, Field(pattern=r"^\d+\.\d+$")] | None = None
    counterpart: dict[str, Any] | None
    date_tolerance_days: Annotated[int, Field(ge=0, le=366, strict=True)] = 1
    record: bool = False
