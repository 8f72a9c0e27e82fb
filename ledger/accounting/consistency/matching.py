"""Matching one Party's transfers with the other Party's acquisitions: each First transfer or
Transfer row to another Party with an Acquisition row of that Party, on the Party ITMO registry
ID and overlapping serial ranges. A matched pair must then agree on the cooperative approach,
authorization, first transferring Party, First and Last ID, quantity, vintage, the Parties, and
the action dates within a tolerance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ledger.accounting.aef import (
    ActionRow,
    ActionSubtype,
    ActionType,
    AefReport,
    AefTable,
    table_spec,
)
from ledger.accounting.consistency.results import BlockRange, Finding, FindingKind, RowRef

_TRANSFERS = frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER})
_TO_ADAPTATION_FUND = frozenset(
    {
        ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
        ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
    }
)


def _header(field_name: str) -> str:
    return table_spec(AefTable.ACTIONS).column(field_name).header


def _is_transfer(row: ActionRow) -> bool:
    """A First transfer or Transfer to another Party (not an OIMP first transfer at
    authorization, issuance or cancellation, nor a transfer to the Adaptation Fund, whose
    account another Party may host: the Fund acquires, not that Party)."""
    return (
        row.action_type in _TRANSFERS
        and row.acquiring_party_id is not None
        and row.action_subtype not in _TO_ADAPTATION_FUND
    )


def is_cross(row: ActionRow) -> bool:
    """A row with a side in another Party's report: a transfer to it or an acquisition."""
    return _is_transfer(row) or row.action_type is ActionType.ACQUISITION


