"""Conversions of non-GHG metrics to t CO2 eq (2/CMA.3 annex paras 9, 22(d); 4/CMA.6 para
5(l)), recorded as ``non_ghg_conversion.recorded`` entries.

A conversion names the cooperative approach, the non-GHG metric (e.g. ``MWh``), the vintages it
covers, the factor in t CO2 eq per unit as an exact decimal, who authorized it and when. It is
reference data (indexed under ``*``, read from the log through the entry index: there is no
projection table): non-GHG ITMOs are used towards a t CO2 eq NDC only under one
(``rules.check_usable_metric``), and the AEF converts their quantity with it.
"""

from __future__ import annotations

from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.codec import from_json, to_json
from ledger.registry.dating import Dating, date_action
from ledger.registry.entry_tags import REFERENCE
from ledger.registry.model import NonGhgConversion
from ledger.registry.services.lookups import approach_of

CONVERSION_RECORDED = "non_ghg_conversion.recorded"


def read_conversion(entry: Entry) -> NonGhgConversion:
    return from_json(NonGhgConversion, entry.payload["conversion"])


def conversions(uow: UnitOfWork) -> list[NonGhgConversion]:
    """Every conversion recorded, in ``seq`` order (the reference entries of the index)."""
    seqs = uow.projection.tagged_seqs((REFERENCE,), uow.log.size())
    found = (Entry.from_canonical(body) for body in uow.log.read_seqs(seqs))
    return [read_conversion(e) for e in found if e.kind == CONVERSION_RECORDED]


def record_conversion(
    uow: UnitOfWork, conversion: NonGhgConversion, actor: str, *, restates: bool = False
) -> AppendedEntry:
    """Record an authorized conversion, dated its ``authorized_on`` (not in the future)."""
    approach = approach_of(uow, conversion.ca_id)
    rules.check_conversion(conversion, conversions(uow))
    when = date_action(uow, Dating(conversion.authorized_on, restates), approach.parties)
    payload: dict[str, JsonValue] = {"conversion": to_json(conversion), **when.payload()}
    return record_entry(uow, CONVERSION_RECORDED, payload, actor)
