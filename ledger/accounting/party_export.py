"""Filtered signed exports: the entries one Party's AEF of one reported year is built from, each
with its C2SP tlog-proof against one signed checkpoint, the AEF tables derived from them, and a
signed manifest recording the filter. ``a6ledger verify-export``
(``ledger.accounting.party_export_verify``) re-derives the tables from the entries and refuses an
export whose tables differ.

Format ``a6ledger-export/party-v1``
===================================

Members (ZIP as for v2, ``ledger.adapters.export_files``; JSON is RFC 8785 canonical):

``entries.jsonl``
    The canonical bytes of the selected entries, in ``seq`` order, one per line. The selection
    (rule ``a6ledger-party-aef/v1``) is what the Party's reports read
    (:func:`ledger.accounting.reporting.replay.party_entries`): every reference entry (Parties,
    NDC periods, registries, approaches, authorizations, entities, accounts: tag ``*`` of
    :mod:`ledger.registry.entry_tags`) and every entry indexed under the Party, an account of one
    of its registries or one of its authorizations, below the checkpoint's tree size. The year
    does not narrow the entries: an action dated in the year may be recorded later, and the
    holdings at 31 December replay from the whole history; it chooses the AEF tables.
``tlog-proofs.jsonl``
    One line per entry, in the same order: ``{"seq":<seq>,"tlog_proof":"<bundle>"}`` where the
    bundle is the entry's ``c2sp.org/tlog-proof@v1`` text (``ledger.log.tlog_proof``), holding
    the signed checkpoint of ``checkpoint.txt`` verbatim: each one verifies on its own with any
    tlog-proof implementation (``jq -r .tlog_proof`` extracts it).
``aef.json``
    ``ledger.accounting.aef.to_json`` of the Party's AEF for the year, built from the selected
    entries exactly as ``GET .../aef/{year}`` builds a draft: the next version after those
    submitted within the entries, dated on the UTC day of the manifest's ``created_at``.
``checkpoint.txt``, ``consistency.json`` (optional), ``manifest.sig``
    As in v2 (``ledger.log.export_format``); the checkpoint carries the witnesses'
    cosignatures when the export was asked for against the cosigned checkpoint.
``manifest.json``
    ``{"created_at", "files", "filters": {"party": <code>, "year": <year>}, "format":
    "a6ledger-export/party-v1", "formats", "key_id", "key_name", "origin",
    "previous_tree_size", "root_hash", "row_count": <entries>, "selection": {"first_seq",
    "last_seq", "rule": "a6ledger-party-aef/v1", "seqs_sha256": <hex>}, "time_range": {"first",
    "last"}, "tree_size"}``. ``seqs_sha256`` is the SHA-256 of the selected seqs, each as 8
    bytes big-endian, in order.

What a filtered export proves, and what it does not
===================================================

It proves that every entry in it is in the log whose checkpoint the log key signed (and the
witnesses cosigned, with ``--witness``), that every entry concerns the Party (a reference entry,
or one whose tags name the Party, its accounts or its authorizations, as the verifier
recomputes from the entries themselves), that the entries are exactly the ones the signed
manifest lists (count and digest of their seqs: none dropped, none added after signing), and
that the AEF tables are the ones these entries give.

It does **not** prove that the selection is complete: an inclusion proof shows an entry is in
the log, not that the log holds no other entry about the Party. A server that left an entry out
when it signed the manifest would produce a filtered export that verifies. Completeness needs
the whole log: a full export (or the tlog-tiles) of the same tree size proves every entry, and
the selection rule is a pure function of the entries (``ledger.registry.entry_tags``), so an
auditor who holds both can recompute the selection and compare its count and ``seqs_sha256``.
Entries are not contiguous, so the hash chain is not checked within a filtered export.

Memory: the builder reads the entries in batches (three passes: the AEF derivation, which runs
before the first byte so that every refusal is a problem document, then the entries, then the
proofs, one inclusion proof query per entry) and holds the list of selected seqs and the Party's
replayed projection (its registries, accounts, authorizations and blocks), not the entries; the
verifier holds the same projection. Both grow with the Party's state, not with the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from ledger.accounting import aef
from ledger.accounting.reporting.aef_report import build_report
from ledger.accounting.reporting.inputs import check_year
from ledger.accounting.reporting.replay import party_tags, read
from ledger.accounting.reporting.scan import PartyScan
from ledger.errors import InvalidInput, PartyNotFound
from ledger.log import note, witness
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry, format_timestamp
from ledger.log.encoding import b64encode
from ledger.log.export_build import consistency_member, json_file, utc_now
from ledger.log.export_format import (
    AEF_FILE,
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    FORMATS,
    TLOG_PROOFS_FILE,
    ExportInvalid,
    ExportRangeInvalid,
    ExportSourceInvalid,
)
from ledger.log.export_stream import Member, manifest_members, recorded
from ledger.log.merkle import InclusionProofInvalid, leaf_hash, verify_inclusion
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_proof import format_tlog_proof
from ledger.registry.entry_tags import REFERENCE, entry_tags
from ledger.registry.projection import InMemoryProjection, apply_entry

PARTY_EXPORT_FORMAT = "a6ledger-export/party-v1"
"""``format`` of a filtered export's manifest."""

