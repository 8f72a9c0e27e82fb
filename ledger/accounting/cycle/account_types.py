"""Stock-flow reconciliation per account type and vintage, at ledger level (issue 14; 2/CMA.3
annex para 20(a): annual information on first transfer, transfer, acquisition, holdings,
cancellation and use):

    ITMOs held in the Party's accounts of a type, of a vintage, at 31 December Y-1
    + the year's inflows into that account type - its outflows (AEF Table 3 rows of year Y)
    = ITMOs held in those accounts at 31 December Y

The holdings are read from the dated ledger (the projection replayed by action date up to each
31 December, from the same entries the report was built from: its tree size if submitted, the
ledger as it stands for a draft): every first-transferred unit in an account of a registry of
the Party hosted here, counted by its serials (whatever the metric), retired or not. The flows
are the report's Table 3 rows, by their own action dates, mapped to the account types the
registry moves the units between (:func:`moves`):

- ``holding``: in with an Acquisition and a First transfer that keeps the ITMOs in the Party's
  registry (no acquiring Party, not to the Adaptation Fund); out with a Transfer, a Use or a
  cancellation of serials it held (held at 31 December Y-1 or come in during the year; a First
  transfer to another Party does not move it, as in Table 4).
- ``ndc-use``: in with a Use towards the NDC (a row with an NDC use year);
  ``oimp-use``: in with a Use for OIMP (a row with an OIMP purpose).
- ``cancellation``: in with a Cancellation "Other cancellations";
  ``voluntary-cancellation``: in with a cancellation to deliver OMGE (voluntary or mandatory) or
  a Voluntary Cancellation.
- The used and cancelled account types are terminal: nothing leaves them. They receive the
  serials of the row that the holding accounts held as ITMOs (a cancellation of units never
  first transferred moves no ITMO).

The Adaptation Fund's accounts are not checked: what they hold is the Fund's (an Acquisition
into them is not the hosting Party's, and other Parties transfer into them), so the Party's
Table 3 cannot account for them.

A key that does not reconcile gives one finding (rule ``account-type-stock-flow``) naming the
account type, the vintage, the figures, the year-end holdings and the Table 3 rows behind the
flows.
"""

from __future__ import annotations

from collections import defaultdict

from ledger.accounting import reporting
from ledger.accounting.aef import ActionRow, ActionSubtype, ActionType, AefReport, AefTable
from ledger.accounting.consistency import Finding, FindingKind, RowRef
from ledger.accounting.cycle.stock_flow import Ranges, flow, merge_ranges, serials_within
from ledger.accounting.reporting.replay import scan_party
from ledger.ports import UnitOfWork
from ledger.registry.model import AccountType
from ledger.registry.projection import InMemoryProjection

RULE = "account-type-stock-flow"

CHECKED = (
    AccountType.HOLDING,
    AccountType.NDC_USE,
    AccountType.OIMP_USE,
    AccountType.CANCELLATION,
    AccountType.VOLUNTARY_CANCELLATION,
)
"""The account types reconciled, in the order of the findings."""

Key = tuple[AccountType, int]


def _into_terminal(row: ActionRow) -> AccountType | None:
    """The used or cancelled account type a Table 3 row moves its ITMOs into, if any."""
    if row.action_type is ActionType.USE:
        return AccountType.OIMP_USE if row.ndc_use_year is None else AccountType.NDC_USE
    if row.action_type is ActionType.VOLUNTARY_CANCELLATION:
        return AccountType.VOLUNTARY_CANCELLATION
    if row.action_type is ActionType.CANCELLATION:
        if row.action_subtype in (None, ActionSubtype.OTHER_CANCELLATIONS):
            return AccountType.CANCELLATION
        return AccountType.VOLUNTARY_CANCELLATION
    return None


def moves(row: ActionRow) -> tuple[AccountType | None, AccountType | None]:
    """The account types of the Party a Table 3 row takes its ITMOs out of and puts them into
    (``None``: none of the Party's, or not an ITMO holding of it)."""
    sign = flow(row)
    out_of = AccountType.HOLDING if sign < 0 else None
    into = AccountType.HOLDING if sign > 0 else _into_terminal(row)
    return out_of, into


