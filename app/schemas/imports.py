"""Request and response models of ``POST /v1/imports``: a file of a registry's history, and the
report of its import (or dry run)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import Field, StrictBool

from app.schemas.base import PartyCode, RequestModel, ResponseModel
from ledger.adapters.import_files import ImportFormat
from ledger.errors import InvalidInput
from ledger.imports import CommittedBatch, ImportReport, Refusal


class ImportCreate(RequestModel):
    """A file to import: JSON Lines of dated actions in the API's request shapes, or a Party's
    AEF (its Table 3 rows are imported). See the README, "Loading history"."""

    format: ImportFormat = Field(
        default=ImportFormat.JSONL,
        description="jsonl; or an AEF: aef-xlsx (workbook), aef-csv-zip (one CSV per table), "
        "aef-json, aef-table3-csv (Table 3 alone; name the party)",
    )
    content: str = Field(
        min_length=1,
        description="The file: its text (jsonl, aef-json, aef-table3-csv), or its bytes in "
        "base64 (aef-xlsx, aef-csv-zip). The ledger names it by the SHA-256 of those bytes.",
    )
    party: PartyCode | None = Field(
        default=None, description="The Party whose AEF it is (required for aef-table3-csv)"
    )
    dry_run: StrictBool = Field(
        default=False,
        description="Report every row that would be refused and append nothing",
    )

    def file_bytes(self) -> bytes:
        """The file's bytes: the text as UTF-8, or the base64 decoded."""
        if not self.format.binary:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(
                f"content of a {self.format.value} file is base64: {exc}", field="content"
            ) from None


class RefusalPublic(ResponseModel):
    """A row refused, as the API would refuse it posted alone."""

    row: int = Field(description="Line of a JSON Lines file, or data row of AEF Table 3 (from 1)")
    action: str
    rule: str
    problem_type: str = Field(description="Slug of the problem type (urn:a6ledger:problem:...)")
    title: str
    detail: str
    details: dict[str, Any] | None = None

    @classmethod
    def of(cls, refusal: Refusal) -> RefusalPublic:
        return cls(
            row=refusal.row,
            action=refusal.action,
            rule=refusal.rule,
            problem_type=refusal.problem_type,
            title=refusal.title,
            detail=refusal.detail,
            details=dict(refusal.details) or None,
        )


class CommittedBatchPublic(ResponseModel):
    first_row: int = Field(description="First row of the batch, in import order (from 1)")
    last_row: int
    seq: int = Field(description="The batch's import.batch ledger entry")

    @classmethod
    def of(cls, batch: CommittedBatch) -> CommittedBatchPublic:
        return cls(first_row=batch.first_row, last_row=batch.last_row, seq=batch.seq)


class ImportReportPublic(ResponseModel):
    file_sha256: str
    format: str
    rows: int = Field(description="Rows of the file that can be read")
    already_imported: int = Field(description="Rows an earlier import of them committed")
    applied: int = Field(description="Rows imported now (a dry run: rows that would be)")
    complete: bool = Field(description="Every row of the file is in the ledger")
    dry_run: bool
    batches: list[CommittedBatchPublic]
    refusals: list[RefusalPublic] = Field(
        description="A dry run: every row that would be refused, and why"
    )
    tree_size: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportPublic:
        return cls(
            file_sha256=report.file_sha256,
            format=report.source,
            rows=report.rows_total,
            already_imported=report.already_imported,
            applied=report.applied,
            complete=report.complete,
            dry_run=report.dry_run,
            batches=[CommittedBatchPublic.of(b) for b in report.batches],
            refusals=[RefusalPublic.of(r) for r in report.refusals],
            tree_size=report.tree_size,
        )
