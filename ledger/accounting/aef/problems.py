"""Problems found in an AEF report or file, and the error that lists them all."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple

from ledger.accounting.aef.columns import column_order
from ledger.accounting.aef.nomenclature import AefTable
from ledger.errors import InvalidInput


class AefProblem(NamedTuple):
    """One problem: table, 1-based data row (0 = the table as a whole), column header, message."""

    table: AefTable
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.table}, row {self.row}" if self.row else str(self.table)
        return (
            f"{where}, {self.column!r}: {self.message}"
            if self.column
            else f"{where}: {self.message}"
        )


class AefValidationError(InvalidInput):
    """An AEF report or file breaks the format of 4/CMA.6 annex II or the common nomenclatures.

    ``problems`` lists every problem found, not only the first.
    """

    problem_type = "aef-validation-error"
    title = (
        "An AEF report or file breaks the format of 4/CMA.6 annex II or the common nomenclatures"
    )
    rule = "aef-format"

    def __init__(self, problems: Sequence[AefProblem]) -> None:
        self.problems: tuple[AefProblem, ...] = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:3])
        more = len(self.problems) - 3
        suffix = f"; and {more} more" if more > 0 else ""
        super().__init__(
            f"AEF report has {len(self.problems)} problem(s): {shown}{suffix}",
            problems=[
                {**problem._asdict(), "table": problem.table.value} for problem in self.problems
            ],
        )


class CellError(ValueError):
    """A cell value that cannot be read; the message goes into an :class:`AefProblem`."""


MISSING: Final = "required value is missing"


def sorted_problems(problems: Iterable[AefProblem]) -> list[AefProblem]:
    """Problems without duplicates, by table, row, column order and message."""

    def key(problem: AefProblem) -> tuple[int, int, int, str]:
        order = column_order(problem.table).get(problem.column, 0)
        return (problem.table.number, problem.row, order, problem.message)

    return sorted(set(problems), key=key)
