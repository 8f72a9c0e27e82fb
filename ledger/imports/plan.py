"""An import plan: the rows of one file as use-case calls, in the order they are applied.

A row is one action a registry of record took, read from a file (a line of a JSON Lines file, a
row of an AEF Table 3) and turned into a call of the registry's use cases
(:class:`RowAction`). The plan orders the rows as they happened: reference data first (Parties,
registries, cooperative approaches, accounts, NDC declarations: records without an action
date), then the actions by action date, and rows of equal date in file order. A row that could
not be read is kept apart as a :class:`Refusal`: it never runs.

Each row carries the SHA-256 of its content; the digest of the first *n* rows of the plan
(:meth:`ImportPlan.prefix_digest`) identifies what an import committed, so that an import run
again continues after the rows already committed, and never applies them twice
(:mod:`ledger.imports.progress`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ledger.errors import LedgerError
from ledger.ports import UnitOfWork

PREFIX_DOMAIN = b"a6ledger-import-rows-v1\n"
"""Starts the digest of a plan's first rows, so it is never the digest of anything else."""


class RowAction(Protocol):
    """A row's action: the use-case call that records it, as ``actor``, in ``uow``."""

    def __call__(self, uow: UnitOfWork, actor: str) -> object: ...


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row of a file: where it is (``row``: the line of a JSON Lines file, or the data row
    of Table 3, from 1), what it does (``action``), when (``action_date``; ``None`` for an
    action dated on its recording day) and the call that records it.

    ``reference_data`` rows (records that have no action date) are applied before every
    action."""

    row: int
    action: str
    apply: RowAction
    digest: bytes
    action_date: date | None = None
    reference_data: bool = False

    @property
    def order_key(self) -> tuple[int, date]:
        if self.reference_data:
            return (0, date.min)
        # An action without a date is dated on its recording day: after every valid date.
        return (1, self.action_date or date.max)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A row that was or would be refused: its position, its action, and the rule it broke as
    the API would report it (``problem_type``, ``title``, ``detail`` and extension members)."""

    row: int
    action: str
    rule: str
    problem_type: str
    title: str
    detail: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int, action: str, error: LedgerError) -> Refusal:
        return cls(
            row=row,
            action=action,
            rule=error.rule,
            problem_type=error.problem_type,
            title=error.title,
            detail=error.message,
            details={key: json_safe(value) for key, value in error.details.items()},
        )


def json_safe(value: Any) -> Any:
    """An error detail as JSON data: bytes as hex, dates in ISO 8601, other values as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The rows of one file in the order they are applied, and the rows that could not be read.

    ``file_sha256`` is the SHA-256 of the file's bytes (hex), ``source`` its format;
    ``prefixes[n]`` is the digest of the first ``n`` rows (:meth:`prefix_digest`)."""

    file_sha256: str
    source: str
    rows: tuple[ImportRow, ...]
    unreadable: tuple[Refusal, ...]
    prefixes: tuple[str, ...]

    def prefix_digest(self, count: int) -> str:
        """The SHA-256 (hex) of the first ``count`` rows of the plan, in plan order."""
        if not 0 <= count <= len(self.rows):
            raise ValueError(f"the plan has {len(self.rows)} rows, not {count}")
        return self.prefixes[count]


def plan_import(
    file_sha256: str,
    source: str,
    rows: Iterable[ImportRow],
    unreadable: Iterable[Refusal] = (),
) -> ImportPlan:
    """Order ``rows`` (given in file order) for applying: reference data first, then by action
    date; equal keys keep their file order (the sort is stable)."""
    ordered = tuple(sorted(rows, key=lambda row: row.order_key))
    running = hashlib.sha256(PREFIX_DOMAIN)
    prefixes = [running.hexdigest()]
    for row in ordered:
        running.update(row.digest)
        prefixes.append(running.hexdigest())
    return ImportPlan(
        file_sha256,
        source,
        ordered,
        tuple(sorted(unreadable, key=lambda refusal: refusal.row)),
        tuple(prefixes),
    )


def row_digest(content: bytes) -> bytes:
    """The digest of one row's content (its line, or its canonical rendering)."""
    return hashlib.sha256(content).digest()
