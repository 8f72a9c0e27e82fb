"""Why an import stops: a file with rows that cannot be read, or a row the ledger refuses.

Both carry the refused rows with their row (line) and rule, as the API would report each row
had it been posted alone, and the import's progress so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.errors import Conflict, InvalidInput
from ledger.imports.plan import Refusal


def refusal_details(refusal: Refusal) -> dict[str, Any]:
    """A refused row as JSON-ready data (a problem's extension member, a report's item)."""
    return {
        "row": refusal.row,
        "action": refusal.action,
        "rule": refusal.rule,
        "problem_type": refusal.problem_type,
        "title": refusal.title,
        "detail": refusal.detail,
        **({"details": dict(refusal.details)} if refusal.details else {}),
    }


class ImportFileUnreadable(InvalidInput):
    """An import file has rows that cannot be read as actions; nothing of it was imported."""

    problem_type = "import-file-unreadable"
    title = "An import file has rows that cannot be read as actions; nothing of it was imported"
    rule = "import-rows-readable"

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = tuple(refusals)
        shown = "; ".join(f"row {r.row}: {r.detail}" for r in self.refusals[:3])
        more = len(self.refusals) - 3
        super().__init__(
            f"{len(self.refusals)} row(s) cannot be read: {shown}"
            + (f"; and {more} more" if more > 0 else ""),
            refusals=[refusal_details(r) for r in self.refusals],
        )


class ImportRowRefused(Conflict):
    """A row of an import was refused: its batch was rolled back, earlier batches stay."""

    problem_type = "import-row-refused"
    title = "A row of an import was refused: its batch was rolled back, earlier batches stay"
    rule = "import-rows-accepted"

    def __init__(
        self, refusal: Refusal, *, imported_rows: int, rows_total: int, batches: int
    ) -> None:
        self.refusal = refusal
        self.imported_rows = imported_rows
        super().__init__(
            f"row {refusal.row} ({refusal.action}) was refused ({refusal.rule}): "
            f"{refusal.detail}; {imported_rows} of {rows_total} rows are imported",
            refusal=refusal_details(refusal),
            imported_rows=imported_rows,
            rows_total=rows_total,
            batches_committed=batches,
        )
