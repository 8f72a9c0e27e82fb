"""The state :class:`~ledger.registry.audit.LedgerAudit` replays and the checks every entry
kind shares: block shapes, action dates, restatements, lookups of the replayed reference data."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from ledger.errors import (
    AccountNotFound,
    AccountTypeMismatch,
    ActionDateInFuture,
    AuthorizationNotFound,
    CooperativeApproachNotFound,
    EntryBreaksRule,
    InvalidInput,
    LedgerError,
    PartyNotFound,
    RegistryDoesNotOwnUnits,
    RegistryNotFound,
    SerialsNotHeld,
    SubmittedYearNotRestated,
)
from ledger.log.chain import Entry
from ledger.registry import rules
from ledger.registry.codec import from_json
from ledger.registry.dating import ACTION_DATE, RESTATES, action_date
from ledger.registry.model import (
    Account,
    AccountType,
    Authorization,
    CooperativeApproach,
    NonGhgConversion,
    Party,
    Registry,
    UnitBlock,
)
from ledger.registry.projection import InMemoryProjection, apply_entry, block_key
from ledger.registry.services.jcm import (
    JcDecision,
)

#: Entry kinds whose payload carries block states (``blocks``, ``acted``, ``superseded``).
BLOCK_KINDS = frozenset(
    {
        "mo.issued",
        "units.authorized",
        "itmo.first_transfer",
        "itmo.transfer",
        "itmo.acquisition",
        "itmo.use",
        "itmo.oimp_use",
        "itmo.cancellation",
        "consistency.checked",
        "consistency.reviewed",
    }
)
#: Entry kinds that raise and resolve inconsistency flags: no action on the units.
FLAG_KINDS = frozenset({"consistency.checked", "consistency.reviewed"})
#: A check and its timestamp may straddle midnight: dated rules accept this much clock skew.
CLOCK_SKEW = timedelta(minutes=5)
_FIELDS = tuple(f.name for f in dataclasses.fields(UnitBlock))


class _Broken(Exception):
    """A structural rule of the projection that an entry breaks (named per instance); never
    leaves this package: ``LedgerAudit.feed`` reports it as ``EntryBreaksRule``."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.broken = rule
        self.message = message


def external_account_id(registry_id: str) -> str:
    """Where units sit once transferred to an external registry (as the services name it)."""
    return f"{registry_id}-EXTERNAL"


@dataclasses.dataclass(frozen=True, slots=True)
class _Acted:
    """A block the entry acts on: its state before (``None``: created by the entry) and after."""

    before: UnitBlock | None
    after: UnitBlock

    @property
    def changed(self) -> set[str]:
        if self.before is None:
            return set(_FIELDS)
        return {f for f in _FIELDS if getattr(self.before, f) != getattr(self.after, f)}