def _instant(value: date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return _instant(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _show_tolerance(tolerance: timedelta) -> str:
    days, rest = divmod(tolerance, timedelta(days=1))
    if rest:
        return str(tolerance)
    return f"{days} day" if days == 1 else f"{days} days"


@dataclass(frozen=True, slots=True)
class _Side:
    report: AefReport
    number: int
    row: ActionRow

    @property
    def party(self) -> str:
        return self.report.submission.party

    @property
    def ref(self) -> RowRef:
        return RowRef(self.party, AefTable.ACTIONS, self.number)


_COMPARED = (
    "cooperative_approach_id",
    "authorization_id",
    "first_transferring_party_id",
    "first_id",
    "last_id",
    "quantity",
    "vintage",
)


def _differences(
    sent: _Side, received: _Side, tolerance: timedelta
) -> list[tuple[str, object, object]]:
    """(AEF field, what the transferring side reports, what the acquiring side reports) for
    every field on which a transfer and its acquisition disagree."""
    out: list[tuple[str, object, object]] = [
        (name, getattr(sent.row, name), getattr(received.row, name))
        for name in _COMPARED
        if getattr(sent.row, name) != getattr(received.row, name)
    ]
    gap = abs(_instant(sent.row.action_date) - _instant(received.row.action_date))
    if gap > tolerance:
        out.append(("action_date", sent.row.action_date, received.row.action_date))
    if sent.row.acquiring_party_id != received.party:
        out.append(("acquiring_party_id", sent.row.acquiring_party_id, received.party))
    if received.row.transferring_party_id != sent.party:
        out.append(("transferring_party_id", sent.party, received.row.transferring_party_id))
    return out


def _mismatch(
    sent: _Side, received: _Side, name: str, said: object, heard: object, tolerance: timedelta
) -> Finding:
    header = _header(name)
    if name == "action_date":
        reason = (
            f"{header}: {sent.ref} dates the {sent.row.action_type.value} {_show(said)}, "
            f"{received.ref} dates the Acquisition {_show(heard)}, more than "
            f"{_show_tolerance(tolerance)} apart"
        )
    elif name == "acquiring_party_id":
        reason = (
            f"{header}: {sent.ref} names {said} as the acquiring Party, but the Acquisition "
            f"is {heard}'s ({received.ref})"
        )
    elif name == "transferring_party_id":
        reason = (
            f"{header}: {received.ref} names {heard} as the transferring Party, but the "
            f"{sent.row.action_type.value} is {said}'s ({sent.ref})"
        )
    else:
        reason = (
            f"{header}: {sent.ref} reports {said}, {received.ref} reports {heard} "
            f"for the {sent.row.action_type.value} and Acquisition of "
            f"{BlockRange.of(sent.row)}"
        )
    return Finding(
        kind=FindingKind.MISMATCH,
        column=header,
        reason=reason,
        rows=(sent.ref, received.ref),
        parties=(sent.party, received.party),
        blocks=tuple(dict.fromkeys((BlockRange.of(sent.row), BlockRange.of(received.row)))),
    )


def _missing(side: _Side, other: AefReport, transferred: bool) -> Finding:
    row, year = side.row, other.submission.reported_year
    other_party = other.submission.party
    if transferred:
        reason = (
            f"{side.ref}: a {row.action_type.value} of {row.quantity} ITMOs "
            f"({BlockRange.of(row)}) to {other_party} on {_show(row.action_date)} has no "
            f"matching Acquisition in {other_party}'s AEF for {year}"
        )
    else:
        reason = (
            f"{side.ref}: an Acquisition of {row.quantity} ITMOs ({BlockRange.of(row)}) from "
            f"{other_party} on {_show(row.action_date)} has no matching First transfer or "
            f"Transfer in {other_party}'s AEF for {year}"
        )
    return Finding(
        kind=FindingKind.MISSING_COUNTERPART,
        column="",
        reason=reason,
        rows=(side.ref,),
        parties=(side.party, other_party),
        blocks=(BlockRange.of(row),),
    )


@dataclass
class Matching:
    """What matching found so far: the matched rows (both ways) and the findings."""

    pairs: dict[RowRef, RowRef]
    findings: list[Finding]


def match_transfers(
    sender: AefReport, receiver: AefReport, tolerance: timedelta, out: Matching
) -> None:
    """Match ``sender``'s transfers with ``receiver``'s acquisitions (one direction)."""
    sending, receiving = sender.submission.party, receiver.submission.party
    sent = [
        _Side(sender, n, row) for n, row in enumerate(sender.actions, start=1) if _is_transfer(row)
    ]
    received = [
        _Side(receiver, n, row)
        for n, row in enumerate(receiver.actions, start=1)
        if row.action_type is ActionType.ACQUISITION
    ]

    def relevant_sent(side: _Side) -> bool:
        return side.row.acquiring_party_id == receiving

    def relevant_received(side: _Side) -> bool:
        return side.row.transferring_party_id == sending

    by_registry: dict[str, list[_Side]] = defaultdict(list)
    for r in received:
        by_registry[r.row.registry_id].append(r)
    candidates = []
    for s in sent:
        for r in by_registry[s.row.registry_id]:
            if not (relevant_sent(s) or relevant_received(r)):
                continue
            if not (s.row.first_id <= r.row.last_id and r.row.first_id <= s.row.last_id):
                continue
            differences = _differences(s, r, tolerance)
            gap = abs(_instant(s.row.action_date) - _instant(r.row.action_date))
            candidates.append(((len(differences), gap, s.number, r.number), s, r, differences))
    candidates.sort(key=lambda c: c[0])
    used_sent: set[int] = set()
    used_received: set[int] = set()
    for _, s, r, differences in candidates:
        if s.number in used_sent or r.number in used_received:
            continue
        used_sent.add(s.number)
        used_received.add(r.number)
        out.pairs[s.ref] = r.ref
        out.pairs[r.ref] = s.ref
        out.findings.extend(_mismatch(s, r, *d, tolerance) for d in differences)
    out.findings.extend(
        _missing(s, receiver, transferred=True)
        for s in sent
        if s.number not in used_sent and relevant_sent(s)
    )
    out.findings.extend(
        _missing(r, sender, transferred=False)
        for r in received
        if r.number not in used_received and relevant_received(r)
    )
