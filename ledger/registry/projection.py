"""The registry projection: current records and holdings derived from ledger entries.

``apply_entry`` is the one function that turns an entry into projection changes. The services
call it right after appending (same transaction); ``replay`` calls it for every entry from seq 0
into memory, re-checking every entry against the registry rules (``ledger.registry.audit``),
which is how ``verify-db`` and the tests prove the stored projection equals a replay of the
ledger.

Every projection row is bound to the ledger entry that last wrote it: ``apply_entry`` first
calls ``bind_entry(seq, entry_hash)``, and the rows written until the next binding carry that
seq and entry hash (storage adds a digest of the row and its binding, see
``ledger.adapters.sql.projection``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.log.chain import Entry, entry_hash
from ledger.registry import ndc
from ledger.registry.codec import from_json
from ledger.registry.entry_tags import entry_tags
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    FirstTransferDefinition,
    NdcDeclaration,
    Party,
    Registry,
    UnitBlock,
    UnitSelection,
)

BlockKey = tuple[str, str, str, int]  # (cooperative approach, originating registry, FTP, vintage)

AEF_SUBMITTED = "aef.submitted"
"""Kind of the entry recording a Party's AEF submission (``ledger.accounting.reporting``): the
projection keeps which reported years were submitted, for the action-date guard rail."""

#: The ledger entry a projection row was last written by: (seq, entry hash).
Binding = tuple[int, bytes]
#: What rows written outside any entry are bound to (only tests and fakes do that).
UNBOUND: Binding = (-1, bytes(32))

#: The projection's record collections, named as their storage tables.
PARTY = "party"
REGISTRY = "registry"
COOPERATIVE_APPROACH = "cooperative_approach"
FIRST_TRANSFER_DEFINITION = "first_transfer_definition"
AUTHORIZATION = "authorization"
AUTHORIZED_ENTITY = "authorized_entity"
ACCOUNT = "account"
UNIT_BLOCK = "unit_block"
AEF_SUBMISSION = "aef_submission"
JC_DECISION = "jc_decision"

JC_DECISION_RECORDED = "jcm.decision.recorded"
"""Kind of the entry recording a Joint Committee decision (``services.jcm``)."""
ISSUED = "mo.issued"
"""Kind of an issuance entry: one citing a recorded decision (``decision_reference``) adds what
it issues to the decision's row."""


def decision_record(payload: Mapping[str, Any], seq: int) -> dict[str, Any]:
    """The projection's record of a decision just recorded by entry ``seq``: the decision as
    the entry states it, the entry's seq, and nothing issued yet."""
    return {"decision": payload["decision"], "recorded_seq": seq, "issued": {}}


