"""Verifying a filtered export (format ``a6ledger-export/party-v1``, and what it proves:
``ledger.accounting.party_export``) with the log's verifier key alone: each entry's tlog-proof,
that each entry concerns the Party, the selection the signed manifest lists, and the AEF tables,
re-derived from the entries with the same pure code the server uses. No web framework, no
database: ``a6ledger verify-export`` runs it in the verifier's minimal install.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from ledger.accounting import aef
from ledger.accounting.party_export import (
    MANIFEST_KEYS,
    PARTY_EXPORT_FORMAT,
    PARTY_FORMATS,
    REQUIRED_FILES,
    SELECTION_RULE,
    ExportAefMismatch,
    ExportSelectionMismatch,
    PartyAef,
    SeqDigest,
    aef_member,
)
from ledger.accounting.reporting.inputs import check_year
from ledger.errors import LedgerError
from ledger.log import note
from ledger.log.chain import Entry, MalformedEntry, format_timestamp, parse_timestamp
from ledger.log.export_format import (
    AEF_FILE,
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    MANIFEST_FILE,
    TLOG_PROOFS_FILE,
    ExportEntryInvalid,
    ExportFormatInvalid,
    ExportInclusionInvalid,
    ExportInvalid,
)
from ledger.log.export_manifest import JSON_LIMIT_ERRORS, Fields, file_record, parse_json_file
from ledger.log.export_verify import (
    MAX_ENTRY_BYTES,
    MemberSource,
    Progress,
    check_file_hashes,
    check_listing,
    check_trusted,
    checked_signed_manifest,
    manifest_checkpoint,
    verify_consistency_member,
)
from ledger.log.merkle import InclusionProofInvalid, leaf_hash, verify_inclusion
from ledger.log.tlog_proof import MalformedProofBundle, parse_tlog_proof


@dataclass(frozen=True, slots=True)
class PartyExportReport:
    """What a verified filtered export proves (module docstring: and what it does not)."""

    origin: str
    tree_size: int
    root_hash: bytes
    key_name: str
    key_id: int
    party: str
    year: int
    row_count: int
    first_seq: int
    last_seq: int
    first_timestamp: str
    last_timestamp: str
    seqs_sha256: str
    aef_rows: dict[str, int]
    """Rows per AEF table, by table title."""
    created_at: str
    previous_size: int | None
    previous_root_hash: bytes | None
    files: tuple[str, ...]


def is_party_export(source: MemberSource) -> bool:
    """Whether ``source``'s manifest says it is a filtered export (nothing is verified here)."""
    if MANIFEST_FILE not in source.names():
        return False
    try:
        fields = parse_json_file(source.read(MANIFEST_FILE), MANIFEST_FILE)
    except ExportInvalid:
        return False
    return isinstance(fields, dict) and fields.get("format") == PARTY_EXPORT_FORMAT


@dataclass(frozen=True, slots=True)
class _Manifest:
    created_at: str
    files: dict[str, tuple[str, int]]
    party: str
    year: int
    origin: str
    key_name: str
    key_id: str
    previous_size: int | None
    root_hash: bytes
    row_count: int
    first_seq: int
    last_seq: int
    seqs_sha256: str
    first_timestamp: str
    last_timestamp: str
    tree_size: int


def _parse_manifest(data: bytes) -> _Manifest:
    fields = Fields(parse_json_file(data, MANIFEST_FILE), "manifest", MANIFEST_FILE, MANIFEST_KEYS)
    if fields.raw("format") != PARTY_EXPORT_FORMAT:
        raise fields.fail(f"format must be {PARTY_EXPORT_FORMAT!r}")
    if fields.raw("formats") != PARTY_FORMATS:
        raise fields.fail(f"formats must be {PARTY_FORMATS!r}, got {fields.raw('formats')!r}")
    filters = fields.obj("filters", frozenset({"party", "year"}))
    selection = fields.obj("selection", frozenset({"first_seq", "last_seq", "rule", "seqs_sha256"}))
    if selection.raw("rule") != SELECTION_RULE:
        raise selection.fail(f"rule must be {SELECTION_RULE!r}")
    time_range = fields.obj("time_range", frozenset({"first", "last"}))
    listing = fields.raw("files")
    if not isinstance(listing, dict):
        raise fields.fail("files must be an object of file name to size and SHA-256")
    files: dict[str, tuple[str, int]] = {}
    for name in sorted(listing):
        if name not in REQUIRED_FILES | {CONSISTENCY_FILE}:
            raise fields.fail(f"files lists {name!r}, which a filtered export may not list")
        files[name] = file_record(listing, name)
    for name in sorted(REQUIRED_FILES - set(files)):
        raise fields.fail(f"files does not list the required member {name}")
    previous_size = fields.optional_integer("previous_tree_size")
    tree_size = fields.integer("tree_size")
    if (previous_size is None) != (CONSISTENCY_FILE not in files):
        raise fields.fail(
            f"{CONSISTENCY_FILE} must be listed exactly when previous_tree_size is set"
        )
    seqs_sha256 = selection.text("seqs_sha256")
    first_seq, last_seq = selection.integer("first_seq"), selection.integer("last_seq")
    row_count = fields.integer("row_count")
    if not (0 < row_count and first_seq <= last_seq < tree_size):
        raise fields.fail(
            f"row_count {row_count} and seqs {first_seq}..{last_seq} do not fit a selection "
            f"within the tree of size {tree_size}"
        )
    year = filters.integer("year")
    try:
        check_year("year", year)
    except LedgerError as exc:
        raise filters.fail(exc.message) from exc
    return _Manifest(
        created_at=fields.timestamp("created_at"),
        files=files,
        party=filters.text("party"),
        year=year,
        origin=fields.text("origin"),
        key_name=fields.text("key_name"),
        key_id=fields.text("key_id"),
        previous_size=previous_size,
        root_hash=fields.hash("root_hash"),
        row_count=row_count,
        first_seq=first_seq,
        last_seq=last_seq,
        seqs_sha256=seqs_sha256,
        first_timestamp=time_range.timestamp("first"),
        last_timestamp=time_range.timestamp("last"),
        tree_size=tree_size,
    )