SELECTION_RULE = "a6ledger-party-aef/v1"
"""How the entries were selected (module docstring)."""

PARTY_FORMATS: dict[str, JsonValue] = {
    **FORMATS,
    "aef": "4/CMA.6 annex II tables as ledger.accounting.aef.to_json",
    "proof": "c2sp.org/tlog-proof@v1",
}
"""Versions of the formats inside a filtered export (manifest ``formats``)."""

MANIFEST_KEYS = frozenset(
    {
        "created_at",
        "files",
        "filters",
        "format",
        "formats",
        "key_id",
        "key_name",
        "origin",
        "previous_tree_size",
        "root_hash",
        "row_count",
        "selection",
        "time_range",
        "tree_size",
    }
)
REQUIRED_FILES = frozenset({ENTRIES_FILE, TLOG_PROOFS_FILE, AEF_FILE, CHECKPOINT_FILE})
READ_BATCH = 500
"""Entries read per query (the most bodies the builder holds at once)."""


class ExportSelectionMismatch(ExportInvalid):
    """The entries of a filtered export are not the ones its signed manifest lists."""

    problem_type = "export-selection-mismatch"
    title = "The entries of a filtered export are not the ones its signed manifest lists"
    rule = "export-selection"


class ExportAefMismatch(ExportInvalid):
    """The AEF tables of a filtered export are not the ones its entries give."""

    problem_type = "export-aef-mismatch"
    title = "The AEF tables of a filtered export are not the ones its entries give"
    rule = "export-aef"


class ExportFilterInvalid(InvalidInput):
    """A filtered export needs both a Party and a year, and no seq range."""

    problem_type = "export-filter-invalid"
    title = "A filtered export needs both a Party and a year, and no seq range"
    rule = "export-filter"


def check_filter(
    party: str | None, year: int | None, start: int = 0, end: int | None = None
) -> tuple[str, int]:
    """The Party and year of a filtered export; :class:`ExportFilterInvalid` unless both are
    given and the range is the default one."""
    if party is None or year is None:
        raise ExportFilterInvalid(
            "a filtered export needs both party and year", party=party, year=year
        )
    if start != 0 or end is not None:
        raise ExportFilterInvalid(
            "a filtered export selects the Party's entries up to the tree size; start and end "
            "select a range of a whole export instead",
            start=start,
            end=end,
        )
    return party, check_year("year", year)


# --------------------------------------------------------------------------------------------
# The selection and the derivation, shared by the builder and the verifier
# --------------------------------------------------------------------------------------------


class SeqDigest:
    """SHA-256 of the selected seqs, each as 8 bytes big-endian, and their count."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.count = 0
        self.first: int | None = None
        self.last: int | None = None

    def add(self, seq: int) -> None:
        self._digest.update(seq.to_bytes(8, "big"))
        self.count += 1
        if self.first is None:
            self.first = seq
        self.last = seq

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


_REFERENCE_WRITERS = frozenset({"registry.registered", "account.opened", "authorization.recorded"})
"""Reference entries that can change which tags are the Party's."""


