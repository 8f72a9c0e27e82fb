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

Why one module of about 950 lines: :class:`LedgerAudit` is one state machine over the entry
kinds, and every handler reads and checks the same replayed state through the same private
helpers (``_Broken``, the block-shape checks); split per kind, each part would need that whole
state and those helpers back. Splitting it by action family, as ``services/`` is, remains the
way to go when it grows.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any

from ledger.errors import (
    AccountNotFound,
    AccountTypeMismatch,
    ActionDateInFuture,
    AlreadyRegistered,
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    AuthorizationNotFound,
    AuthorizedEntityNotFound,
    CooperativeApproachNotFound,
    EntryBreaksRule,
    FirstTransferDefinitionConflict,
    FirstTransferPending,
    InvalidInput,
    LedgerError,
    NdcNotDeclared,
    NdcPeriodReported,
    OwnUnitsNotUsable,
    PartyNotFound,
    RegistryDoesNotOwnUnits,
    RegistryNotFound,
    SerialsNotHeld,
    SubmittedYearNotRestated,
    UnitsNotAuthorized,
)
from ledger.log.chain import Entry
from ledger.registry import ndc, rules
from ledger.registry.codec import from_json
from ledger.registry.dating import ACTION_DATE, RESTATES, action_date
from ledger.registry.model import (
    ACCOUNT_ID,
    AUTHORIZATION_ID,
    CA_ID,
    PARTY_CODE,
    REGISTRY_ID,
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CancellationKind,
    CooperativeApproach,
    FirstTransferDefinition,
    NdcDeclaration,
    NonGhgConversion,
    Party,
    Registry,
    UnitAttributes,
    UnitBlock,
)
from ledger.registry.projection import InMemoryProjection, apply_entry, block_key
from ledger.registry.services.conversions import CONVERSION_RECORDED, read_conversion
from ledger.registry.services.jcm import (
    JC_DECISION_RECORDED,
    DecisionQuantityExceeded,
    IssuanceOutsideDecision,
    JcDecision,
    read_decision,
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
    leaves this module: ``LedgerAudit.feed`` reports it as ``EntryBreaksRule``."""

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


class LedgerAudit:
    """Feed it the log's entries in order; ``state`` is the projection replayed so far."""

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

    def _party_registered(self, entry: Entry) -> None:
        party = ndc.registered_party(entry.payload["party"])
        self._well_formed(PARTY_CODE, party.code, "Party code")
        if self.state.get_party(party.code) is not None:
            raise AlreadyRegistered(f"Party {party.code} is registered twice")
        for declaration in party.declarations:
            ndc.check_declaration(declaration)

    def _ndc_declared(self, entry: Entry) -> None:
        party = self._party(entry.payload["party"])
        declaration = from_json(NdcDeclaration, entry.payload["ndc"])
        ndc.check_declaration(declaration)
        # The very same declaration again changes nothing (ledgers from before successive NDC
        # periods repeat it); another one must be a new period, disjoint from the others.
        ndc.check_new_period(party, declaration)

    def _ndc_amended(self, entry: Entry) -> None:
        p: Mapping[str, Any] = entry.payload
        party = self._party(p["party"])
        declaration = from_json(NdcDeclaration, p["ndc"])
        ndc.check_declaration(declaration)
        period = ndc.period_to_amend(party, declaration)
        if p["version"] != period.version + 1 or period.declaration == declaration:
            raise _Broken("ndc-versions-in-sequence", "an amendment is the next version")
        reported = [
            year
            for (code, year, _version) in self.state.submissions
            if code == party.code and declaration.covers(year)
        ]
        if reported:
            raise NdcPeriodReported(
                f"{party.code} submitted its AEF for {min(reported)}, in the period amended"
            )

    def _registry_registered(self, entry: Entry) -> None:
        registry = from_json(Registry, entry.payload["registry"])
        self._well_formed(REGISTRY_ID, registry.registry_id, "registry id")
        self._party(registry.party)
        if not registry.registry_id.startswith(registry.party):
            raise InvalidInput("a Party ITMO registry id starts with its Party code")
        if self.state.get_registry(registry.registry_id) is not None:
            raise AlreadyRegistered(f"registry {registry.registry_id} is registered twice")

    def _approach_registered(self, entry: Entry) -> None:
        approach = from_json(CooperativeApproach, entry.payload["approach"])
        self._well_formed(CA_ID, approach.ca_id, "cooperative approach id")
        if len(set(approach.parties)) < 2:
            raise InvalidInput("a cooperative approach needs at least two participating Parties")
        for code in approach.parties:
            self._party(code)
        if self.state.get_cooperative_approach(approach.ca_id) is not None:
            raise AlreadyRegistered(f"{approach.ca_id} is registered twice")

    def _account_opened(self, entry: Entry) -> None:
        account = from_json(Account, entry.payload["account"])
        self._well_formed(ACCOUNT_ID, account.account_id, "account id")
        registry = self._registry(account.registry_id)
        if registry.hosted:
            if not account.account_id.startswith(account.registry_id + "-"):
                raise InvalidInput("an account id starts with its registry id and a hyphen")
        elif (
            account.account_id != external_account_id(registry.registry_id)
            or account.account_type is not AccountType.HOLDING
        ):
            raise AccountTypeMismatch("accounts are opened only in registries hosted here")
        if self.state.get_account(account.account_id) is not None:
            raise AlreadyRegistered(f"account {account.account_id} is opened twice")
        rules.check_account_definition(account)

    def _definition_declared(self, entry: Entry) -> None:
        p: Mapping[str, Any] = entry.payload
        code, ca_id = p["party"], p["ca_id"]
        self._party(code)
        if code not in self._approach(ca_id).parties:
            raise InvalidInput(f"{code} does not participate in {ca_id}")
        FirstTransferDefinition(p["definition"])
        if self.state.get_first_transfer_definition(str(code), str(ca_id)) is not None:
            raise FirstTransferDefinitionConflict(
                f"{code} declares its OIMP first-transfer definition for {ca_id} again"
            )

    def _authorization_recorded(self, entry: Entry) -> None:
        granted = from_json(Authorization, entry.payload["authorization"])
        self._well_formed(AUTHORIZATION_ID, granted.authorization_id, "authorization id")
        self._party(granted.party)
        if granted.party not in self._approach(granted.ca_id).parties:
            raise InvalidInput(f"{granted.party} does not participate in {granted.ca_id}")
        for code in granted.authorized_parties:
            self._party(code)
        for entity_id in granted.authorized_entities:
            if self.state.get_entity(entity_id) is None:
                raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded")
        if granted.vintage_from > granted.vintage_to:
            raise InvalidInput("vintage_from must not exceed vintage_to")
        rules.check_vintage(granted.vintage_from)
        if granted.quantity is not None and granted.quantity <= 0:
            raise InvalidInput("an authorized quantity must be positive")
        rules.check_authorization_elements(granted)
        if granted.tracking_registry is not None:
            self._registry(granted.tracking_registry)
        if granted.purposes.covers_oimp != (granted.first_transfer_definition is not None):
            raise InvalidInput("an OIMP authorization, and only one, states its definition")
        if not granted.purposes.covers_oimp and granted.oimp_authorized is not None:
            raise InvalidInput("OIMP applies only to OIMP purposes")
        definition = granted.first_transfer_definition
        if definition is not None:
            declared = self.state.get_first_transfer_definition(granted.party, granted.ca_id)
            if declared is not definition:
                raise FirstTransferDefinitionConflict(
                    f"{granted.party} declared {declared} for {granted.ca_id}, not {definition}"
                )
        if ACTION_DATE in entry.payload and action_date(entry) != granted.authorized_on:
            raise _Broken("authorization-dated", "an authorization is dated its authorized_on")
        if granted.recorded_seq != entry.seq:
            raise _Broken("authorization-recorded-once", "recorded_seq is not the entry's seq")
        previous = self.state.get_authorization(granted.authorization_id)
        if previous is None:
            if granted.version != 1 or granted.revoked:
                raise AuthorizationChangeForbidden("a new authorization starts at version 1")
            return
        if granted.version != previous.version + 1:
            raise AuthorizationChangeForbidden("authorization versions follow each other")
        rules.check_not_revoked(previous)
        if granted.revoked:
            assert granted.revoked_on is not None
            unchanged = dataclasses.replace(
                previous,
                version=granted.version,
                authorized_on=granted.authorized_on,
                revoked_on=granted.revoked_on,
                revocation_reason=granted.revocation_reason,
                recorded_seq=granted.recorded_seq,
            )
            if granted != unchanged or granted.revoked_on < previous.authorized_on:
                raise _Broken(
                    "authorization-revocation",
                    "a revoking version changes nothing but its date and the revocation",
                )
            last = self._first_transferred_on.get(granted.authorization_id)
            if last is not None and granted.revoked_on <= last:
                raise AuthorizationChangeForbidden(
                    f"units were first transferred under it on {last.isoformat()}"
                )
        if (previous.party, previous.ca_id) != (granted.party, granted.ca_id):
            raise AuthorizationChangeForbidden("a version changes the Party or approach")
        held = self.state.authorized_quantity(granted.authorization_id)
        if granted.quantity is not None and granted.quantity < held:
            raise AuthorizationChangeForbidden("the new quantity is below the units authorized")

    def _conversion_recorded(self, entry: Entry) -> None:
        conversion = read_conversion(entry)
        self._approach(conversion.ca_id)
        rules.check_conversion(conversion, self._conversions)
        if action_date(entry) != conversion.authorized_on:
            raise _Broken("conversion-dated", "a conversion is dated its authorized_on")
        self._conversions.append(conversion)

    def _entity_recorded(self, entry: Entry) -> None:
        entity = from_json(AuthorizedEntity, entry.payload["entity"])
        if ACTION_DATE in entry.payload and action_date(entry) != entity.authorized_on:
            raise _Broken("authorization-dated", "an entity is dated its authorized_on")
        self._approach(entity.ca_id)
        if not entity.entity_id.strip() or not entity.name.strip():
            raise InvalidInput("an authorized entity needs an id and a name")
        if self.state.get_entity(entity.entity_id) is not None:
            raise AlreadyRegistered(f"entity {entity.entity_id} is recorded twice")

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

    # --- actions ---------------------------------------------------------------------------

    def _issued(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        registry = self._registry(p["registry_id"])
        if not registry.hosted:
            raise AccountTypeMismatch("units are issued only into registries hosted here")
        if not acted or p.get("superseded") or len(acted) != len(p["blocks"]):
            raise _Broken("units-conserved", "an issuance only creates blocks")
        attributes = acted[0].after.attributes
        if (
            attributes.registry_id != registry.registry_id
            or attributes.first_transferring_party != registry.party
        ):
            raise InvalidInput("issued units originate in the issuing registry and its Party")
        if registry.party not in self._approach(attributes.ca_id).parties:
            raise InvalidInput(f"{registry.party} does not participate in {attributes.ca_id}")
        rules.check_vintage(attributes.vintage)
        rules.check_unit_metric(attributes)
        decision = self._follows_decision(entry, registry.registry_id, attributes, acted)
        serial = self.state.next_serial(block_key(acted[0].after))
        pending: dict[str, int] = defaultdict(int)
        for item in acted:
            block = item.after
            if item.before is not None or block.attributes != attributes:
                raise _Broken("units-conserved", "an issuance creates blocks of one kind")
            if block.first != serial:
                raise _Broken(
                    "serials-issued-in-order",
                    f"block {block.block_id} starts at {block.first}, not at {serial}",
                )
            serial = block.last + 1
            self._new_block_fields(block)
            if block.first_transferred or block.authorization_version is not None:
                raise _Broken("units-conserved", "issued units start not first transferred")
            account = self._account(block.account_id)
            direct = decision is not None and account.registry_id != registry.registry_id
            if account.account_type is not AccountType.HOLDING or (
                account.registry_id != registry.registry_id and not direct
            ):
                raise AccountTypeMismatch(f"issuance into {account.account_id}")
            if direct and block.authorization_id is None:
                raise UnitsNotAuthorized("a share issued directly is issued under an authorization")
            if block.authorization_id is not None:
                granted = self._version_for(entry, block.authorization_id)
                self._dated(entry, partial(rules.check_issuance_date, granted))
                pending[block.authorization_id] += block.quantity
                rules.check_units_fit_authorization(
                    granted,
                    attributes,
                    self.state.authorized_quantity(block.authorization_id)
                    + pending[block.authorization_id],
                )

    def _follows_decision(
        self, entry: Entry, registry_id: str, attributes: UnitAttributes, acted: list[_Acted]
    ) -> JcDecision | None:
        """An issuance citing a recorded Joint Committee decision follows it
        (``services.jcm.check_follows_decision``): its registry, approach, monitoring period,
        accounts and, with every earlier issuance citing it, each share's quantity."""
        reference = entry.payload.get("decision_reference")
        decision = self._decisions.get(reference) if isinstance(reference, str) else None
        if decision is None:
            return None
        if (registry_id, attributes.ca_id) != (decision.registry_id, decision.ca_id) or not (
            decision.monitoring_from.year <= attributes.vintage <= decision.monitoring_to.year
        ):
            raise IssuanceOutsideDecision(f"the issuance does not follow {decision.decision_id}")
        decided = {s.account_id: s.quantity for s in decision.shares}
        for item in acted:
            account_id = item.after.account_id
            if account_id not in decided:
                raise IssuanceOutsideDecision(f"{decision.decision_id} issues nothing to it")
            key = (decision.decision_id, account_id)
            self._decision_issued[key] += item.after.quantity
            if self._decision_issued[key] > decided[account_id]:
                raise DecisionQuantityExceeded(
                    f"{decision.decision_id} decided {decided[account_id]} for {account_id}"
                )
        return decision

    def _decision_recorded(self, entry: Entry) -> None:
        decision = read_decision(entry.payload)
        if decision.decision_id in self._decisions:
            raise AlreadyRegistered(f"decision {decision.decision_id} is recorded twice")
        self._decisions[decision.decision_id] = decision

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

    def _units_authorized(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        granted = self._version_for(entry, p["authorization_id"])
        if p["version"] != granted.version:
            raise AuthorizationChangeForbidden("units are authorized under the version in force")
        total = self.state.authorized_quantity(granted.authorization_id)
        for item in acted:
            before = self._existing(item)
            account = self._account(before.account_id)
            if self._party_of_account(account) != granted.party:
                raise RegistryDoesNotOwnUnits(
                    f"{granted.party} authorizes only units held in its own registries"
                )
            rules.check_not_retired(before)
            rules.check_not_first_transferred(before)
            if before.authorization_id is not None:
                raise AuthorizationChangeForbidden(f"block {before.block_id} is authorized")
            self._only(item, {"authorization_id"})
            if item.after.authorization_id != granted.authorization_id:
                raise _Broken("action-changes-its-fields-only", "units bound elsewhere")
            total += before.quantity
            rules.check_units_fit_authorization(granted, before.attributes, total)

    def _first_transfer(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        acquiring = p.get("acquiring_party")
        to_account = p.get("to_account")
        subtype = p.get("subtype")
        omge = subtype in {k.value for k in CancellationKind if k is not CancellationKind.OTHER}
        for item in acted:
            before = self._existing(item)
            if "from_account" in p:
                self._held_by(before, p["from_account"])
            source = self._account(before.account_id)
            rules.check_not_retired(before)
            rules.check_authorized(before)
            rules.check_not_first_transferred(before)
            granted = self._version_for(entry, before.authorization_id)
            latest = self._authorization(before.authorization_id, None)
            on = action_date(entry)
            known = self._first_transferred_on.get(granted.authorization_id)
            if known is None or on > known:
                self._first_transferred_on[granted.authorization_id] = on
            self._only(item, {"first_transfer_seq", "authorization_version", "account_id"})
            after = item.after
            if after.first_transfer_seq != entry.seq or after.authorization_version != (
                granted.version
            ):
                raise _Broken(
                    "one-first-transfer", "the first transfer pins this entry and the version"
                )
            if after.account_id != (to_account or before.account_id):
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if after.account_id != before.account_id:
                destination = self._account(after.account_id)
                party = self._party_of_account(destination)
                if destination.account_type is AccountType.HOLDING:
                    if acquiring != party or party == self._party_of_account(source):
                        raise AccountTypeMismatch("a first transfer goes to another Party")
                    if not latest.purposes.covers_ndc:
                        raise FirstTransferPending(
                            f"serials {before.first}-{before.last} are authorized for OIMP only"
                        )
                elif destination.account_type is not AccountType.ADAPTATION_FUND:
                    raise AccountTypeMismatch("use and cancellation have their own actions")
            elif acquiring is not None:
                # Direct issuance: the units were issued into the acquiring Party's registry.
                holder = self._party_of_account(source)
                if acquiring != holder or holder == before.attributes.first_transferring_party:
                    raise AccountTypeMismatch("a first transfer goes to another Party")
                if not latest.purposes.covers_ndc:
                    raise FirstTransferPending(
                        f"serials {before.first}-{before.last} are authorized for OIMP only"
                    )
            elif not (omge or granted.purposes.covers_oimp or latest.purposes.covers_oimp):
                raise UnitsNotAuthorized(
                    f"nothing fires the first transfer of serials {before.first}-{before.last}"
                )
            if acquiring is not None:
                allowed = partial(rules.check_transfer_allowed, granted, str(acquiring))
                self._dated(entry, allowed)
            else:
                self._dated(entry, partial(rules.check_timeframe, granted))

    def _transfer(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source = self._account(p["from_account"])
        destination = self._account(p["to_account"])
        if source.account_id == destination.account_id:
            raise InvalidInput("source and destination accounts are the same")
        if source.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch("units move only out of holding accounts")
        if destination.account_type not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND):
            raise AccountTypeMismatch("transfers go to a holding or Adaptation Fund account")
        if not self._registry(source.registry_id).hosted:
            raise RegistryDoesNotOwnUnits("units in an external registry are moved by that one")
        acquiring_party = self._party_of_account(destination)
        international = acquiring_party != self._party_of_account(source)
        if p["international"] is not international or p["acquiring_party"] != (
            acquiring_party if international else None
        ):
            raise _Broken("transfer-parties", "the entry misstates the Parties of the transfer")
        leaving = international or destination.account_type is AccountType.ADAPTATION_FUND
        for item in acted:
            before = self._existing(item)
            self._held_by(before, source.account_id)
            rules.check_not_retired(before)
            self._only(item, {"account_id"})
            if item.after.account_id != destination.account_id:
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if leaving:
                rules.check_authorized(before)
                if not before.first_transferred:
                    raise FirstTransferPending(
                        f"serials {before.first}-{before.last} leave before their first transfer"
                    )
            if international:
                granted = self._authorization(before.authorization_id, before.authorization_version)
                allowed = partial(rules.check_transfer_allowed, granted, acquiring_party)
                self._dated(entry, allowed)

    def _acquisition(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        destination = self._account(p["to_account"])
        destination_registry = self._registry(destination.registry_id)
        if not destination_registry.hosted:
            raise AccountTypeMismatch("acquisitions are recorded by registries hosted here")
        if p.get("from_registry") is None:
            # The receiving side of a transfer between hosted registries, recorded right after
            # it: the units are already there, first transferred, and stay as they are.
            if destination.account_type not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND):
                raise AccountTypeMismatch("transfers go to a holding or Adaptation Fund account")
            if p["transferring_party"] == destination_registry.party:
                raise _Broken("transfer-parties", "an acquisition comes from another Party")
            for item in acted:
                before = self._existing(item)
                self._only(item, set())
                self._held_by(before, destination.account_id)
                rules.check_first_transferred(before)
            return
        if destination.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch(
                "acquisitions from external registries go to a holding account"
            )
        source = self._registry(p["from_registry"])
        if source.hosted:
            raise InvalidInput("transfers between hosted registries are recorded by `transfer`")
        if p["transferring_party"] != source.party:
            raise _Broken("transfer-parties", "the entry misstates the transferring Party")
        international = destination_registry.party != source.party
        for item in acted:
            after = item.after
            if item.before is None:
                self._external_block(after, destination, source, international)
                continue
            before = item.before
            self._held_by(before, external_account_id(source.registry_id))
            rules.check_not_retired(before)
            self._only(item, {"account_id", "first_transfer_seq"})
            if after.account_id != destination.account_id:
                raise _Broken("action-changes-its-fields-only", "units moved elsewhere")
            if after.first_transfer_seq != before.first_transfer_seq and not (
                international
                and before.first_transfer_seq is None
                and after.first_transfer_seq == -1
            ):
                raise _Broken("one-first-transfer", "the first transfer cannot change here")

    def _external_block(
        self, block: UnitBlock, destination: Account, source: Registry, international: bool
    ) -> None:
        """Units arriving from an external registry for the first time."""
        self._new_block_fields(block)
        rules.check_vintage(block.attributes.vintage)
        self._approach(block.attributes.ca_id)
        origin = self.state.get_registry(block.attributes.registry_id)
        if origin is not None and origin.hosted:
            raise SerialsNotHeld("units issued here can only come back, not arrive anew")
        if block.account_id != destination.account_id:
            raise _Broken("action-changes-its-fields-only", "units arrive elsewhere")
        overlapping = self._overlapping(block)
        if overlapping:
            raise _Broken(
                "serial-held-once", f"serials {block.first}-{block.last} are already held here"
            )
        if block.first_transfer_seq not in (None, -1):
            raise _Broken("one-first-transfer", "arriving units were first transferred elsewhere")
        if block.first_transferred and block.authorization_id is None:
            raise InvalidInput("ITMOs arrive with the authorization they were transferred under")
        if international and not block.first_transferred:
            raise UnitsNotAuthorized("units from another Party must already be ITMOs")

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

    def _use(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source, destination, registry = self._source_and_destination(entry, (AccountType.NDC_USE,))
        party = self._party(registry.party)
        if p["using_party"] != party.code:
            raise _Broken("use-by-holding-party", "the entry misstates the using Party")
        if not party.ndc_periods:
            raise NdcNotDeclared(f"{party.code} has not declared its NDC period")
        use_year = p["use_year"]
        if not isinstance(use_year, int) or isinstance(use_year, bool):
            raise InvalidInput("use towards an NDC needs the calendar year of use")
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            rules.check_use_within_ndc_periods(party, before.attributes.vintage, use_year)
            rules.check_use_year_not_before_vintage(before.attributes.vintage, use_year)
            rules.check_authorized(before)
            granted = self._authorization(before.authorization_id, before.authorization_version)
            rules.check_purpose(granted, ndc=True)
            if before.attributes.first_transferring_party == party.code:
                raise OwnUnitsNotUsable(f"serials {before.first}-{before.last} are {party.code}'s")
            rules.check_first_transferred(before)
            rules.check_not_inconsistent(before)
            rules.check_usable_metric(
                party.ndc_covering(use_year), before, lambda: self._conversions, action_date(entry)
            )

    def _oimp_use(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        source, destination, registry = self._source_and_destination(entry, (AccountType.OIMP_USE,))
        purpose = p["oimp_purpose"]
        entity_id = p.get("entity_id")
        if not purpose:
            raise InvalidInput("OIMP use needs the purpose")
        if entity_id is not None and self.state.get_entity(str(entity_id)) is None:
            raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded")
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            rules.check_authorized(before)
            granted = self._authorization(before.authorization_id, before.authorization_version)
            rules.check_purpose(granted, ndc=False)
            if granted.oimp_authorized not in (None, purpose):
                raise AuthorizationLimitExceeded(f"authorized for OIMP {granted.oimp_authorized}")
            entity = None if entity_id is None else str(entity_id)
            allowed = partial(rules.check_transfer_allowed, granted, registry.party, entity=entity)
            self._dated(entry, allowed)
            if not before.first_transferred:
                raise FirstTransferPending(
                    f"serials {before.first}-{before.last} are used before their first transfer"
                )

    def _cancellation(self, entry: Entry, acted: list[_Acted]) -> None:
        p: Mapping[str, Any] = entry.payload
        kind = CancellationKind(p["subtype"])
        wanted = (
            AccountType.CANCELLATION
            if kind is CancellationKind.OTHER
            else AccountType.VOLUNTARY_CANCELLATION
        )
        source, destination, _registry = self._source_and_destination(entry, (wanted,))
        self._retired_into(acted, source, destination)
        for item in acted:
            before = self._existing(item)
            if before.first_transferred or before.authorization_id is None:
                continue
            granted = self._authorization(before.authorization_id, None)
            if kind is not CancellationKind.OTHER or granted.purposes.covers_oimp:
                raise FirstTransferPending(
                    f"serials {before.first}-{before.last} are cancelled before the first "
                    "transfer this cancellation is"
                )

    def _flagged(self, entry: Entry, acted: list[_Acted]) -> None:
        """A check or review result flags blocks and resolves open flags, each with a reason:
        it changes nothing but the flag."""
        raw: Any = entry.payload.get("resolved", ())
        resolved = {int(r["block_id"]): str(r["reason"]) for r in raw}
        if len(resolved) != len(raw) or not set(resolved) <= {i.after.block_id for i in acted}:
            raise _Broken("flag-resolved-once", "the entry resolves blocks it does not record")
        for item in acted:
            before = self._existing(item)
            if item.after.block_id in resolved:
                self._only(item, {"inconsistent"})
                if not before.inconsistent or item.after.inconsistent:
                    raise _Broken(
                        "flag-resolved-once", f"block {before.block_id} has no open flag to resolve"
                    )
                if not resolved[item.after.block_id].strip():
                    raise _Broken("flag-resolved-with-reason", "a flag is resolved without reason")
                continue
            if before.inconsistent:
                raise _Broken("flagged-once", f"block {before.block_id} is already flagged")
            self._only(item, {"inconsistent"})
            if not item.after.inconsistent:
                raise _Broken("action-changes-its-fields-only", "the flag is not set")