class AuditBase:
    """The projection replayed so far and the checks shared by every entry kind; the handlers
    per kind are in :mod:`.reference` and :mod:`.movements`."""

    _handlers: dict[str, Callable[[Entry], None]]
    _block_handlers: dict[str, Callable[[Entry, list[_Acted]], None]]

    def __init__(self) -> None:
        self.state = InMemoryProjection()
        self._pieces: dict[int, list[UnitBlock]] = {}
        # Action date of the last entry that wrote each block (for blocks written before action
        # dates were stamped on them).
        self._acted_on: dict[int, date] = {}
        # Latest action date of a first transfer under each authorization (a revocation is
        # dated after it).
        self._first_transferred_on: dict[str, date] = {}
        self._conversions: list[NonGhgConversion] = []
        self._decisions: dict[str, JcDecision] = {}
        self._decision_issued: dict[tuple[str, str], int] = defaultdict(int)

    def feed(self, entry: Entry, entry_hash: bytes) -> None:
        """Check ``entry`` against the rules, then apply it. ``EntryBreaksRule`` names the rule
        it breaks (the entry is not applied; feed nothing more)."""
        try:
            self._check(entry)
        except (LedgerError, _Broken) as exc:
            broken = exc.broken if isinstance(exc, _Broken) else exc.rule
            raise EntryBreaksRule(
                f"entry {entry.seq} ({entry.kind}) breaks the rule {broken}: {exc.message}",
                seq=entry.seq,
                kind=entry.kind,
                broken_rule=broken,
            ) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise EntryBreaksRule(
                f"entry {entry.seq} ({entry.kind}) has a malformed payload: {exc!r}",
                seq=entry.seq,
                kind=entry.kind,
                broken_rule="entry-payload",
            ) from exc
        apply_entry(self.state, entry.seq, entry.kind, entry.payload, entry_hash)
        if entry.kind in BLOCK_KINDS:
            on = action_date(entry)
            written: Any = entry.payload["blocks"]
            for raw in written:
                self._acted_on[int(raw["block_id"])] = on

    def _check(self, entry: Entry) -> None:
        on = action_date(entry)
        if on > entry.timestamp.date():
            raise ActionDateInFuture(
                f"action date {on.isoformat()} is after the recording date "
                f"{entry.timestamp.date().isoformat()}"
            )
        handler = self._handlers.get(entry.kind)
        if handler is not None:
            handler(entry)
            return
        block_handler = self._block_handlers.get(entry.kind)
        if block_handler is None:
            if "blocks" in entry.payload:
                raise _Broken(
                    "projection-changed-by-registry-actions",
                    f"entries of kind {entry.kind} do not change holdings",
                )
            return
        acted = self._blocks(entry)
        for item in acted:
            if item.before is None or item.before.account_id != item.after.account_id:
                account = self.state.get_account(item.after.account_id)
                if account is not None:
                    rules.check_account_metric(account, item.after.attributes)
        if entry.kind not in FLAG_KINDS:  # a check is no action on the units
            self._dates_in_order(entry, acted)
        block_handler(entry, acted)
        self._restatement(entry, self._parties_concerned(entry, acted))

    def _dates_in_order(self, entry: Entry, acted: list[_Acted]) -> None:
        """Each block the entry takes is acted on no earlier than its vintage year and its last
        action (``ledger.registry.services.blocks.check_dated``)."""
        on = action_date(entry)
        taken = [item.before for item in acted if item.before is not None]
        p: Mapping[str, Any] = entry.payload
        taken += [self.state.block_by_id[int(i)] for i in p.get("superseded", ())]
        for block in taken:
            rules.check_vintage_achieved(block.attributes.vintage, on)
            previous = block.last_action_date
            if previous is None and block.block_id in self._acted_on:
                previous = self._acted_on[block.block_id]
            rules.check_after_previous_action(block, previous, on)
        for item in acted:
            if item.before is None:
                rules.check_vintage_achieved(item.after.attributes.vintage, on)

    def _parties_concerned(self, entry: Entry, acted: list[_Acted]) -> set[str]:
        """The Parties whose submitted AEFs the action's date is checked against (as each use
        case passes them to ``ledger.registry.dating.date_action``)."""
        p: Mapping[str, Any] = entry.payload
        if entry.kind in FLAG_KINDS:
            return set()
        if entry.kind == "itmo.acquisition" and p.get("from_registry") is not None:
            return {self._party_of_account(self._account(p["to_account"]))}
        parties = {
            self._party_of_account(self._account(b.account_id))
            for item in acted
            for b in (item.before, item.after)
            if b is not None and self.state.get_account(b.account_id) is not None
        }
        if entry.kind == "mo.issued":
            parties.add(self._registry(p["registry_id"]).party)
        if isinstance(p.get("transferring_party"), str):
            parties.add(p["transferring_party"])
        return parties

    def _restatement(self, entry: Entry, parties: set[str]) -> None:
        """An action dated in a reported year for which a Party concerned submitted its AEF
        records that it restates that year (``ledger.registry.dating.date_action``)."""
        on = action_date(entry)
        if on.year >= entry.timestamp.year or entry.payload.get(RESTATES) == on.year:
            return
        for party in sorted(parties):
            versions = self.state.submitted_versions(party, on.year)
            if versions:
                raise SubmittedYearNotRestated(
                    f"{party} submitted its AEF for {on.year} (version {', '.join(versions)}); "
                    f"the entry is dated {on.isoformat()} without restating that year"
                )

    def _version_for(self, entry: Entry, authorization_id: str | None) -> Authorization:
        """The authorization version an action binds or first transfers units under: the one in
        force on its action date (the latest, for entries from before action dates)."""
        if ACTION_DATE in entry.payload:
            return self._in_force(authorization_id, action_date(entry))
        return self._authorization(authorization_id, None)

    def _in_force(self, authorization_id: str | None, on: date) -> Authorization:
        """The version in force on ``on`` (``lookups.authorization_in_force``)."""
        found = self._authorization(authorization_id, None)
        while found.authorized_on > on and found.version > 1:
            found = self._authorization(authorization_id, found.version - 1)
        rules.check_authorized_by(found, on)
        return found

    # --- lookups ---------------------------------------------------------------------------

    def _party(self, code: Any) -> Party:
        found = self.state.get_party(str(code))
        if found is None:
            raise PartyNotFound(f"Party {code} is not registered", party=code)
        return found

    def _registry(self, registry_id: Any) -> Registry:
        found = self.state.get_registry(str(registry_id))
        if found is None:
            raise RegistryNotFound(f"registry {registry_id} is not known")
        return found

    def _approach(self, ca_id: Any) -> CooperativeApproach:
        found = self.state.get_cooperative_approach(str(ca_id))
        if found is None:
            raise CooperativeApproachNotFound(f"cooperative approach {ca_id} is not registered")
        return found

    def _account(self, account_id: Any) -> Account:
        found = self.state.get_account(str(account_id))
        if found is None:
            raise AccountNotFound(f"account {account_id} does not exist")
        return found

    def _authorization(self, authorization_id: str | None, version: int | None) -> Authorization:
        found = self.state.get_authorization(authorization_id or "", version)
        if found is None:
            raise AuthorizationNotFound(f"authorization {authorization_id} v{version} is unknown")
        return found

    def _party_of_account(self, account: Account) -> str:
        return self._registry(account.registry_id).party

    @staticmethod
    def _dated(entry: Entry, check: Callable[[date], None]) -> None:
        """Run a dated rule on the entry's action date. An entry without one (written before
        action dates were recorded) is dated by its timestamp; then the rule may also pass on
        the date ``CLOCK_SKEW`` earlier, since the service checked it a moment before the
        entry was stamped."""
        try:
            check(action_date(entry))
        except LedgerError:
            if ACTION_DATE in entry.payload:
                raise
            check((entry.timestamp - CLOCK_SKEW).date())

    # --- reference data ----------------------------------------------------------------------

    @staticmethod
    def _well_formed(pattern: Any, value: str, what: str) -> None:
        if not pattern.match(value):
            raise InvalidInput(f"{value!r} is not a valid {what}")

    # --- what every action does to blocks ---------------------------------------------------

    def _blocks(self, entry: Entry) -> list[_Acted]:
        """Check the shape of the entry's block changes; the blocks it acts on, before/after.

        A partial action supersedes blocks and writes their pieces. One action may write
        several entries (e.g. a first transfer, then the transfer of the other pieces), so a
        piece may appear in a later entry than the one that superseded its parent: each piece
        must lie inside its parent, overlap no sibling and carry the seq of the split as
        ``created_seq``; that the pieces cover each parent exactly is checked by ``finish``."""
        p: Mapping[str, Any] = entry.payload
        blocks = [from_json(UnitBlock, raw) for raw in p["blocks"]]
        acted_ids = [int(i) for i in p.get("acted", ())]
        superseded = [int(i) for i in p.get("superseded", ())]
        ids = [b.block_id for b in blocks]
        if len(set(ids)) != len(ids) or len(set(superseded)) != len(superseded):
            raise _Broken("block-written-once", "a block appears twice in the entry")
        if not set(acted_ids) <= set(ids) or len(set(acted_ids)) != len(acted_ids):
            raise _Broken("block-written-once", "the entry acts on blocks it does not record")
        s = self.state
        for block_id in superseded:
            if block_id not in s.block_by_id or block_id in s.superseded:
                raise _Broken("units-conserved", f"block {block_id} is not active to supersede")
        acted = set(acted_ids)
        split_at = dict.fromkeys(superseded, entry.seq)
        # Every block an action writes carries its action date (entries written before action
        # dates existed carry none).
        stamp = action_date(entry) if ACTION_DATE in p else None
        dates: set[date | None] = {stamp}
        if stamp is None:  # a consistency check dates its blocks by its recording date
            dates |= {None, entry.timestamp.date(), (entry.timestamp - CLOCK_SKEW).date()}
        result: list[_Acted] = []
        for block in blocks:
            if block.last < block.first or block.first < 1 or block.block_id < 1:
                raise _Broken("units-conserved", f"block {block.block_id} has no serials")
            old = s.block_by_id.get(block.block_id)
            before: UnitBlock | None
            if old is not None:
                if block.block_id in s.superseded or block.block_id in split_at:
                    raise _Broken("units-conserved", f"block {block.block_id} is superseded")
                before = old
            elif block.parent_id is None:
                if block.created_seq != entry.seq:
                    raise _Broken("block-lineage", f"block {block.block_id} is not created here")
                before = None
            else:
                before = self._piece(block, split_at.get(block.parent_id))
            if block.last_action_date not in dates:
                raise _Broken(
                    "blocks-dated-with-their-action",
                    f"block {block.block_id} is dated {block.last_action_date}, not as its entry",
                )
            if block.block_id in acted:
                result.append(_Acted(before, block))
            elif (
                before is None
                or dataclasses.replace(before, last_action_date=block.last_action_date) != block
            ):
                raise _Broken(
                    "units-conserved",
                    f"block {block.block_id} changes although the entry does not act on it",
                )
        return result

    def _piece(self, block: UnitBlock, split_here: int | None) -> UnitBlock:
        """The state a new piece of a superseded block starts from (its parent's units)."""
        s = self.state
        parent_id = block.parent_id
        assert parent_id is not None
        split_seq = split_here if split_here is not None else s.superseded.get(parent_id)
        parent = s.block_by_id.get(parent_id)
        if parent is None or split_seq is None or block.created_seq != split_seq:
            raise _Broken(
                "block-lineage",
                f"block {block.block_id} is not a piece of a split of block {parent_id}",
            )
        if not parent.first <= block.first <= block.last <= parent.last:
            raise _Broken("units-conserved", f"block {block.block_id} outgrows its parent")
        siblings = self._pieces.setdefault(parent_id, [])
        if any(b.first <= block.last and block.first <= b.last for b in siblings):
            raise _Broken("units-conserved", f"block {block.block_id} repeats serials of a sibling")
        siblings.append(block)
        return parent.piece(block.block_id, block.first, block.last, split_seq)

    def finish(self) -> None:
        """After the last entry: the pieces of every superseded block cover it exactly."""
        for parent_id, split_seq in sorted(self.state.superseded.items(), key=lambda i: i[1]):
            parent = self.state.block_by_id[parent_id]
            cursor = parent.first
            for piece in sorted(self._pieces.get(parent_id, ()), key=lambda b: b.first):
                if piece.first != cursor:
                    break
                cursor = piece.last + 1
            if cursor != parent.last + 1:
                raise EntryBreaksRule(
                    f"entry {split_seq} breaks the rule units-conserved: the pieces of block "
                    f"{parent_id} do not cover serials {parent.first}-{parent.last} exactly",
                    seq=split_seq,
                    kind="split",
                    broken_rule="units-conserved",
                )

    @staticmethod
    def _only(acted: _Acted, allowed: set[str]) -> None:
        changed = acted.changed - allowed - {"last_action_date"}
        if changed:
            raise _Broken(
                "action-changes-its-fields-only",
                f"block {acted.after.block_id}: this action cannot change {sorted(changed)}",
            )

    @staticmethod
    def _existing(acted: _Acted) -> UnitBlock:
        if acted.before is None:
            raise _Broken("units-conserved", f"block {acted.after.block_id} appears from nothing")
        return acted.before

    @staticmethod
    def _held_by(before: UnitBlock, account_id: Any) -> None:
        if before.account_id != account_id:
            raise SerialsNotHeld(
                f"serials {before.first}-{before.last} are held by {before.account_id}, "
                f"not {account_id}"
            )

    def _source_and_destination(
        self, entry: Entry, wanted: Sequence[AccountType]
    ) -> tuple[Account, Account, Registry]:
        """A use or cancellation: from a holding account of a hosted registry to one of its
        terminal accounts of the ``wanted`` types."""
        source = self._account(entry.payload["from_account"])
        destination = self._account(entry.payload["to_account"])
        if source.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch("units are used or cancelled from a holding account")
        if destination.account_type not in wanted or destination.registry_id != source.registry_id:
            raise AccountTypeMismatch(f"the destination {destination.account_id} does not fit")
        registry = self._registry(source.registry_id)
        if not registry.hosted:
            raise RegistryDoesNotOwnUnits("units in an external registry are used by that one")
        return source, destination, registry

    def _retired_into(self, acted: Sequence[_Acted], source: Account, destination: Account) -> None:
        for item in acted:
            before = self._existing(item)
            self._held_by(before, source.account_id)
            rules.check_not_retired(before)
            self._only(item, {"account_id", "retired"})
            if item.after.account_id != destination.account_id or not item.after.retired:
                raise _Broken("action-changes-its-fields-only", "units must end retired")

    @staticmethod
    def _new_block_fields(block: UnitBlock) -> None:
        if block.retired or block.inconsistent or block.parent_id is not None:
            raise _Broken("units-conserved", f"block {block.block_id} is created in use")
        under = (block.underlying_first, block.underlying_last)
        if under[0] is None:
            if under[1] is not None:
                raise _Broken("units-conserved", "underlying serials without a start")
        elif under[1] != under[0] + block.last - block.first:
            raise _Broken("units-conserved", "underlying serials do not match the block")

    def _overlapping(self, block: UnitBlock) -> list[UnitBlock]:
        key = block_key(block)
        return [
            b
            for b in self.state.block_by_id.values()
            if b.block_id not in self.state.superseded
            and block_key(b) == key
            and b.first <= block.last
            and b.last >= block.first
        ]
