"""The open inconsistency flags of a Party: which of its ITMOs are flagged, by which entry and
why (4/CMA.6 paras 39-40). A flag is open from the ``consistency.checked`` or
``consistency.reviewed`` entry that raised it until one resolves it
(:mod:`ledger.accounting.consistency.record`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.accounting.cycle.entries import entry_at
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.audit import FLAG_KINDS
from ledger.registry.model import UnitBlock
from ledger.registry.projection import block_key


@dataclass(frozen=True, slots=True)
class OpenFlag:
    """A flagged block, the entry that raised its flag and the reasons that entry gives for
    these serials."""

    block: UnitBlock
    raised_seq: int
    raised_by: str
    reasons: tuple[str, ...]


def _touches(block: UnitBlock, itmos: Mapping[str, Any]) -> bool:
    a = block.attributes
    key = (
        itmos["cooperative_approach_id"],
        itmos["registry_id"],
        itmos["first_transferring_party_id"],
        itmos["vintage"],
    )
    return bool(
        key == (a.ca_id, a.registry_id, a.first_transferring_party, a.vintage)
        and itmos["first_id"] <= block.last
        and block.first <= itmos["last_id"]
    )


def _reasons(entry: Entry, block: UnitBlock) -> tuple[str, ...]:
    payload: Mapping[str, Any] = entry.payload
    if entry.kind == "consistency.reviewed":
        found: Sequence[Any] = [
            row["reason"]
            for row in payload["rows"]
            if row["reason"] and _touches(block, row["itmos"])
        ]
    else:
        found = [
            finding["reason"]
            for finding in payload["findings"]
            if any(_touches(block, itmos) for itmos in finding["blocks"])
        ]
    return tuple(dict.fromkeys(str(reason) for reason in found))


def open_flags(uow: UnitOfWork, party: str) -> list[OpenFlag]:
    """The flagged blocks held in the Party's registries and not yet used or cancelled (those
    whose use the flag refuses), by block id."""
    services.party_of(uow, party)
    registries = {r.registry_id for r in uow.projection.registries() if r.party == party}
    flagged = [
        block
        for account in uow.projection.accounts()
        if account.registry_id in registries
        for block in uow.projection.held_blocks(account.account_id)
        if block.inconsistent
    ]
    out = []
    for block in sorted(flagged, key=lambda b: b.block_id):
        events = uow.projection.block_history(block_key(block), block.first)
        raised = max(e.seq for e in events if e.kind in FLAG_KINDS)
        entry = entry_at(uow, raised)
        out.append(OpenFlag(block, raised, entry.kind, _reasons(entry, block)))
    return out
