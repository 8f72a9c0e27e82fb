"""The one way anything is recorded: append an entry to the log and apply it to the holdings
projection, in the caller's unit of work (so both commit together or not at all).

Every ledger append in the service goes through :func:`record_entry`: the registry's use cases,
reports and submissions, API tokens and witness cosignatures alike. Entries of kinds the
projection does not track change nothing there.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.log.canonical import JsonValue
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.registry.projection import apply_entry


def record_entry(
    uow: UnitOfWork, kind: str, payload: Mapping[str, JsonValue], actor: str
) -> AppendedEntry:
    """Append one entry and apply it to the projection in the same unit of work."""
    appended = uow.log.append(kind, payload, actor)
    apply_entry(uow.projection, appended.seq, kind, payload, appended.entry_hash)
    return appended