def _lines(source: MemberSource, name: str, digests: dict[str, tuple[int, str]]) -> Iterator[bytes]:
    """The lines of member ``name`` as it streams; its size and SHA-256 go to ``digests``."""
    digest, size, rest = hashlib.sha256(), 0, b""
    for chunk in source.chunks(name):
        digest.update(chunk)
        size += len(chunk)
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_ENTRY_BYTES:
            raise ExportFormatInvalid(f"a line is longer than {MAX_ENTRY_BYTES} bytes", file=name)
        yield from lines
    if rest:
        raise ExportFormatInvalid("the last line does not end with a newline", file=name)
    digests[name] = (size, digest.hexdigest())


def _proof_of(line: bytes, seq: int, checkpoint_bytes: bytes) -> tuple[bytes, ...]:
    fields = Fields(
        parse_json_file(line, TLOG_PROOFS_FILE, seq),
        "proof line",
        TLOG_PROOFS_FILE,
        frozenset({"seq", "tlog_proof"}),
        seq,
    )
    if fields.integer("seq") != seq:
        raise fields.fail(f"is the proof of seq {fields.integer('seq')}, not of seq {seq}")
    try:
        bundle = parse_tlog_proof(fields.text("tlog_proof"))
    except MalformedProofBundle as exc:
        raise ExportInclusionInvalid(exc.message, file=TLOG_PROOFS_FILE, seq=seq) from exc
    if bundle.index != seq or bundle.extra is not None:
        raise fields.fail(f"its tlog-proof proves leaf {bundle.index} or carries extra data")
    if bundle.signed_checkpoint.encode("utf-8") != checkpoint_bytes:
        raise fields.fail(f"its tlog-proof's checkpoint is not the export's {CHECKPOINT_FILE}")
    return bundle.proof


