"""Requests and responses of the reporting cycle: initial reports, the pre-check and status of
a year's AEF, the secretariat's review results and the inconsistency flags they raise and
resolve."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from app.schemas.base import LongText, RequestModel, ResponseModel
from app.schemas_reports import FindingPublic
from ledger.accounting.consistency import Notation, RecordedCheck
from ledger.accounting.cycle import (
    CycleStatus,
    InitialReport,
    InitialReportDraft,
    OpenFlag,
    PreCheck,
    ReviewResult,
    RowResult,
)
from ledger.registry.model import UnitBlock

Version = Annotated[str, Field(pattern=r"^\d+\.\d+$", examples=["1.0"])]
MAX_ROWS = 100_000


class RowResultCreate(RequestModel):
    """The secretariat's result for one Table 3 row of the submission (AEF Table 3 column
    "Result of the consistency checks")."""

    row: Annotated[int, Field(ge=1, le=MAX_ROWS, strict=True, description="1-based row")]
    notation: Notation = Field(description="A notation of 4/CMA.6 para 29, exactly")
    reason: LongText | None = Field(
        default=None,
        description="The inconsistency found (required for 'Checked, inconsistencies identified')",
    )

    def domain(self) -> RowResult:
        return RowResult(self.row, self.notation, self.reason or "")


class ReviewResultCreate(RequestModel):
    """The result of the secretariat's consistency check of one submitted AEF version, per
    submission (AEF Table 1 "Result of the consistency check of this AEF submission") and per
    action, in the notations of 4/CMA.6 para 29."""

    version: Version
    notation: Notation = Field(description="The result for the submission")
    rows: Annotated[list[RowResultCreate], Field(max_length=MAX_ROWS)]

    def domain(self, party: str, reported_year: int) -> ReviewResult:
        return ReviewResult(
            party,
            reported_year,
            self.version,
            self.notation,
            tuple(row.domain() for row in self.rows),
        )


class FlagChangePublic(ResponseModel):
    """A block whose flag the entry raised or resolved."""

    block_id: int
    itmo_first: str
    itmo_last: str
    quantity: int
    account_id: str

    @classmethod
    def of(cls, b: UnitBlock) -> FlagChangePublic:
        return cls(
            block_id=b.block_id,
            itmo_first=b.itmo_id(b.first),
            itmo_last=b.itmo_id(b.last),
            quantity=b.quantity,
            account_id=b.account_id,
        )


class ReviewResultPublic(ResponseModel):
    seq: int = Field(description="Seq of the consistency.reviewed entry")
    flagged: list[FlagChangePublic]
    resolved: list[FlagChangePublic]

    @classmethod
    def of(cls, recorded: RecordedCheck) -> ReviewResultPublic:
        return cls(
            seq=recorded.seq,
            flagged=[FlagChangePublic.of(b) for b in recorded.flagged],
            resolved=[FlagChangePublic.of(b) for b in recorded.resolved],
        )


class OpenFlagPublic(FlagChangePublic):
    """ITMOs flagged inconsistent, not resolved: their use towards the NDC is refused."""

    raised_seq: int = Field(description="Seq of the entry that raised the flag")
    raised_by: str = Field(description="consistency.checked or consistency.reviewed")
    reasons: list[str]

    @classmethod
    def of_flag(cls, flag: OpenFlag) -> OpenFlagPublic:
        b = flag.block
        return cls(
            **FlagChangePublic.of(b).model_dump(),
            raised_seq=flag.raised_seq,
            raised_by=flag.raised_by,
            reasons=list(flag.reasons),
        )


# --- initial reports -----------------------------------------------------------------------------

CaId = Annotated[str, Field(pattern=r"^CA\d{4}$", examples=["CA0001"])]
ElementKey = Literal[
    "participation",
    "transparency_information",
    "metrics_and_method",
    "ndc_quantification",
    "non_ghg_quantification",
    "policies_and_measures",
    "approach_description",
    "environmental_integrity",
    "sustainable_development",
]
Year = Annotated[int, Field(ge=1990, le=2100, strict=True)]
YearKey = Annotated[str, Field(pattern=r"^(19|20)\d\d$|^2100$")]
Tonnes = Annotated[int, Field(ge=0, le=2**53 - 1, strict=True)]


class InitialReportCreate(RequestModel):
    """An initial report (the first for the Party and approach) or an updated initial report
    (each later one): the elements of 2/CMA.3 annex para 18 by key (``participation``,
    ``metrics_and_method``, ``ndc_quantification``, ``approach_description``,
    ``environmental_integrity`` and ``sustainable_development`` are required), the approach's
    duration and its expected mitigation per year. The NDC, the authorizations and the
    first-transfer definition are taken from the ledger."""

    ca_id: CaId
    elements: Annotated[dict[ElementKey, LongText], Field(max_length=16)]
    duration_from: Year
    duration_to: Year
    expected_mitigation: Annotated[dict[YearKey, Tonnes], Field(max_length=111)] = Field(
        default_factory=dict, description="Year (as a string key) -> expected mitigation"
    )

    def domain(self, party: str) -> InitialReportDraft:
        return InitialReportDraft(
            party=party,
            ca_id=self.ca_id,
            elements={str(key): text for key, text in self.elements.items()},
            duration_from=self.duration_from,
            duration_to=self.duration_to,
            expected_mitigation={int(y): v for y, v in self.expected_mitigation.items()},
        )


class InitialReportSummary(ResponseModel):
    party: str
    ca_id: str
    version: int
    kind: str
    date_of_submission: date
    seq: int

    @classmethod
    def of(cls, report: InitialReport) -> InitialReportSummary:
        return cls(
            party=report.party,
            ca_id=report.ca_id,
            version=report.version,
            kind=report.kind,
            date_of_submission=report.date_of_submission,
            seq=report.seq,
        )


# --- pre-check and status ------------------------------------------------------------------------


class PreCheckCreate(RequestModel):
    """Pre-check the draft AEF of the year. ``counterparts`` are other Parties' AEFs in the AEF
    JSON rendering, one per Party and reported year (a Party this instance hosts is checked
    against its own AEF unless given here; an AEF of the year before or after serves to match
    transfers and acquisitions split across 31 December); ``record`` appends the result as an
    ``aef.pre_checked`` entry."""

    counterparts: Annotated[list[dict[str, Any]], Field(max_length=20)] = Field(
        default_factory=list
    )
    date_tolerance_days: Annotated[int, Field(ge=0, le=366, strict=True)] = 1
    record: StrictBool = False


class PreCheckPublic(ResponseModel):
    party: str
    reported_year: int
    version: str
    tree_size: int
    notation: str
    findings: list[FindingPublic]
    counterparts: list[str] = Field(description="The reports checked against, as PARTY vX.Y")
    submittable: bool
    blockers: list[str] = Field(description="Why the AEF cannot be submitted yet")
    due_date: date
    late: bool = Field(description="A submission today would be after the due date")
    recorded_seq: int | None

    @classmethod
    def of(cls, check: PreCheck, recorded_seq: int | None) -> PreCheckPublic:
        return cls(
            party=check.party,
            reported_year=check.reported_year,
            version=check.version,
            tree_size=check.tree_size,
            notation=check.notation.value,
            findings=[FindingPublic.of(f) for f in check.findings],
            counterparts=[f"{p} v{v}" for p, v in check.counterparts],
            submittable=check.submittable,
            blockers=list(check.blockers),
            due_date=check.due,
            late=check.late,
            recorded_seq=recorded_seq,
        )


class SubmissionStatusPublic(ResponseModel):
    version: str
    seq: int
    date_of_submission: date
    late: bool
    review_notation: str | None
    review_seq: int | None


class PreCheckStatusPublic(ResponseModel):
    seq: int
    version: str
    tree_size: int
    notation: str
    submittable: bool
    findings: int


class CycleStatusPublic(ResponseModel):
    party: str
    reported_year: int
    due_date: date
    overdue: bool = Field(description="Nothing submitted and the due date has passed")
    stage: str = Field(
        description="draft, pre-checked, submitted, inconsistencies identified, correcting, "
        "consistent or not checked"
    )
    submissions: list[SubmissionStatusPublic]
    last_pre_check: PreCheckStatusPublic | None
    open_flags: int

    @classmethod
    def of(cls, status: CycleStatus) -> CycleStatusPublic:
        pre = status.last_pre_check
        return cls(
            party=status.party,
            reported_year=status.reported_year,
            due_date=status.due,
            overdue=status.overdue,
            stage=status.stage,
            submissions=[
                SubmissionStatusPublic(
                    version=s.version,
                    seq=s.seq,
                    date_of_submission=s.date_of_submission,
                    late=s.late,
                    review_notation=None if s.review_notation is None else s.review_notation.value,
                    review_seq=s.review_seq,
                )
                for s in status.submissions
            ],
            last_pre_check=None
            if pre is None
            else PreCheckStatusPublic(
                seq=pre.seq,
                version=pre.version,
                tree_size=pre.tree_size,
                notation=pre.notation.value,
                submittable=pre.submittable,
                findings=pre.findings,
            ),
            open_flags=status.open_flags,
        )
