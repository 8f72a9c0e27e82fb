"""Transfers of units between Parties, read from the log: who sent how many units of which
cooperative approach and vintage to whom, and when (the action date).

A flow is one international movement recorded on this ledger:

- an ``itmo.first_transfer`` or ``itmo.transfer`` with ``international`` set: from the Party of
  the ``from_account`` to the ``acquiring_party``;
- an ``itmo.acquisition`` of units from another registry: from the ``transferring_party`` to the
  Party of the ``to_account``. The acquisition a hosted receiving registry records right after a
  transfer on this ledger (the next entry, into the same account) is the same movement and is
  not counted twice.

Every flow names the entry (``seq``) it was read from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from ledger.accounting.reporting.entries import (
    acted_blocks,
    check_tree_size,
    entries,
    payload_opt_str,
    payload_str,
)
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork

TRANSFER_KINDS = frozenset({"itmo.first_transfer", "itmo.transfer"})
ACQUISITION = "itmo.acquisition"


@dataclass(frozen=True, slots=True)
class Flow:
    """Units of one cooperative approach and vintage that one entry moved between Parties."""

    seq: int
    action_date: date
    from_party: str
    to_party: str
    ca_id: str
    vintage: int
    quantity: int

    @property
    def year(self) -> int:
        return self.action_date.year


def _action_date(entry: Entry) -> date:
    raw = payload_opt_str(entry, "action_date")
    return entry.timestamp.date() if raw is None else date.fromisoformat(raw)


def _by_approach(entry: Entry, from_party: str, to_party: str, when: date) -> list[Flow]:
    groups: dict[tuple[str, int], int] = {}
    for block in acted_blocks(entry):
        key = (block.attributes.ca_id, block.attributes.vintage)
        groups[key] = groups.get(key, 0) + block.quantity
    return [
        Flow(entry.seq, when, from_party, to_party, ca_id, vintage, quantity)
        for (ca_id, vintage), quantity in sorted(groups.items())
    ]


def international_flows(
    log_entries: Iterable[Entry], party_of_account: Callable[[str], str | None]
) -> list[Flow]:
    """The flows between Parties among ``log_entries`` (in seq order). ``party_of_account``
    names the Party of an account (``None`` if the account is unknown: no flow is read)."""
    flows: list[Flow] = []
    last_transfer: tuple[int, str] | None = None  # (seq, to_account) of the last transfer
    for entry in log_entries:
        if entry.kind in TRANSFER_KINDS and entry.payload.get("international") is True:
            to_party = payload_opt_str(entry, "acquiring_party")
            from_party = party_of_account(payload_str(entry, "from_account"))
            if to_party is None or from_party is None:
                continue
            flows += _by_approach(entry, from_party, to_party, _action_date(entry))
            last_transfer = (entry.seq, payload_str(entry, "to_account"))
        elif entry.kind == ACQUISITION:
            to_account = payload_str(entry, "to_account")
            if last_transfer == (entry.seq - 1, to_account):
                continue
            to_party = party_of_account(to_account)
            if to_party is None:
                continue
            from_party = payload_str(entry, "transferring_party")
            flows += _by_approach(entry, from_party, to_party, _action_date(entry))
    return flows


def flows_for(uow: UnitOfWork, tree_size: int) -> list[Flow]:
    """The flows between Parties among the first ``tree_size`` entries of the log."""
    check_tree_size(uow, tree_size)
    parties = {r.registry_id: r.party for r in uow.projection.registries()}

    def party_of_account(account_id: str) -> str | None:
        account = uow.projection.get_account(account_id)
        return None if account is None else parties.get(account.registry_id)

    return international_flows(entries(uow.log, tree_size), party_of_account)