def verify_party_export(
    source: MemberSource,
    verifier: note.Verifier,
    trusted_checkpoint: str | None = None,
    progress: Progress | None = None,
) -> PartyExportReport:
    """Verify a filtered export with the log key ``verifier``: the manifest signature, the
    checkpoint, each entry's tlog-proof, that each entry concerns the Party, the count and digest
    of the seqs, the time range, the consistency proof, the AEF tables re-derived from the
    entries, then each member's size and SHA-256. Stops at the first fault with an
    :class:`ExportInvalid` naming the member (and the entry seq)."""
    manifest = _parse_manifest(checked_signed_manifest(source, verifier))
    check_listing(source.names(), manifest.files, (manifest.key_name, manifest.key_id), verifier)
    checkpoint_bytes, checkpoint = manifest_checkpoint(
        source, verifier, manifest.origin, manifest.tree_size, manifest.root_hash
    )

    streamed: dict[str, tuple[int, str]] = {}
    derived = PartyAef(manifest.party, manifest.year, checkpoint.size)
    digest = SeqDigest()
    stamps: list[str] = []
    previous_seq = -1
    proofs = _lines(source, TLOG_PROOFS_FILE, streamed)
    for line in _lines(source, ENTRIES_FILE, streamed):
        position = digest.count
        try:
            entry = Entry.from_canonical(line)
        except (MalformedEntry, *JSON_LIMIT_ERRORS) as exc:
            reason = exc.message if isinstance(exc, MalformedEntry) else str(exc)
            raise ExportEntryInvalid(
                f"line {position + 1} is not a canonical ledger entry: {reason}",
                file=ENTRIES_FILE,
            ) from exc
        seq = entry.seq
        if not previous_seq < seq < checkpoint.size:
            raise ExportEntryInvalid(
                f"line {position + 1} holds seq {seq}, not after seq {previous_seq} and below "
                f"the tree size {checkpoint.size}",
                file=ENTRIES_FILE,
                seq=seq,
            )
        proof_line = next(proofs, None)
        if proof_line is None:
            raise ExportInclusionInvalid(
                "there is no tlog-proof line for this entry", file=TLOG_PROOFS_FILE, seq=seq
            )
        proof = _proof_of(proof_line, seq, checkpoint_bytes)
        try:
            verify_inclusion(leaf_hash(line), seq, checkpoint.size, proof, checkpoint.root_hash)
        except InclusionProofInvalid as exc:
            raise ExportInclusionInvalid(
                "the entry is not proven in the signed checkpoint by its tlog-proof: the entry "
                f"or the proof was altered; {exc.message}",
                file=ENTRIES_FILE,
                seq=seq,
            ) from exc
        if not derived.concerns(entry):
            raise ExportSelectionMismatch(
                f"the entry ({entry.kind}) does not concern Party {manifest.party}: it is no "
                "reference entry and names none of the Party's accounts or authorizations",
                file=ENTRIES_FILE,
                seq=seq,
            )
        try:
            derived.add(entry)
        except LedgerError as exc:
            raise ExportAefMismatch(
                f"the AEF cannot be derived from the entries: {exc.message}",
                file=ENTRIES_FILE,
                seq=seq,
            ) from exc
        digest.add(seq)
        if position == 0:
            stamps.append(format_timestamp(entry.timestamp))
        last_stamp = entry.timestamp
        previous_seq = seq
        if progress is not None and digest.count % 1000 == 0:
            progress(digest.count, manifest.row_count)
    if next(proofs, None) is not None:
        raise ExportInclusionInvalid("more tlog-proof lines than entries", file=TLOG_PROOFS_FILE)
    if (digest.count, digest.first, digest.last, digest.hexdigest()) != (
        manifest.row_count,
        manifest.first_seq,
        manifest.last_seq,
        manifest.seqs_sha256,
    ):
        raise ExportSelectionMismatch(
            f"the file holds {digest.count} entries (seqs {digest.first}..{digest.last}, "
            f"SHA-256 {digest.hexdigest()}), the signed manifest lists {manifest.row_count} "
            f"(seqs {manifest.first_seq}..{manifest.last_seq}, SHA-256 {manifest.seqs_sha256}): "
            "an entry was dropped, added or replaced",
            file=ENTRIES_FILE,
        )
    if progress is not None:
        progress(digest.count, manifest.row_count)
    if (stamps[0], format_timestamp(last_stamp)) != (
        manifest.first_timestamp,
        manifest.last_timestamp,
    ):
        raise ExportFormatInvalid("time_range is not the entries'", file=MANIFEST_FILE)
    previous: tuple[int, bytes] | None = None
    if manifest.previous_size is not None:
        previous = verify_consistency_member(
            source.read(CONSISTENCY_FILE), manifest.previous_size, checkpoint, verifier
        )
    if trusted_checkpoint is not None:
        check_trusted(trusted_checkpoint, verifier, checkpoint, previous)
    created = parse_timestamp(manifest.created_at).date()
    try:
        report = derived.report(created)
    except LedgerError as exc:
        raise ExportAefMismatch(
            f"the AEF cannot be derived from the entries: {exc.message}", file=AEF_FILE
        ) from exc
    expected = aef_member(report)
    carried = source.read(AEF_FILE)
    if carried != expected:
        raise ExportAefMismatch(_first_difference(carried, expected), file=AEF_FILE)
    check_file_hashes(
        manifest.files, streamed, lambda name: carried if name == AEF_FILE else source.read(name)
    )
    return PartyExportReport(
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=verifier.name,
        key_id=verifier.key_id,
        party=manifest.party,
        year=manifest.year,
        row_count=digest.count,
        first_seq=manifest.first_seq,
        last_seq=manifest.last_seq,
        first_timestamp=manifest.first_timestamp,
        last_timestamp=manifest.last_timestamp,
        seqs_sha256=manifest.seqs_sha256,
        aef_rows={table.value: len(report.rows(table)) for table in aef.AefTable},
        created_at=manifest.created_at,
        previous_size=None if previous is None else previous[0],
        previous_root_hash=None if previous is None else previous[1],
        files=tuple(sorted(source.names())),
    )


def _first_difference(carried: bytes, expected: bytes) -> str:
    """Which AEF table differs between the carried ``aef.json`` and the derived one."""
    try:
        have = parse_json_file(carried, AEF_FILE)
    except ExportInvalid:
        return "is not the canonical JSON of the tables the entries give"
    want = parse_json_file(expected, AEF_FILE)
    if isinstance(have, dict):
        for table in aef.AefTable:
            if have.get(table.value) != want.get(table.value):
                return (
                    f"table {table.value!r} is not the one the entries give: the tables were "
                    "altered, or entries were left out"
                )
    return "is not the canonical JSON of the tables the entries give"
