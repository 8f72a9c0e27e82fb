"""Stock-flow reconciliation of a Party's AEF (2/CMA.3 annex para 20(a): annual information on
first transfer, transfer, acquisition, holdings, cancellation and use; 6/CMA.4 annex I paras
37-40, the consistency checks of the annual information):

    Table 4 of the year before (holdings at 31 December Y-1)
    + the year's inflows (Table 3: Acquisition; First transfer that keeps the ITMOs in the
      Party's registry, i.e. with no acquiring Party: first transfer at authorization, issuance,
      use or cancellation)
    - the year's outflows (Table 3: Transfer; Use; Cancellation; Voluntary Cancellation, of
      the serials among those held at 31 December Y-1 or that came in during the year)
    = Table 4 of the year (holdings at 31 December Y)

in ITMOs counted by their serials (whatever the metric), per block of ITMOs of the same
cooperative approach, Party ITMO registry, first transferring Party and vintage (the identifier
elements of 6/CMA.4 annex I para 5). Table 4 reports the one account type the AEF has, the
holding accounts: a Transfer to the Adaptation Fund's account leaves it (and a First transfer to
the Fund never enters it), a Use or a cancellation retires the ITMOs. A First transfer to another
Party does not move Table 4: the units were not ITMOs while the Party held them, and the other
Party reports the Acquisition. An Authorization moves nothing.

The year before is the Party's latest submitted AEF for it, else the ledger's draft for it; a
row of Table 4 that does not reconcile names both years and the flows (rule
``stock-flow-reconciliation``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ledger.accounting import reporting
from ledger.accounting.aef import (
    ActionRow,
    ActionSubtype,
    ActionType,
    AefReport,
    AefTable,
    HoldingRow,
)
from ledger.accounting.consistency import Finding, FindingKind, RowRef
from ledger.errors import InvalidInput
from ledger.ports import UnitOfWork

RULE = "stock-flow-reconciliation"

Key = tuple[str, str, str, int]

_TO_ADAPTATION_FUND = frozenset(
    {
        ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
        ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
    }
)
_OUTFLOWS = frozenset(
    {
        ActionType.TRANSFER,
        ActionType.USE,
        ActionType.CANCELLATION,
        ActionType.VOLUNTARY_CANCELLATION,
    }
)


def _key(row: ActionRow | HoldingRow) -> Key:
    return (
        row.cooperative_approach_id,
        row.registry_id,
        row.first_transferring_party_id,
        row.vintage,
    )


def units(row: ActionRow | HoldingRow) -> int:
    """The ITMOs of a row, by their serials (one unit each, in t CO2 eq or in the non-GHG
    metric alike)."""
    return row.last_id - row.first_id + 1


def flow(row: ActionRow) -> int:
    """What a Table 3 row adds to (positive) or may take from (negative) the Party's Table 4."""
    if row.action_type is ActionType.ACQUISITION:
        return units(row)
    if (
        row.action_type is ActionType.FIRST_TRANSFER
        and row.acquiring_party_id is None
        and row.action_subtype not in _TO_ADAPTATION_FUND
    ):
        return units(row)
    if row.action_type in _OUTFLOWS:
        return -units(row)
    return 0


Ranges = list[tuple[int, int]]


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """``ranges`` of serials, sorted, with overlapping and adjacent ones joined."""
    merged: Ranges = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def serials_within(first: int, last: int, within: Ranges) -> int:
    """How many of the serials ``first``-``last`` lie in ``within`` (merged ranges)."""
    return sum(max(0, min(last, high) - max(first, low) + 1) for low, high in within if low <= last)


def _held(rows: Iterable[HoldingRow]) -> dict[Key, tuple[int, list[int]]]:
    held: dict[Key, tuple[int, list[int]]] = {}
    for number, row in enumerate(rows, start=1):
        total, numbers = held.get(_key(row), (0, []))
        held[_key(row)] = (total + units(row), [*numbers, number])
    return held


def _year_before(uow: UnitOfWork, report: AefReport) -> tuple[AefReport | None, str]:
    party, year = report.submission.party, report.submission.reported_year
    submitted = [s for s in reporting.submissions(uow, party) if s.reported_year == year - 1]
    if submitted:
        version = submitted[-1].version
        return (
            reporting.aef_report_for(uow, party, year - 1, version),
            f"its AEF for {year - 1} (version {version})",
        )
    try:
        return reporting.aef_report_for(uow, party, year - 1), f"the ledger at 31/12/{year - 1}"
    except InvalidInput:  # before the first year an AEF can report
        return None, "nothing"


def _show(key: Key) -> str:
    ca, registry, first_transferring, vintage = key
    return f"{ca} {registry} {first_transferring} vintage {vintage}"


def check_stock_flow(uow: UnitOfWork, report: AefReport) -> tuple[Finding, ...]:
    """Every block key whose holdings at 31 December do not equal the holdings a year before
    plus the year's inflows minus its outflows (see the module)."""
    party, year = report.submission.party, report.submission.reported_year
    before, source = _year_before(uow, report)
    opening = _held(() if before is None else before.holdings)
    closing = _held(report.holdings)
    held_ever: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for holding in before.holdings if before is not None else ():
        held_ever[_key(holding)].append((holding.first_id, holding.last_id))
    for action in report.actions:
        if flow(action) > 0:
            held_ever[_key(action)].append((action.first_id, action.last_id))
    within = {key: merge_ranges(ranges) for key, ranges in held_ever.items()}
    flows: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for number, action in enumerate(report.actions, start=1):
        quantity = flow(action)
        if quantity < 0:  # only ITMOs the Party held leave Table 4
            quantity = -serials_within(
                action.first_id, action.last_id, within.get(_key(action), [])
            )
        if quantity:
            flows[_key(action)].append((number, quantity))
    found = []
    for key in sorted({*opening, *closing, *flows}):
        start, _ = opening.get(key, (0, []))
        end, end_rows = closing.get(key, (0, []))
        moved = flows.get(key, [])
        inflow = sum(q for _, q in moved if q > 0)
        outflow = -sum(q for _, q in moved if q < 0)
        if start + inflow - outflow == end:
            continue
        refs = tuple(RowRef(party, AefTable.HOLDINGS, n) for n in end_rows) or (
            RowRef(party, AefTable.HOLDINGS, 0),
        )
        rows = ", ".join(str(n) for n, _ in moved) or "none"
        found.append(
            Finding(
                kind=FindingKind.GUIDANCE,
                column="Quantity (t CO2 eq)",
                reason=(
                    f"{party} {AefTable.HOLDINGS}: {_show(key)}: {start} held at "
                    f"31/12/{year - 1} ({source}) + {inflow} in - {outflow} out (Table 3 rows "
                    f"{rows}) = {start + inflow - outflow}, but Table 4 of {year} holds {end} "
                    f"(rule {RULE})"
                ),
                rows=(*refs, *(RowRef(party, AefTable.ACTIONS, n) for n, _ in moved)),
                parties=(party,),
                blocks=(),
                rule=RULE,
            )
        )
    return tuple(found)
