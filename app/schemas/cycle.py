"""Requests and responses of the reporting cycle: the secretariat's review results and the
inconsistency flags they raise and resolve."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.schemas.base import LongText, RequestModel, ResponseModel
from ledger.accounting.consistency import Notation, RecordedCheck
from ledger.accounting.cycle import OpenFlag, ReviewResult, RowResult
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
