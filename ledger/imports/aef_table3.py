"""AEF Table 3 of a Party as import rows: each row mapped to the action it records.

A Table 3 row names its units (cooperative approach, Party ITMO registry, first transferring
Party, vintage and the serials ``First ID .. Last ID``), the action and its date, but not the
accounts, and not the issuance that created the units (Table 3 has no issuance action). So the
units must already be on the ledger (their issuance imported first from a JSON Lines file, with
the reference data and the authorizations), and the accounts are found when the row runs:

- the units are taken from the one account, in a registry of the reporting Party, that holds all
  of them;
- ``Authorization``: the units are bound to the row's authorization; units issued under it
  already are, and the row records nothing more;
- ``First transfer`` to another Party (subtype ``First transfer to another Party`` or none) and
  ``Transfer``: a transfer to the acquiring Party's only holding account (an external registry's
  included); to the Adaptation Fund (its subtypes): to the only Adaptation Fund account;
- ``First transfer`` under an OIMP definition (subtype ``Authorization``, ``Issuance``, ``Use or
  cancellation``): recorded by the row of the action that fires it; the row records nothing;
- ``Acquisition``: recorded by the transfer that delivered the units (import the transferring
  Party's Table 3 first): the row checks that the units are in a registry of the reporting
  Party, first transferred, and records nothing. Units from a registry not hosted here are
  refused: give them as an ``acquisition`` line (Table 3 has no sector or activity type);
- ``Use``: towards the NDC for the row's calendar year of use, into the Party's only NDC-use
  account; for an OIMP purpose, into its only OIMP-use account, by the authorized entity whose
  identification number (or id) the row gives;
- ``Cancellation`` and ``Voluntary Cancellation``: into the Party's only cancellation account (or
  voluntary-cancellation account, for the OMGE subtypes), of the subtype's kind.

Every action runs through the registry's use cases with the row's action date, all rules applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from ledger.accounting import aef
from ledger.errors import Conflict, InvalidInput, SerialsNotHeld
from ledger.imports.plan import ImportRow, row_digest
from ledger.log.canonical import canonical_bytes
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import (
    Account,
    AccountType,
    CancellationKind,
    SerialRange,
    UnitBlock,
    UnitSelection,
)


class AefRowNotImportable(InvalidInput):
    """This AEF Table 3 row cannot be imported: the ledger needs facts the table does not hold."""

    problem_type = "aef-row-not-importable"
    title = "This AEF Table 3 row cannot be imported: the ledger needs facts the table lacks"
    rule = "aef-table3-importable"


class AefRowAccountUnresolved(InvalidInput):
    """The account of an AEF Table 3 row is not the only one of its type for that Party."""

    problem_type = "aef-row-account-unresolved"
    title = "The account of an AEF Table 3 row is not the only one of its type for that Party"
    rule = "aef-table3-account"


class AcquisitionNotRecorded(Conflict):
    """An acquisition in AEF Table 3 is not on the ledger: the transfer that delivers it is
    recorded first (the transferring Party's Table 3)."""

    problem_type = "acquisition-not-recorded"
    title = "An acquisition in AEF Table 3 is not on the ledger: import its transfer first"
    rule = "acquisition-recorded-by-transfer"


FIRST_TRANSFER_BY_EVENT: Final = frozenset(
    {
        aef.ActionSubtype.AUTHORIZATION,
        aef.ActionSubtype.ISSUANCE,
        aef.ActionSubtype.USE_OR_CANCELLATION,
    }
)
TO_ADAPTATION_FUND: Final = frozenset(
    {
        aef.ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
        aef.ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
    }
)
CANCELLATION_KINDS: Final = {
    aef.ActionSubtype.OTHER_CANCELLATIONS: CancellationKind.OTHER,
    aef.ActionSubtype.VOLUNTARY_CANCELLATION_OMGE: CancellationKind.VOLUNTARY_OMGE,
    aef.ActionSubtype.MANDATORY_CANCELLATION_OMGE: CancellationKind.MANDATORY_OMGE,
}


def row_date(row: aef.ActionRow) -> date:
    """The row's action date (a date-time is read as its UTC date)."""
    value = row.action_date
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value


def table3_rows(
    party: str, actions: Iterable[aef.ActionRow], *, end_of_period_btr_after: int
) -> list[ImportRow]:
    """The rows of ``party``'s Table 3 as import rows, numbered from 1 in table order."""
    found: list[ImportRow] = []
    for number, row in enumerate(actions, start=1):
        (record,) = aef.render_records(aef.AefTable.ACTIONS, [row])
        action = Table3Action(party, row, Dating(row_date(row), False, end_of_period_btr_after))
        found.append(
            ImportRow(
                row=number,
                action=f"Table 3 {row.action_type.value}",
                apply=action,
                digest=row_digest(canonical_bytes(record)),
                action_date=row_date(row),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Table3Action:
    """The action one Table 3 row of ``party`` records (see the module docstring)."""

    party: str
    row: aef.ActionRow
    dating: Dating

    def __call__(self, uow: UnitOfWork, actor: str) -> object:
        return self.handler()(uow, actor)

    def handler(self) -> Callable[[UnitOfWork, str], object]:
        subtype = self.row.action_subtype
        match self.row.action_type:
            case aef.ActionType.AUTHORIZATION:
                return self._authorize
            case aef.ActionType.FIRST_TRANSFER if subtype in FIRST_TRANSFER_BY_EVENT:
                return _nothing
            case aef.ActionType.FIRST_TRANSFER | aef.ActionType.TRANSFER:
                return self._transfer
            case aef.ActionType.ACQUISITION:
                return self._check_acquired
            case aef.ActionType.USE:
                return self._use
            case aef.ActionType.CANCELLATION | aef.ActionType.VOLUNTARY_CANCELLATION:
                return self._cancel
        raise AefRowNotImportable(f"action type {self.row.action_type!r} is not importable")

    # --- the units and the accounts

    def selection(self) -> UnitSelection:
        r = self.row
        return UnitSelection(
            ranges=(SerialRange(r.first_id, r.last_id),),
            ca_id=r.cooperative_approach_id,
            originating_registry=r.registry_id,
            first_transferring_party=r.first_transferring_party_id,
            vintage=r.vintage,
        )

    def blocks(self, uow: UnitOfWork) -> list[UnitBlock]:
        """The blocks holding the row's serials now (all of them, else refused)."""
        r = self.row
        key = (r.cooperative_approach_id, r.registry_id, r.first_transferring_party_id, r.vintage)
        found = uow.projection.overlapping_blocks(key, r.first_id, r.last_id)
        covered = sum(min(b.last, r.last_id) - max(b.first, r.first_id) + 1 for b in found)
        if covered != r.last_id - r.first_id + 1:
            raise SerialsNotHeld(
                f"serials {r.first_id}-{r.last_id} of {r.registry_id} ({r.cooperative_approach_id}"
                f", vintage {r.vintage}) are not all on this ledger: import their issuance first",
                first=r.first_id,
                last=r.last_id,
            )
        return found

    def source_account(self, uow: UnitOfWork, blocks: Sequence[UnitBlock]) -> str:
        """The one account of the reporting Party that holds all of the row's units."""
        accounts = sorted({b.account_id for b in blocks})
        held_by = [services.account_of(uow, a) for a in accounts]
        parties = {services.registry_of(uow, a.registry_id).party for a in held_by}
        if len(accounts) != 1 or parties != {self.party}:
            raise SerialsNotHeld(
                f"serials {self.row.first_id}-{self.row.last_id} are held in "
                f"{', '.join(accounts)}, not in one account of {self.party}",
                first=self.row.first_id,
                last=self.row.last_id,
                accounts=accounts,
            )
        return accounts[0]

    # --- the actions

    def _authorize(self, uow: UnitOfWork, actor: str) -> object:
        blocks = self.blocks(uow)
        if all(b.authorization_id == self.row.authorization_id for b in blocks):
            return None  # issued under the authorization: recorded with the issuance
        source = self.source_account(uow, blocks)
        return services.authorize_units(
            uow, self.row.authorization_id, source, self.selection(), actor, dating=self.dating
        )

    def _transfer(self, uow: UnitOfWork, actor: str) -> object:
        source = self.source_account(uow, self.blocks(uow))
        if self.row.action_subtype in TO_ADAPTATION_FUND:
            destination = only_account(uow, None, AccountType.ADAPTATION_FUND)
        elif self.row.acquiring_party_id is None:
            raise AefRowNotImportable(
                f"row of {self.row.action_type.value} names no acquiring Party",
                column="Acquiring participating Party ID",
            )
        else:
            destination = only_account(uow, self.row.acquiring_party_id, AccountType.HOLDING)
        order = services.TransferOrder(source, destination, self.selection())
        return services.transfer(uow, order, actor, dating=self.dating)

    def _check_acquired(self, uow: UnitOfWork, actor: str) -> object:
        del actor
        r = self.row
        try:
            blocks = self.blocks(uow)
        except SerialsNotHeld:
            blocks = []
        accounts = {services.account_of(uow, b.account_id) for b in blocks}
        parties = {services.registry_of(uow, a.registry_id).party for a in accounts}
        if blocks and parties == {self.party} and all(b.first_transferred for b in blocks):
            return None  # recorded by the transfer that delivered the units
        transferring = r.transferring_party_id or ""
        registries = [x for x in uow.projection.registries() if x.party == transferring]
        if registries and not any(x.hosted for x in registries):
            raise AefRowNotImportable(
                f"serials {r.first_id}-{r.last_id} arrive from {transferring}, whose registry is "
                "not hosted here: give the acquisition as an `acquisition` line of a JSON Lines "
                "file (Table 3 has no sector or activity type)",
                transferring_party=transferring,
            )
        raise AcquisitionNotRecorded(
            f"serials {r.first_id}-{r.last_id} acquired from {transferring or 'another Party'} "
            f"are not in a registry of {self.party}: import {transferring or 'its'} Table 3 "
            "(the transfer) first",
            first=r.first_id,
            last=r.last_id,
            transferring_party=transferring,
        )

    def _use(self, uow: UnitOfWork, actor: str) -> object:
        source = self.source_account(uow, self.blocks(uow))
        r = self.row
        if r.ndc_use_year is not None:
            destination = only_account(uow, self.party, AccountType.NDC_USE)
            order = services.UseOrder(
                source, destination, self.selection(), use_year=r.ndc_use_year
            )
            return services.use_for_ndc(uow, order, actor, dating=self.dating)
        if r.oimp_purpose is None:
            raise AefRowNotImportable(
                "a Use row gives either the calendar year of NDC use or an OIMP purpose",
                column="Purpose for which the ITMO has been used towards or cancelled for OIMP",
            )
        destination = only_account(uow, self.party, AccountType.OIMP_USE)
        order = services.UseOrder(
            source,
            destination,
            self.selection(),
            oimp_purpose=r.oimp_purpose,
            entity_id=entity_named(uow, r.using_entity_id),
        )
        return services.use_for_oimp(uow, order, actor, dating=self.dating)

    def _cancel(self, uow: UnitOfWork, actor: str) -> object:
        source = self.source_account(uow, self.blocks(uow))
        subtype = self.row.action_subtype
        kind = CANCELLATION_KINDS.get(subtype) if subtype is not None else None
        if kind is None:
            kind = (
                CancellationKind.VOLUNTARY_OMGE
                if self.row.action_type is aef.ActionType.VOLUNTARY_CANCELLATION
                else CancellationKind.OTHER
            )
        wanted = (
            AccountType.CANCELLATION
            if kind is CancellationKind.OTHER
            else AccountType.VOLUNTARY_CANCELLATION
        )
        destination = only_account(uow, self.party, wanted)
        order = services.CancellationOrder(source, destination, self.selection(), kind)
        return services.cancel(uow, order, actor, dating=self.dating)


def _nothing(uow: UnitOfWork, actor: str) -> object:
    """A first transfer under an OIMP definition: the action that fires it records it."""
    del uow, actor
    return None


def only_account(uow: UnitOfWork, party: str | None, account_type: AccountType) -> str:
    """The one account of ``account_type`` in the registries of ``party`` (any Party's, if
    ``None``); refused if there is none or more than one."""
    registries = {
        r.registry_id for r in uow.projection.registries() if party is None or r.party == party
    }
    found: list[Account] = [
        a
        for a in uow.projection.accounts()
        if a.registry_id in registries and a.account_type is account_type
    ]
    if len(found) != 1:
        whose = f"{party}'s registries" if party is not None else "this ledger"
        raise AefRowAccountUnresolved(
            f"{len(found)} {account_type.value} account(s) in {whose} "
            f"({', '.join(a.account_id for a in found) or 'none'}): an AEF Table 3 row is "
            "imported into the only one; give this action as a line of a JSON Lines file",
            party=party,
            account_type=account_type.value,
            accounts=[a.account_id for a in found],
        )
    return found[0].account_id


def entity_named(uow: UnitOfWork, identification: str | None) -> str | None:
    """The id of the authorized entity a Table 3 row names by identification number (or id)."""
    if identification is None:
        return None
    for entity in uow.projection.entities():
        if identification in (entity.identification, entity.entity_id):
            return entity.entity_id
    raise AefRowNotImportable(
        f"no authorized entity has the identification number {identification!r}",
        column="Using/cancelling authorized entity ID",
        identification=identification,
    )
