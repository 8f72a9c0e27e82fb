"""Consistency checks against the guidance itself (2/CMA.3 annex; 4/CMA.6 paras 28-29), run on
one Party's AEF and its earlier submitted years, beyond matching two Parties' tables:

- ``vintage-from-2021``: every ITMO of Tables 3 and 4 is of vintage 2021 or later (mitigation
  from 2021 onwards, 2/CMA.3 annex para 1(e));
- ``use-within-ndc-period``: a use towards the NDC names a use year and a vintage inside the
  NDC period of Table 1 (2/CMA.3 annex para 8(b) read with 4/CMA.6 annex II Table 1);
- ``first-transfer-after-authorization``: a First transfer is dated on or after the date of
  the authorization it cites (only authorized mitigation outcomes are first transferred,
  2/CMA.3 annex para 1(f) and 2);
- ``within-authorized-quantity``: the ITMOs first transferred under an authorization, in this
  year and the earlier submitted ones, do not exceed its authorized quantity;
- ``within-authorized-parties``: a First transfer or Transfer goes to a Party the
  authorization names, when it names any;
- ``first-transferred-once`` and ``used-once``: no serial is first transferred twice, or used
  or cancelled twice, in this year or across the years the Party submitted.

- ``stock-flow-reconciliation``: Table 4 of the year before plus the year's inflows minus its
  outflows equals Table 4 (:mod:`~ledger.accounting.cycle.stock_flow`).

Each finding uses the official notation (4/CMA.6 para 29: the report is "Checked,
inconsistencies identified"), names the rows (Party, table, row; a row of an earlier year says
which year and version) and its rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.accounting import reporting
from ledger.accounting.aef import ActionRow, ActionType, AefReport, AefTable
from ledger.accounting.consistency import BlockRange, Finding, FindingKind, RowRef
from ledger.accounting.cycle.stock_flow import check_stock_flow
from ledger.ports import UnitOfWork
from ledger.registry.model import MIN_VINTAGE

RETIRING = frozenset({ActionType.USE, ActionType.CANCELLATION, ActionType.VOLUNTARY_CANCELLATION})


@dataclass(frozen=True, slots=True)
class _Row:
    """A Table 3 row of the checked report (``year`` None) or of an earlier submitted one."""

    ref: RowRef
    row: ActionRow
    year: int | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.year is None:
            return str(self.ref)
        return f"{self.ref} of its AEF for {self.year} (version {self.version})"


def _finding(rule: str, column: str, reason: str, rows: Sequence[_Row]) -> Finding:
    party = rows[0].ref.party
    return Finding(
        kind=FindingKind.GUIDANCE,
        column=column,
        reason=f"{reason} (rule {rule})",
        rows=tuple(r.ref for r in rows if r.year is None) or (rows[0].ref,),
        parties=(party,),
        blocks=tuple(dict.fromkeys(BlockRange.of(r.row) for r in rows)),
        rule=rule,
    )


def _vintages(report: AefReport, rows: Sequence[_Row]) -> list[Finding]:
    party = report.submission.party
    found = [
        _finding(
            "vintage-from-2021",
            "Vintage",
            f"{r}: vintage {r.row.vintage} is before {MIN_VINTAGE}",
            [r],
        )
        for r in rows
        if r.row.vintage < MIN_VINTAGE
    ]
    for number, holding in enumerate(report.holdings, start=1):
        if holding.vintage < MIN_VINTAGE:
            ref = RowRef(party, AefTable.HOLDINGS, number)
            found.append(
                Finding(
                    FindingKind.GUIDANCE,
                    "Vintage",
                    f"{ref}: vintage {holding.vintage} is before {MIN_VINTAGE} "
                    "(rule vintage-from-2021)",
                    (ref,),
                    (party,),
                    (),
                    rule="vintage-from-2021",
                )
            )
    return found


def _ndc_period(report: AefReport, rows: Sequence[_Row]) -> list[Finding]:
    first, last = report.submission.ndc_first_year, report.submission.ndc_last_year
    found = []
    for r in rows:
        use_year = r.row.ndc_use_year
        if r.row.action_type is not ActionType.USE or use_year is None:
            continue
        outside = [
            f"{what} {year}"
            for what, year in (("use year", use_year), ("vintage", r.row.vintage))
            if not first <= year <= last
        ]
        if outside:
            found.append(
                _finding(
                    "use-within-ndc-period",
                    "NDC use year",
                    f"{r}: {' and '.join(outside)} outside the NDC period {first}-{last}",
                    [r],
                )
            )
    return found


def _authorizations(
    report: AefReport, rows: Sequence[_Row], earlier: Sequence[_Row]
) -> list[Finding]:
    by_id = defaultdict(list)
    for authorization in report.authorizations:
        by_id[authorization.authorization_id].append(authorization)
    found = []
    first_transferred: dict[str, list[_Row]] = defaultdict(list)
    for r in [*earlier, *rows]:
        if r.row.action_type is ActionType.FIRST_TRANSFER:
            first_transferred[r.row.authorization_id].append(r)
    for r in rows:
        versions = by_id.get(r.row.authorization_id, [])
        if not versions:
            continue
        if r.row.action_type is ActionType.FIRST_TRANSFER:
            authorized_on = min(v.date_of_authorization for v in versions)
            if r.row.action_date < authorized_on:
                found.append(
                    _finding(
                        "first-transfer-after-authorization",
                        "Action date",
                        f"{r}: first transfer on {r.row.action_date.isoformat()}, before "
                        f"authorization {r.row.authorization_id} of {authorized_on.isoformat()}",
                        [r],
                    )
                )
        if r.row.action_type in (ActionType.FIRST_TRANSFER, ActionType.TRANSFER):
            named = set().union(*(set(v.authorized_party_ids) for v in versions))
            acquiring = r.row.acquiring_party_id
            if named and acquiring is not None and acquiring not in named:
                found.append(
                    _finding(
                        "within-authorized-parties",
                        "Acquiring participating Party ID",
                        f"{r}: {acquiring} is not among the Parties authorization "
                        f"{r.row.authorization_id} names ({', '.join(sorted(named))})",
                        [r],
                    )
                )
    for authorization_id, transfers in first_transferred.items():
        quantities = [v.authorized_quantity for v in by_id.get(authorization_id, [])]
        limit = max((q for q in quantities if q is not None), default=None)
        # Units in the authorization's metric (non-GHG rows count them in their metric).
        total = sum(r.row.last_id - r.row.first_id + 1 for r in transfers)
        if limit is not None and total > limit and any(r.year is None for r in transfers):
            found.append(
                _finding(
                    "within-authorized-quantity",
                    "Quantity (t CO2 eq)",
                    f"{total} ITMOs first transferred under authorization {authorization_id} "
                    f"exceed its authorized quantity of {limit} ({', '.join(map(str, transfers))})",
                    transfers,
                )
            )
    return found


def _overlapping_pairs(rows: Sequence[_Row]) -> Iterable[tuple[_Row, _Row]]:
    by_key: dict[tuple[str, str, str, int], list[_Row]] = defaultdict(list)
    for r in rows:
        by_key[BlockRange.of(r.row).key].append(r)
    for group in by_key.values():
        ordered = sorted(group, key=lambda r: (r.row.first_id, r.row.last_id))
        reach: _Row | None = None
        for r in ordered:
            if reach is not None and r.row.first_id <= reach.row.last_id:
                yield reach, r
            if reach is None or r.row.last_id > reach.row.last_id:
                reach = r


def _twice(rows: Sequence[_Row], earlier: Sequence[_Row]) -> list[Finding]:
    found = []
    checks: tuple[tuple[str, str, frozenset[ActionType]], ...] = (
        ("first-transferred-once", "first transferred", frozenset({ActionType.FIRST_TRANSFER})),
        ("used-once", "used or cancelled", RETIRING),
    )
    for rule, what, types in checks:
        chosen = [r for r in [*earlier, *rows] if r.row.action_type in types]
        for one, other in _overlapping_pairs(chosen):
            if one.year is not None and other.year is not None:
                continue  # both in earlier years: found when those years were checked
            low = max(one.row.first_id, other.row.first_id)
            high = min(one.row.last_id, other.row.last_id)
            found.append(
                _finding(
                    rule,
                    "First ID",
                    f"serials {low}-{high} of {BlockRange.of(one.row).key[0]} vintage "
                    f"{one.row.vintage} are {what} twice: {one} and {other}",
                    [one, other],
                )
            )
    return found


def _earlier_rows(uow: UnitOfWork, report: AefReport) -> list[_Row]:
    party, year = report.submission.party, report.submission.reported_year
    latest: dict[int, str] = {}
    for submission in reporting.submissions(uow, party):
        if submission.reported_year < year:
            latest[submission.reported_year] = submission.version
    rows = []
    for earlier_year, version in sorted(latest.items()):
        earlier = reporting.aef_report_for(uow, party, earlier_year, version)
        rows += [
            _Row(RowRef(party, AefTable.ACTIONS, n), row, earlier_year, version)
            for n, row in enumerate(earlier.actions, start=1)
        ]
    return rows


def check_guidance(uow: UnitOfWork, report: AefReport) -> tuple[Finding, ...]:
    """Every finding of the checks against the guidance (see the module) on ``report``, with the
    Party's submitted AEFs of earlier years."""
    party = report.submission.party
    rows = [
        _Row(RowRef(party, AefTable.ACTIONS, n), row)
        for n, row in enumerate(report.actions, start=1)
    ]
    earlier = _earlier_rows(uow, report)
    return (
        *_vintages(report, rows),
        *_ndc_period(report, rows),
        *_authorizations(report, rows, earlier),
        *_twice(rows, earlier),
        *check_stock_flow(uow, report),
    )