class PartyAef:
    """Reads the selected entries in ``seq`` order: refuses one that does not concern the Party
    (:meth:`concerns`), and replays the others into the Party's scan for ``year``."""

    def __init__(self, party: str, year: int, tree_size: int) -> None:
        self.party, self.year = party, year
        self.scan = PartyScan(party, year)
        self.scan.end = tree_size
        self._tags = {f"party:{party}"}

    def concerns(self, entry: Entry) -> bool:
        tags = entry_tags(entry.kind, entry.payload)
        return REFERENCE in tags or not self._tags.isdisjoint(tags)

    def add(self, entry: Entry) -> None:
        read(self.scan, entry)
        if entry.kind in _REFERENCE_WRITERS:
            self._tags = party_tags(self.scan.state, self.party)

    def report(self, created: date) -> aef.AefReport:
        if self.scan.state.get_party(self.party) is None:
            raise PartyNotFound(f"Party {self.party} is not registered", party=self.party)
        version = f"1.{len(self.scan.submissions_of(self.year))}"
        return build_report(self.scan, version, created)


def aef_member(report: aef.AefReport) -> bytes:
    """``aef.json``: the report's tables as canonical JSON."""
    tables: dict[str, Any] = aef.to_json(report)
    return json_file(tables)


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


class SelectionSource(Protocol):
    """What the builder reads: the log's entries by seq, its root and proofs."""

    def size(self) -> int: ...

    def read_seqs(self, seqs: Sequence[int]) -> list[bytes]: ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...

    def read_entries(self, start: int, end: int) -> list[bytes]: ...


class TagIndex(Protocol):
    def tagged_seqs(self, tags: Iterable[str], end: int) -> list[int]: ...


def party_selection(log: SelectionSource, index: TagIndex, party: str, size: int) -> list[int]:
    """The seqs below ``size`` a filtered export of ``party`` carries (the reference entries and
    the Party's indexed entries), ascending; :class:`PartyNotFound` if the Party is not
    registered by then."""
    reference = index.tagged_seqs([REFERENCE], size)
    known = InMemoryProjection()
    for low in range(0, len(reference), READ_BATCH):
        for body in log.read_seqs(reference[low : low + READ_BATCH]):
            entry = Entry.from_canonical(body)
            apply_entry(known, entry.seq, entry.kind, entry.payload)
    if known.get_party(party) is None:
        raise PartyNotFound(
            f"Party {party} is not registered in the tree of size {size}", party=party
        )
    own = index.tagged_seqs(party_tags(known, party), size)
    return sorted(set(reference).union(own))


