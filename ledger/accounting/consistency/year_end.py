"""Transfers and acquisitions split across 31 December: a First transfer or Transfer dated at the
end of year Y whose Acquisition the other Party dates at the start of Y+1 is in two different
AEFs (each row is reported in the year of its own action date, 2/CMA.3 annex para 20). Matching
the two AEFs of one year finds no counterpart for either row; :func:`match_across_year_end`
pairs them across the reports of the two years instead, so that they are matched, not flagged.

A pair split across 31 December is matched when the transfer is dated no earlier than
``tolerance`` before 1 January Y+1, the Acquisition no later than ``tolerance`` after it, and not
before the transfer (calendar days of the action dates); it must then agree on every other field
as a pair within one year does (:mod:`~ledger.accounting.consistency.matching`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ledger.accounting.aef import ActionRow, ActionType, AefReport
from ledger.accounting.consistency.matching import _differences, _is_transfer, _mismatch, _Side
from ledger.accounting.consistency.results import Finding, RowRef

_SPAN = timedelta(days=3660)
"""Dates are checked by the window, not by the tolerance of a pair within one year."""


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class YearEndMatch:
    """Rows matched across 31 December (each with its counterpart) and their mismatches."""

    pairs: dict[RowRef, RowRef]
    findings: tuple[Finding, ...]


def _window(year: int, tolerance: timedelta) -> tuple[date, date]:
    days = max(1, math.ceil(tolerance / timedelta(days=1)))
    boundary = date(year + 1, 1, 1)
    return boundary - timedelta(days=days), boundary + timedelta(days=days)


def match_across_year_end(
    earlier: AefReport, later: AefReport, tolerance: timedelta
) -> YearEndMatch:
    """Pair the transfers of ``earlier`` (one Party's AEF for Y) to the Party of ``later`` (its
    AEF for Y+1) dated at the end of Y with that Party's acquisitions from the first dated at
    the start of Y+1 (see the module)."""
    year = earlier.submission.reported_year
    if later.submission.reported_year != year + 1:
        raise ValueError("the later report is of the year after the earlier one")
    start, end = _window(year, tolerance)
    sending, receiving = earlier.submission.party, later.submission.party
    sent = [
        _Side(earlier, n, row)
        for n, row in enumerate(earlier.actions, start=1)
        if _is_transfer(row)
        and row.acquiring_party_id == receiving
        and _day(row.action_date) >= start
    ]
    received = [
        _Side(later, n, row)
        for n, row in enumerate(later.actions, start=1)
        if row.action_type is ActionType.ACQUISITION
        and row.transferring_party_id == sending
        and _day(row.action_date) <= end
    ]
    pairs: dict[RowRef, RowRef] = {}
    findings: list[Finding] = []
    for s in sent:
        for r in received:
            if r.ref in pairs or s.row.registry_id != r.row.registry_id:
                continue
            if not _overlaps(s.row, r.row) or _day(r.row.action_date) < _day(s.row.action_date):
                continue
            pairs[s.ref] = r.ref
            pairs[r.ref] = s.ref
            findings += [_mismatch(s, r, *d, _SPAN) for d in _differences(s, r, _SPAN)]
            break
    return YearEndMatch(pairs, tuple(findings))


def _overlaps(one: ActionRow, other: ActionRow) -> bool:
    return one.first_id <= other.last_id and other.first_id <= one.last_id
