"""Replaying the ledger through the registry rules: every entry is re-checked, not just applied.

``apply_entry`` trusts an entry's payload: it writes the block states the entry recorded. An
entry that should never have been written (appended with valid hashes by someone with database
access, or produced by a defect) would then replay "correctly" into a forged projection, e.g.
used units back in a holding account. :class:`LedgerAudit` checks each entry against the state
replayed so far before applying it:

- what every action must do to blocks: new block ids in sequence from the next free id, pieces
  of the blocks it supersedes that cover each of them exactly (units are neither created nor
  destroyed), serials issued in order, and, for each block it acts on, only the fields that its
  kind of action may change (e.g. a transfer only moves units; only a use or cancellation
  retires them; a retirement or a first transfer is never undone, and an inconsistency flag
  is cleared only by a check or review result that names the block with the reason);
- the Article 6.2 rules the services enforce (``ledger.registry.rules`` and the use cases in
  ``ledger.registry.services``), evaluated on the units' state *before* the entry: the source
  account held them, one-time use, authorization before first transfer, at most one first
  transfer, NDC period and purpose, authorization limits, timeframe and revocation, account
  types;
- reference data: identifiers well-formed and never reused, references to Parties, registries,
  approaches, authorizations and accounts that exist, authorization versions in sequence;
- action dates (``ledger.registry.dating``): never after the recording date, never before the
  vintage year or the last action on the same units, stamped on every block the entry writes,
  the authorization version in force on that date, and a restatement recorded when the date
  falls in a reported year whose AEF a Party concerned had submitted.

What it cannot re-check: who asked (the entry names the actor, not the token's registry, so not
who may date an action), that an action's follow-up entries were all written (e.g. the first
transfer that an OIMP authorization fires), and the OIMP first-transfer deadline, which depends
on a deployment setting (``END_OF_PERIOD_BTR_AFTER``) the log does not record.

:class:`LedgerAudit` is one state machine over the entry kinds, split by family: the replayed
state and the checks every kind shares (``base``), the reference-data entries (``reference``)
and the entries that act on units (``movements``).
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.log.chain import Entry
from ledger.registry.audit.base import (
    BLOCK_KINDS,
    CLOCK_SKEW,
    FLAG_KINDS,
    AuditBase,
    _Acted,
    external_account_id,
)
from ledger.registry.audit.movements import MovementChecks
from ledger.registry.audit.reference import ReferenceChecks
from ledger.registry.services.conversions import CONVERSION_RECORDED
from ledger.registry.services.jcm import JC_DECISION_RECORDED

__all__ = [
    "BLOCK_KINDS",
    "CLOCK_SKEW",
    "FLAG_KINDS",
    "AuditBase",
    "LedgerAudit",
    "external_account_id",
]


class LedgerAudit(ReferenceChecks, MovementChecks):
    """Feed it the log's entries in order; ``state`` is the projection replayed so far."""

    def __init__(self) -> None:
        super().__init__()
        self._handlers: dict[str, Callable[[Entry], None]] = {
            "party.registered": self._party_registered,
            "ndc.declared": self._ndc_declared,
            "ndc.amended": self._ndc_amended,
            "registry.registered": self._registry_registered,
            "cooperative_approach.registered": self._approach_registered,
            "account.opened": self._account_opened,
            "first_transfer_definition.declared": self._definition_declared,
            "authorization.recorded": self._authorization_recorded,
            "authorized_entity.recorded": self._entity_recorded,
            CONVERSION_RECORDED: self._conversion_recorded,
            JC_DECISION_RECORDED: self._decision_recorded,
        }
        self._block_handlers: dict[str, Callable[[Entry, list[_Acted]], None]] = {
            "mo.issued": self._issued,
            "units.authorized": self._units_authorized,
            "itmo.first_transfer": self._first_transfer,
            "itmo.transfer": self._transfer,
            "itmo.acquisition": self._acquisition,
            "itmo.use": self._use,
            "itmo.oimp_use": self._oimp_use,
            "itmo.cancellation": self._cancellation,
            "consistency.checked": self._flagged,
            "consistency.reviewed": self._flagged,
        }