def _units(first: int, last: int) -> int:
    return last - first + 1


def holdings(state: InMemoryProjection, party: str) -> dict[Key, list[tuple[int, int]]]:
    """The serial ranges of ITMOs in each checked account type of the Party's hosted
    registries, by vintage, in ``state``."""
    registries = {r.registry_id for r in state.registries() if r.party == party and r.hosted}
    types = {
        a.account_id: a.account_type
        for a in state.accounts()
        if a.registry_id in registries and a.account_type in CHECKED
    }
    held: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for block in state.active_blocks():
        if block.account_id in types and block.first_transferred:
            key = (types[block.account_id], block.attributes.vintage)
            held[key].append((block.first, block.last))
    return held


def _tree_size(uow: UnitOfWork, report: AefReport) -> int:
    """The tree size ``report`` was built from: its submission's, else the ledger's now."""
    party, year = report.submission.party, report.submission.reported_year
    for submission in reporting.submissions(uow, party):
        if submission.reported_year == year and submission.version == report.submission.version:
            return submission.tree_size
    return uow.log.size()


def check_account_types(uow: UnitOfWork, report: AefReport) -> tuple[Finding, ...]:
    """Every account type and vintage of the Party whose holdings at 31 December of the
    report's year do not equal those a year before plus the year's inflows minus its outflows
    (see the module)."""
    party, year = report.submission.party, report.submission.reported_year
    end = _tree_size(uow, report)
    opening = holdings(scan_party(uow, party, end, year - 1).year_end, party)
    closing = holdings(scan_party(uow, party, end, year).year_end, party)
    held_ever: dict[int, Ranges] = defaultdict(list)
    for (account_type, vintage), ranges in opening.items():
        if account_type is AccountType.HOLDING:
            held_ever[vintage] += ranges
    for row in report.actions:
        if flow(row) > 0:
            held_ever[row.vintage].append((row.first_id, row.last_id))
    within = {vintage: merge_ranges(ranges) for vintage, ranges in held_ever.items()}
    flows: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for number, row in enumerate(report.actions, start=1):
        out_of, into = moves(row)
        if into is AccountType.HOLDING:
            flows[(into, row.vintage)].append((number, _units(row.first_id, row.last_id)))
            continue
        # only ITMOs the holding accounts held leave them, into a used or cancelled type
        taken = serials_within(row.first_id, row.last_id, within.get(row.vintage, []))
        if out_of is not None and taken:
            flows[(out_of, row.vintage)].append((number, -taken))
        if into is not None and taken:
            flows[(into, row.vintage)].append((number, taken))
    order = {account_type: i for i, account_type in enumerate(CHECKED)}
    found = []
    for key in sorted({*opening, *closing, *flows}, key=lambda k: (order[k[0]], k[1])):
        start = sum(_units(*r) for r in opening.get(key, []))
        held = sum(_units(*r) for r in closing.get(key, []))
        moved = flows.get(key, [])
        inflow = sum(q for _, q in moved if q > 0)
        outflow = -sum(q for _, q in moved if q < 0)
        if start + inflow - outflow == held:
            continue
        account_type, vintage = key
        numbers = ", ".join(str(n) for n, _ in moved) or "none"
        found.append(
            Finding(
                kind=FindingKind.GUIDANCE,
                column="Quantity (t CO2 eq)",
                reason=(
                    f"{party} {account_type} accounts, vintage {vintage}: {start} held at "
                    f"31/12/{year - 1} + {inflow} in - {outflow} out (Table 3 rows {numbers}) "
                    f"= {start + inflow - outflow}, but the ledger holds {held} at "
                    f"31/12/{year} (rule {RULE})"
                ),
                rows=tuple(RowRef(party, AefTable.ACTIONS, n) for n, _ in moved)
                or (RowRef(party, AefTable.ACTIONS, 0),),
                parties=(party,),
                blocks=(),
                rule=RULE,
            )
        )
    return tuple(found)