class PartyExport:
    """The signed filtered export of ``seqs`` (:func:`party_selection`) for ``party`` and
    ``year``, proven against the checkpoint of ``tree_size``. The constructor reads the entries
    once and derives the AEF tables, so every refusal comes before the first byte;
    :meth:`members` then streams, reading them twice more (entries, then proofs)."""

    def __init__(
        self,
        log: SelectionSource,
        seqs: Sequence[int],
        signer: note.Signer,
        origin: str,
        party: str,
        year: int,
        tree_size: int,
        previous_size: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        cosignatures: Sequence[witness.Cosignature] = (),
        witnesses: Sequence[note.Verifier] = (),
        progress: Callable[[int], None] | None = None,
    ) -> None:
        check_year("year", year)
        if not seqs or not all(a < b for a, b in zip(seqs, seqs[1:], strict=False)):
            raise ExportRangeInvalid("a filtered export needs ascending, distinct seqs")
        if seqs[-1] >= tree_size or tree_size > log.size():
            raise ExportRangeInvalid(
                f"the selection must lie within the tree of size {tree_size}, itself within "
                f"the log of size {log.size()}",
                tree_size=tree_size,
            )
        if previous_size is not None and not 0 < previous_size <= tree_size:
            raise ExportRangeInvalid(
                f"previous tree size {previous_size} must be in 1..{tree_size}",
                previous_size=previous_size,
                tree_size=tree_size,
            )
        self._log, self._seqs, self._signer, self._origin = log, seqs, signer, origin
        self.party, self.year, self.tree_size = party, year, tree_size
        self._previous_size, self._progress = previous_size, progress
        self.created = clock()
        self.root_hash = log.root(tree_size)
        derived = PartyAef(party, year, tree_size)
        digest = SeqDigest()
        stamps: list[str] = []
        for entry in self._entries():
            if not derived.concerns(entry):
                raise ExportSourceInvalid(
                    f"the entry index selects entry {entry.seq} for Party {party}, which it "
                    "does not concern (`a6ledger verify-db` names the index rows that differ)",
                    seq=entry.seq,
                )
            derived.add(entry)
            digest.add(entry.seq)
            if not stamps or entry.seq == seqs[-1]:
                stamps.append(format_timestamp(entry.timestamp))
        self._aef = aef_member(derived.report(self.created.date()))
        self._digest, self._time_range = digest, (stamps[0], stamps[-1])
        self._consistency = (
            None
            if previous_size is None
            else consistency_member(log, signer, origin, previous_size, tree_size, self.root_hash)
        )
        signed = sign_checkpoint(Checkpoint(origin, tree_size, self.root_hash), [signer])
        self._checkpoint = (
            witness.cosigned_note(signed, cosignatures, witnesses) if cosignatures else signed
        )
        self._records: dict[str, JsonValue] = {}

    def _bodies(self) -> Iterator[list[bytes]]:
        seqs = self._seqs
        for low in range(0, len(seqs), READ_BATCH):
            wanted = seqs[low : low + READ_BATCH]
            bodies = self._log.read_seqs(wanted)
            if len(bodies) != len(wanted):
                raise ExportSourceInvalid(
                    f"the log returned {len(bodies)} of the {len(wanted)} entries asked for",
                    seq=wanted[0],
                )
            yield bodies

    def _entries(self) -> Iterator[Entry]:
        position = 0
        for bodies in self._bodies():
            for body in bodies:
                entry = Entry.from_canonical(body)
                if entry.seq != self._seqs[position]:
                    raise ExportSourceInvalid(
                        f"the log returned entry {entry.seq} for seq {self._seqs[position]}",
                        seq=self._seqs[position],
                    )
                position += 1
                yield entry

    def members(self) -> Iterator[Member]:
        yield ENTRIES_FILE, recorded(self._records, ENTRIES_FILE, self._entry_lines())
        yield TLOG_PROOFS_FILE, recorded(self._records, TLOG_PROOFS_FILE, self._proof_lines())
        for name, data in (
            (AEF_FILE, self._aef),
            (CHECKPOINT_FILE, self._checkpoint.encode("utf-8")),
            (CONSISTENCY_FILE, self._consistency),
        ):
            if data is not None:
                yield name, recorded(self._records, name, iter((data,)))
        yield from manifest_members(self._manifest(), self._signer)

    def _entry_lines(self) -> Iterator[bytes]:
        for bodies in self._bodies():
            yield b"".join(body + b"\n" for body in bodies)

    def _proof_lines(self) -> Iterator[bytes]:
        size, root, log, position = self.tree_size, self.root_hash, self._log, 0
        for bodies in self._bodies():
            lines = []
            for body in bodies:
                seq = self._seqs[position]
                position += 1
                proof = log.inclusion_proof(seq, size)
                try:
                    verify_inclusion(leaf_hash(body), seq, size, proof, root)
                except InclusionProofInvalid as exc:
                    raise ExportSourceInvalid(
                        f"the log's inclusion proof of entry {seq} does not verify: {exc.message}",
                        seq=seq,
                    ) from exc
                bundle = format_tlog_proof(seq, proof, self._checkpoint)
                lines.append(json_file({"seq": seq, "tlog_proof": bundle}))
            yield b"".join(lines)
            if self._progress is not None:
                self._progress(len(bodies))

    def _manifest(self) -> bytes:
        digest = self._digest
        return json_file(
            {
                "created_at": format_timestamp(self.created),
                "files": dict(sorted(self._records.items())),
                "filters": {"party": self.party, "year": self.year},
                "format": PARTY_EXPORT_FORMAT,
                "formats": PARTY_FORMATS,
                "key_id": f"{self._signer.key_id:08x}",
                "key_name": self._signer.name,
                "origin": self._origin,
                "previous_tree_size": self._previous_size,
                "root_hash": b64encode(self.root_hash),
                "row_count": digest.count,
                "selection": {
                    "first_seq": digest.first,
                    "last_seq": digest.last,
                    "rule": SELECTION_RULE,
                    "seqs_sha256": digest.hexdigest(),
                },
                "time_range": {"first": self._time_range[0], "last": self._time_range[1]},
                "tree_size": self.tree_size,
            }
        )