def with_issued(record: Mapping[str, Any], blocks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``record`` (see :func:`decision_record`) after an issuance of ``blocks`` citing it: the
    quantity issued to each account, summed (what ``services.jcm`` checks the shares against)."""
    issued = {str(k): int(v) for k, v in record["issued"].items()}
    for block in blocks:
        account_id, units = str(block["account_id"]), int(block["last"]) - int(block["first"]) + 1
        issued[account_id] = issued.get(account_id, 0) + units
    return {**record, "issued": issued}


def block_key(block: UnitBlock) -> BlockKey:
    a = block.attributes
    return (a.ca_id, a.registry_id, a.first_transferring_party, a.vintage)


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """One action on one block: the per-serial history."""

    seq: int
    kind: str
    block_id: int
    first: int
    last: int
    account_id: str


class ProjectionRepository(Protocol):
    def bind_entry(self, seq: int, entry_hash: bytes) -> None:
        """Rows written from now on are bound to the entry ``seq`` with hash ``entry_hash``."""
        ...

    def get_party(self, code: str) -> Party | None: ...
    def put_party(self, party: Party) -> None: ...
    def parties(self) -> list[Party]: ...
    def get_registry(self, registry_id: str) -> Registry | None: ...
    def put_registry(self, registry: Registry) -> None: ...
    def registries(self) -> list[Registry]: ...
    def get_cooperative_approach(self, ca_id: str) -> CooperativeApproach | None: ...
    def put_cooperative_approach(self, approach: CooperativeApproach) -> None: ...
    def cooperative_approaches(self) -> list[CooperativeApproach]: ...
    def get_first_transfer_definition(
        self, party: str, ca_id: str
    ) -> FirstTransferDefinition | None: ...
    def put_first_transfer_definition(
        self, party: str, ca_id: str, definition: FirstTransferDefinition
    ) -> None: ...
    def get_authorization(
        self, authorization_id: str, version: int | None = None
    ) -> Authorization | None: ...
    def put_authorization(self, authorization: Authorization) -> None: ...
    def authorizations(self) -> list[Authorization]: ...
    def get_entity(self, entity_id: str) -> AuthorizedEntity | None: ...
    def put_entity(self, entity: AuthorizedEntity) -> None: ...
    def entities(self) -> list[AuthorizedEntity]: ...
    def get_account(self, account_id: str) -> Account | None: ...
    def put_account(self, account: Account) -> None: ...
    def accounts(self) -> list[Account]: ...
    def get_block(self, block_id: int) -> UnitBlock | None: ...
    def put_block(self, block: UnitBlock) -> None: ...
    def supersede_block(self, block_id: int, seq: int) -> None: ...
    def held_blocks(self, account_id: str) -> list[UnitBlock]: ...
    def held_blocks_for(self, account_id: str, selection: UnitSelection) -> Iterator[UnitBlock]: ...
    def active_blocks(self) -> list[UnitBlock]: ...
    def authorized_quantity(self, authorization_id: str) -> int: ...
    def authorized_blocks(self, authorization_id: str) -> list[UnitBlock]: ...
    def overlapping_blocks(self, key: BlockKey, first: int, last: int) -> list[UnitBlock]: ...
    def next_block_id(self) -> int: ...
    def next_serial(self, key: BlockKey) -> int: ...
    def record_block_event(self, event: BlockEvent) -> None: ...
    def block_history(self, key: BlockKey, serial: int) -> list[BlockEvent]: ...
    def put_submission(self, party: str, reported_year: int, version: str, seq: int) -> None: ...
    def submitted_versions(self, party: str, reported_year: int) -> list[str]: ...
    def get_decision(self, decision_id: str) -> Mapping[str, Any] | None:
        """The record of the Joint Committee decision ``decision_id`` (:func:`decision_record`,
        updated by :func:`with_issued`), or None if none was recorded."""
        ...

    def put_decision(self, decision_id: str, record: Mapping[str, Any]) -> None: ...
    def tag_entry(self, seq: int, tags: tuple[str, ...]) -> None:
        """Index entry ``seq`` under ``tags`` (``ledger.registry.entry_tags``)."""
        ...

    def tagged_seqs(self, tags: Iterable[str], end: int) -> list[int]:
        """The seqs below ``end`` of the entries indexed under any of ``tags``, ascending."""
        ...

    def check_stored(self) -> str | None:
        """The first stored row found not to match its digest, the ledger entry it is bound to
        or its table's row count, or None. Storage may check a window of rows per call, resuming
        where the last call stopped (readiness probes); a projection in memory has nothing to
        check."""
        ...


class InMemoryProjection:
    """The projection in memory: used by replay and by unit tests of the services.

    Besides the records it keeps, like storage, the binding of every row (``bindings``, keyed by
    collection and primary key) and the entry that last added a row to each collection
    (``last_insert``), and indexes that keep a replay linear in the number of entries."""

    def __init__(self) -> None:
        self.party_by_code: dict[str, Party] = {}
        self.registry_by_id: dict[str, Registry] = {}
        self.approach_by_id: dict[str, CooperativeApproach] = {}
        self.definition_by_key: dict[tuple[str, str], FirstTransferDefinition] = {}
        self.authorization_by_key: dict[tuple[str, int], Authorization] = {}
        self.entity_by_id: dict[str, AuthorizedEntity] = {}
        self.account_by_id: dict[str, Account] = {}
        self.block_by_id: dict[int, UnitBlock] = {}
        self.superseded: dict[int, int] = {}
        self.events: list[BlockEvent] = []
        self.submissions: dict[tuple[str, int, str], int] = {}
        self.decisions: dict[str, Mapping[str, Any]] = {}
        self.binding: Binding = UNBOUND
        self.bindings: dict[tuple[str, tuple[Any, ...]], Binding] = {}
        self.last_insert: dict[str, Binding] = {}
        self._latest_version: dict[str, int] = {}
        self._next_block_id = 1
        self._next_serial: dict[BlockKey, int] = {}
        self._authorized: dict[str, int] = {}  # authorization id -> units in active blocks
        self.tagged: dict[str, list[int]] = {}  # the entry index: tag -> seqs, ascending

    def bind_entry(self, seq: int, entry_hash: bytes) -> None:
        self.binding = (seq, entry_hash)

    def _wrote(self, collection: str, key: tuple[Any, ...], new: bool) -> None:
        self.bindings[(collection, key)] = self.binding
        if new:
            self.last_insert[collection] = self.binding

    def get_party(self, code: str) -> Party | None:
        return self.party_by_code.get(code)

    def put_party(self, party: Party) -> None:
        self._wrote(PARTY, (party.code,), party.code not in self.party_by_code)
        self.party_by_code[party.code] = party

    def parties(self) -> list[Party]:
        return [self.party_by_code[k] for k in sorted(self.party_by_code)]

    def get_registry(self, registry_id: str) -> Registry | None:
        return self.registry_by_id.get(registry_id)

    def put_registry(self, registry: Registry) -> None:
        new = registry.registry_id not in self.registry_by_id
        self._wrote(REGISTRY, (registry.registry_id,), new)
        self.registry_by_id[registry.registry_id] = registry

    def registries(self) -> list[Registry]:
        return [self.registry_by_id[k] for k in sorted(self.registry_by_id)]

    def get_cooperative_approach(self, ca_id: str) -> CooperativeApproach | None:
        return self.approach_by_id.get(ca_id)

    def put_cooperative_approach(self, approach: CooperativeApproach) -> None:
        new = approach.ca_id not in self.approach_by_id
        self._wrote(COOPERATIVE_APPROACH, (approach.ca_id,), new)
        self.approach_by_id[approach.ca_id] = approach

    def cooperative_approaches(self) -> list[CooperativeApproach]:
        return [self.approach_by_id[k] for k in sorted(self.approach_by_id)]

    def get_first_transfer_definition(
        self, party: str, ca_id: str
    ) -> FirstTransferDefinition | None:
        return self.definition_by_key.get((party, ca_id))

    def put_first_transfer_definition(
        self, party: str, ca_id: str, definition: FirstTransferDefinition
    ) -> None:
        new = (party, ca_id) not in self.definition_by_key
        self._wrote(FIRST_TRANSFER_DEFINITION, (party, ca_id), new)
        self.definition_by_key[(party, ca_id)] = definition

    def get_authorization(
        self, authorization_id: str, version: int | None = None
    ) -> Authorization | None:
        if version is None:
            version = self._latest_version.get(authorization_id)
            if version is None:
                return None
        return self.authorization_by_key.get((authorization_id, version))

    def put_authorization(self, authorization: Authorization) -> None:
        key = (authorization.authorization_id, authorization.version)
        self._wrote(AUTHORIZATION, key, key not in self.authorization_by_key)
        self.authorization_by_key[key] = authorization
        latest = self._latest_version.get(authorization.authorization_id)
        if latest is None or authorization.version > latest:
            self._latest_version[authorization.authorization_id] = authorization.version

    def authorizations(self) -> list[Authorization]:
        return [self.authorization_by_key[k] for k in sorted(self.authorization_by_key)]

    def get_entity(self, entity_id: str) -> AuthorizedEntity | None:
        return self.entity_by_id.get(entity_id)

    def put_entity(self, entity: AuthorizedEntity) -> None:
        new = entity.entity_id not in self.entity_by_id
        self._wrote(AUTHORIZED_ENTITY, (entity.entity_id,), new)
        self.entity_by_id[entity.entity_id] = entity

    def entities(self) -> list[AuthorizedEntity]:
        return [self.entity_by_id[k] for k in sorted(self.entity_by_id)]

    def get_account(self, account_id: str) -> Account | None:
        return self.account_by_id.get(account_id)

    def put_account(self, account: Account) -> None:
        new = account.account_id not in self.account_by_id
        self._wrote(ACCOUNT, (account.account_id,), new)
        self.account_by_id[account.account_id] = account

    def accounts(self) -> list[Account]:
        return [self.account_by_id[k] for k in sorted(self.account_by_id)]

    def get_block(self, block_id: int) -> UnitBlock | None:
        return self.block_by_id.get(block_id)

    def put_block(self, block: UnitBlock) -> None:
        old = self.block_by_id.get(block.block_id)
        self._wrote(UNIT_BLOCK, (block.block_id,), old is None)
        active = block.block_id not in self.superseded
        if old is not None and active:
            self._count_authorized(old, -1)
        self.block_by_id[block.block_id] = block
        if active:
            self._count_authorized(block, +1)
        self._next_block_id = max(self._next_block_id, block.block_id + 1)
        key = block_key(block)
        self._next_serial[key] = max(self._next_serial.get(key, 1), block.last + 1)

    def _count_authorized(self, block: UnitBlock, sign: int) -> None:
        if block.authorization_id is not None:
            total = self._authorized.get(block.authorization_id, 0)
            self._authorized[block.authorization_id] = total + sign * block.quantity

    def supersede_block(self, block_id: int, seq: int) -> None:
        self._wrote(UNIT_BLOCK, (block_id,), False)
        block = self.block_by_id.get(block_id)
        if block is not None and block_id not in self.superseded:
            self._count_authorized(block, -1)
        self.superseded[block_id] = seq

    def active_blocks(self) -> list[UnitBlock]:
        return sorted(
            (b for i, b in self.block_by_id.items() if i not in self.superseded),
            key=lambda b: b.block_id,
        )

    def held_blocks(self, account_id: str) -> list[UnitBlock]:
        return [b for b in self.active_blocks() if b.account_id == account_id and not b.retired]

    def held_blocks_for(self, account_id: str, selection: UnitSelection) -> Iterator[UnitBlock]:
        """Held blocks that may match ``selection``, in selection order (oldest vintage first)."""
        from ledger.registry.rules import selection_order

        yield from sorted(self.held_blocks(account_id), key=selection_order)

    def authorized_quantity(self, authorization_id: str) -> int:
        return self._authorized.get(authorization_id, 0)

    def authorized_blocks(self, authorization_id: str) -> list[UnitBlock]:
        return [b for b in self.active_blocks() if b.authorization_id == authorization_id]

    def overlapping_blocks(self, key: BlockKey, first: int, last: int) -> list[UnitBlock]:
        return [
            b
            for b in self.active_blocks()
            if block_key(b) == key and b.first <= last and b.last >= first
        ]

    def next_block_id(self) -> int:
        return self._next_block_id

    def next_serial(self, key: BlockKey) -> int:
        return self._next_serial.get(key, 1)

    def record_block_event(self, event: BlockEvent) -> None:
        self.events.append(event)

    def tag_entry(self, seq: int, tags: tuple[str, ...]) -> None:
        for tag in tags:
            self.tagged.setdefault(tag, []).append(seq)

    def tagged_seqs(self, tags: Iterable[str], end: int) -> list[int]:
        found = {seq for tag in tags for seq in self.tagged.get(tag, ()) if seq < end}
        return sorted(found)

    def check_stored(self) -> str | None:
        return None

    def block_history(self, key: BlockKey, serial: int) -> list[BlockEvent]:
        ids = {
            b.block_id
            for b in self.block_by_id.values()
            if block_key(b) == key and b.first <= serial <= b.last
        }
        return [e for e in self.events if e.block_id in ids and e.first <= serial <= e.last]

    def put_submission(self, party: str, reported_year: int, version: str, seq: int) -> None:
        key = (party, reported_year, version)
        self._wrote(AEF_SUBMISSION, key, key not in self.submissions)
        self.submissions[key] = seq

    def submitted_versions(self, party: str, reported_year: int) -> list[str]:
        """Versions of the Party's AEF submitted for the year, in the order submitted."""
        found = [
            (seq, version)
            for (p, year, version), seq in self.submissions.items()
            if (p, year) == (party, reported_year)
        ]
        return [version for _, version in sorted(found)]

    def get_decision(self, decision_id: str) -> Mapping[str, Any] | None:
        return self.decisions.get(decision_id)

    def put_decision(self, decision_id: str, record: Mapping[str, Any]) -> None:
        self._wrote(JC_DECISION, (decision_id,), decision_id not in self.decisions)
        self.decisions[decision_id] = record


def apply_entry(
    repo: ProjectionRepository,
    seq: int,
    kind: str,
    payload: Mapping[str, Any],
    entry_hash: bytes | None = None,
) -> None:
    """Apply one entry's effect on the projection, binding the rows it writes to the entry
    (``entry_hash`` given). Entries of kinds the projection does not track (log notes, tokens,
    reports other than AEF submissions) change nothing."""
    if entry_hash is not None:
        repo.bind_entry(seq, entry_hash)
    if kind == "party.registered":
        repo.put_party(ndc.registered_party(payload["party"]))
    elif kind in ("ndc.declared", "ndc.amended"):
        party = repo.get_party(payload["party"])
        assert party is not None
        declaration = from_json(NdcDeclaration, payload["ndc"])
        repo.put_party(
            ndc.with_declared(party, declaration)
            if kind == "ndc.declared"
            else ndc.with_amended(party, declaration, payload["version"])
        )
    elif kind == "registry.registered":
        repo.put_registry(from_json(Registry, payload["registry"]))
    elif kind == "cooperative_approach.registered":
        repo.put_cooperative_approach(from_json(CooperativeApproach, payload["approach"]))
    elif kind == "first_transfer_definition.declared":
        repo.put_first_transfer_definition(
            payload["party"], payload["ca_id"], FirstTransferDefinition(payload["definition"])
        )
    elif kind == "authorization.recorded":
        repo.put_authorization(from_json(Authorization, payload["authorization"]))
    elif kind == "authorized_entity.recorded":
        repo.put_entity(from_json(AuthorizedEntity, payload["entity"]))
    elif kind == "account.opened":
        repo.put_account(from_json(Account, payload["account"]))
    elif kind == AEF_SUBMITTED:
        repo.put_submission(payload["party"], payload["reported_year"], payload["version"], seq)
    elif kind == JC_DECISION_RECORDED:
        repo.put_decision(str(payload["decision"]["decision_id"]), decision_record(payload, seq))
    elif kind == ISSUED and isinstance(reference := payload.get("decision_reference"), str):
        # A reference that names no recorded decision is free text: nothing to count.
        cited = repo.get_decision(reference)
        if cited is not None:
            repo.put_decision(reference, with_issued(cited, payload["blocks"]))
    if "blocks" in payload:
        for block_id in payload.get("superseded", ()):
            repo.supersede_block(block_id, seq)
        written: dict[int, UnitBlock] = {}
        for raw in payload["blocks"]:
            block = from_json(UnitBlock, raw)
            repo.put_block(block)
            written[block.block_id] = block
        for block_id in payload.get("acted", ()):
            acted = written.get(block_id) or repo.get_block(block_id)
            assert acted is not None
            repo.record_block_event(
                BlockEvent(seq, kind, acted.block_id, acted.first, acted.last, acted.account_id)
            )
    tags = entry_tags(kind, payload)
    if tags:
        repo.tag_entry(seq, tags)


def replay(entries: Iterable[bytes]) -> InMemoryProjection:
    """Rebuild the projection from the ledger's canonical entries, from seq 0, re-checking every
    entry against the registry rules: an entry that breaks one raises ``EntryBreaksRule``."""
    from ledger.registry.audit import LedgerAudit

    audit = LedgerAudit()
    for body in entries:
        audit.feed(Entry.from_canonical(body), entry_hash(body))
    audit.finish()
    return audit.state
