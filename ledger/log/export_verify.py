"""Verifying a signed export (format and check order: ``ledger.log.export_format``) from its
members as bytes, with the log's verifier key only. Reading them from a ZIP archive or a directory
is ``ledger.adapters.export_files``. No web framework, no database: this is the offline verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from ledger.log import note
from ledger.log.chain import (
    GENESIS_PREV_HASH,
    MalformedEntry,
    entry_fields,
    entry_hash,
    format_timestamp,
)
from ledger.log.chain_run import check_run
from ledger.log.encoding import b64encode
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    EXPORT_FILES,
    EXPORT_FORMAT_V2,
    FIRST_PROOF_FILE,
    LAST_PROOF_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    MANIFEST_SIGNATURE_HEADER,
    PROOFS_FILE,
    ExportConsistencyInvalid,
    ExportEntryInvalid,
    ExportFileHashMismatch,
    ExportFormatInvalid,
    ExportInclusionInvalid,
    ExportSignatureInvalid,
    manifest_signature_text,
)
from ledger.log.export_manifest import (
    JSON_LIMIT_ERRORS,
    Fields,
    Manifest,
    parse_json_file,
    parse_manifest,
)
from ledger.log.keys import SIGNATURE_TYPE_ED25519, InvalidKey
from ledger.log.merkle import (
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.log.merkle_range import RangeProofInvalid, RangeRoot
from ledger.log.tlog_checkpoint import Checkpoint, MalformedCheckpoint
from ledger.log.tlog_proof import MalformedProofBundle, parse_tlog_proof


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What a verified export proves."""

    origin: str
    tree_size: int
    root_hash: bytes
    key_name: str
    key_id: int
    start: int
    end: int
    row_count: int
    first_timestamp: str
    last_timestamp: str
    head_hash: bytes
    """Entry hash of the last exported entry (the chain head at ``end``)."""
    created_at: str
    previous_size: int | None
    previous_root_hash: bytes | None
    files: tuple[str, ...]


def log_verifier(vkey: str) -> note.Verifier:
    """The verifier of the log's key text ``vkey``: an Ed25519 (type 0x01) key, not a cosigner's.

    Raises :class:`ledger.log.keys.InvalidKey` for any other key text.
    """
    verifier = note.Verifier(vkey)
    if verifier.signature_type != SIGNATURE_TYPE_ED25519:
        raise InvalidKey(
            f"{verifier.name}+{verifier.key_id:08x} is a cosigner key; an export is verified "
            "with the log's Ed25519 (type 0x01) key"
        )
    return verifier


def verify_export_files(
    files: Mapping[str, bytes], vkey: str, trusted_checkpoint: str | None = None
) -> ExportReport:
    """Verify an export, given as its members, with the log's verifier key only (the checks and
    their order are in ``ledger.log.export_format``).

    ``trusted_checkpoint`` is a signed checkpoint the auditor kept from before (e.g. the one
    published with the last report): the export must then prove, with its consistency proof,
    that its tree extends exactly that one, so rewritten history cannot pass even if it was
    signed with the log's key.

    Raises :class:`ExportInvalid` (a :class:`ledger.errors.ProofError`) naming the file, and the
    entry seq where there is one; :class:`ledger.log.keys.InvalidKey` if ``vkey`` is not usable.
    """
    return verify_members(files, log_verifier(vkey), trusted_checkpoint)


class MemberSource(Protocol):
    """Where the verifier reads an export's members: a ZIP archive, a directory, or bytes in
    memory. Reading faults (a corrupt archive) are raised as :class:`ExportFormatInvalid`."""

    def names(self) -> Collection[str]:
        """The names of the members present (each once)."""
        ...

    def read(self, name: str) -> bytes:
        """A whole (small) member."""
        ...

    def chunks(self, name: str) -> Iterator[bytes]:
        """A member as consecutive chunks of bounded size, for members of any size."""
        ...


class MappingSource:
    """The members given as bytes."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = files

    def names(self) -> Collection[str]:
        return self._files.keys()

    def read(self, name: str) -> bytes:
        return self._files[name]

    def chunks(self, name: str) -> Iterator[bytes]:
        data = self._files[name]
        for offset in range(0, len(data), READ_CHUNK):
            yield data[offset : offset + READ_CHUNK]


READ_CHUNK = 1 << 20
"""Bytes of ``entries.jsonl`` the streaming verifier reads at a time."""

MAX_ENTRY_BYTES = 16 << 20
"""The longest entry line the streaming verifier accepts (16 MiB), so that a file without
newlines cannot make it buffer without bound."""


def verify_members(
    files: Mapping[str, bytes], verifier: note.Verifier, trusted_checkpoint: str | None = None
) -> ExportReport:
    """:func:`verify_export_files` with the key already parsed by :func:`log_verifier`."""
    return verify_source(MappingSource(files), verifier, trusted_checkpoint)


Progress = Callable[[int, int], None]
"""Called as entries are verified, with the number verified so far and the number listed."""


def verify_source(
    source: MemberSource,
    verifier: note.Verifier,
    trusted_checkpoint: str | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    """Verify the export ``source`` reads (v1 or v2) with the log key ``verifier``; v2 entries
    are streamed, in memory that does not grow with the export, and ``progress`` is told how
    many are verified after each chunk."""
    present_names = frozenset(source.names())
    manifest = parse_manifest(checked_signed_manifest(source, verifier))
    check_listing(present_names, manifest.files, (manifest.key_name, manifest.key_id), verifier)
    checkpoint_bytes, checkpoint = manifest_checkpoint(
        source, verifier, manifest.origin, manifest.tree_size, manifest.root_hash
    )
    # What was read whole, and the size and SHA-256 of what was streamed.
    members: dict[str, bytes] = {CHECKPOINT_FILE: checkpoint_bytes}
    streamed: dict[str, tuple[int, str]] = {}
    if manifest.format == EXPORT_FORMAT_V2:
        head_hash, streamed[ENTRIES_FILE] = _verify_range(
            source, manifest, checkpoint, checkpoint_bytes, progress
        )
    else:
        for name in (ENTRIES_FILE, PROOFS_FILE):
            members[name] = source.read(name)
        head_hash = _verify_entries(members, manifest, checkpoint)
    previous: tuple[int, bytes] | None = None
    if manifest.previous_size is not None:
        members[CONSISTENCY_FILE] = source.read(CONSISTENCY_FILE)
        previous = verify_consistency_member(
            members[CONSISTENCY_FILE], manifest.previous_size, checkpoint, verifier
        )
    if trusted_checkpoint is not None:
        check_trusted(trusted_checkpoint, verifier, checkpoint, previous)
    check_file_hashes(
        manifest.files,
        streamed,
        lambda name: members[name] if name in members else source.read(name),
    )
    return ExportReport(
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=verifier.name,
        key_id=verifier.key_id,
        start=manifest.start,
        end=manifest.end,
        row_count=manifest.row_count,
        first_timestamp=manifest.first_timestamp,
        last_timestamp=manifest.last_timestamp,
        head_hash=head_hash,
        created_at=manifest.created_at,
        previous_size=None if previous is None else previous[0],
        previous_root_hash=None if previous is None else previous[1],
        files=tuple(sorted(present_names)),
    )


def checked_signed_manifest(source: MemberSource, verifier: note.Verifier) -> bytes:
    """:func:`signed_manifest`, once every member present is shown to be one an export may
    have and the manifest and its signature to be there."""
    names = frozenset(source.names())
    for name in sorted(names):
        if name not in EXPORT_FILES:
            raise ExportFormatInvalid(f"unexpected member {name!r}", file=name)
    for name in (MANIFEST_SIGNATURE_FILE, MANIFEST_FILE):
        if name not in names:
            raise ExportFormatInvalid("the export has no such member", file=name)
    return signed_manifest(source, verifier)


def check_listing(
    names: Collection[str],
    listed: Collection[str],
    key: tuple[str, str],
    verifier: note.Verifier,
) -> None:
    """The signed manifest names ``key`` (its ``key_name`` and ``key_id``), the key of
    ``verifier``, and lists (``listed``) exactly the members present (``names``) besides
    itself and its signature."""
    if key != (verifier.name, f"{verifier.key_id:08x}"):
        raise ExportFormatInvalid(
            f"names the key {key[0]}+{key[1]}, but it was signed by "
            f"{verifier.name}+{verifier.key_id:08x}",
            file=MANIFEST_FILE,
        )
    present = set(names) - {MANIFEST_FILE, MANIFEST_SIGNATURE_FILE}
    for name in sorted(set(listed) | present):
        if name not in present:
            raise ExportFormatInvalid("listed in the manifest but missing", file=name)
        if name not in listed:
            raise ExportFormatInvalid("present but not listed in the signed manifest", file=name)


def manifest_checkpoint(
    source: MemberSource, verifier: note.Verifier, origin: str, tree_size: int, root_hash: bytes
) -> tuple[bytes, Checkpoint]:
    """``checkpoint.txt`` (its bytes and the checkpoint), signed by ``verifier`` and for the
    ``origin``, ``tree_size`` and ``root_hash`` the signed manifest names."""
    checkpoint_bytes = source.read(CHECKPOINT_FILE)
    checkpoint = open_signed_checkpoint(
        checkpoint_bytes, verifier, CHECKPOINT_FILE, "the checkpoint"
    )
    if (checkpoint.origin, checkpoint.size, checkpoint.root_hash) != (
        origin,
        tree_size,
        root_hash,
    ):
        raise ExportFormatInvalid(
            f"the checkpoint ({checkpoint.origin}, size {checkpoint.size}, root "
            f"{b64encode(checkpoint.root_hash)}) is not the manifest's ({origin}, size "
            f"{tree_size}, root {b64encode(root_hash)})",
            file=CHECKPOINT_FILE,
        )
    return checkpoint_bytes, checkpoint


def check_file_hashes(
    listed: Mapping[str, tuple[str, int]],
    streamed: Mapping[str, tuple[int, str]],
    read: Callable[[str], bytes],
) -> None:
    """Each member the manifest lists (``listed``: SHA-256 and size by name) has that size and
    SHA-256: as measured while it streamed (``streamed``: size and SHA-256 by name) or else of
    its bytes as ``read`` gives them."""
    for name, (digest, size) in sorted(listed.items()):
        if name in streamed:
            actual_size, actual = streamed[name]
        else:
            data = read(name)
            actual_size, actual = len(data), hashlib.sha256(data).hexdigest()
        if (actual_size, actual) != (size, digest):
            raise ExportFileHashMismatch(
                f"{actual_size} bytes with SHA-256 {actual}, but the "
                f"signed manifest lists {size} bytes with SHA-256 {digest}",
                file=name,
            )


def signed_manifest(source: MemberSource, verifier: note.Verifier) -> bytes:
    """``manifest.json``, once ``manifest.sig`` is shown to be the log key's signature of it."""
    manifest_bytes = source.read(MANIFEST_FILE)
    text, _signatures = open_signed(
        source.read(MANIFEST_SIGNATURE_FILE),
        verifier,
        MANIFEST_SIGNATURE_FILE,
        "the manifest signature",
    )
    header, _newline, _digest = text.partition("\n")
    if header != MANIFEST_SIGNATURE_HEADER:
        raise ExportFormatInvalid(
            f"the signed text does not start with {MANIFEST_SIGNATURE_HEADER!r}",
            file=MANIFEST_SIGNATURE_FILE,
        )
    if text != manifest_signature_text(manifest_bytes):
        raise ExportFileHashMismatch(
            "its SHA-256 is not the one signed in manifest.sig: the manifest was altered",
            file=MANIFEST_FILE,
        )
    return manifest_bytes


def open_signed(
    data: bytes | str, verifier: note.Verifier, file: str, what: str
) -> tuple[str, tuple[note.NoteSignature, ...]]:
    try:
        return note.open_note(data, [verifier])
    except note.MalformedNote as exc:
        raise ExportFormatInvalid(
            f"{what} is not a C2SP signed note: {exc.message}", file=file
        ) from exc
    except (note.SignatureInvalid, note.NoKnownSignature) as exc:
        raise ExportSignatureInvalid(
            f"{what} does not verify with {verifier.name}+{verifier.key_id:08x}: {exc.message}",
            file=file,
        ) from exc


def open_signed_checkpoint(
    data: bytes | str, verifier: note.Verifier, file: str, what: str
) -> Checkpoint:
    text, _signatures = open_signed(data, verifier, file, what)
    try:
        return Checkpoint.parse(text)
    except MalformedCheckpoint as exc:
        raise ExportFormatInvalid(f"{what}: {exc.message}", file=file) from exc


def _lines(data: bytes, file: str) -> list[bytes]:
    if data == b"":
        return []
    if not data.endswith(b"\n"):
        raise ExportFormatInvalid("the last line does not end with a newline", file=file)
    return data[:-1].split(b"\n")


class _Fields(NamedTuple):
    """What the verifier needs of an entry (it builds no :class:`ledger.log.chain.Entry`)."""

    seq: int
    prev_hash: bytes
    timestamp: datetime


def _checked_entry(line: bytes, position: int, seq: int, previous_hash: bytes | None) -> _Fields:
    """The entry on line ``position + 1``, which must be canonical, hold ``seq`` and link to
    ``previous_hash`` (when known)."""
    try:
        entry = _Fields(*entry_fields(line))
    except (MalformedEntry, *JSON_LIMIT_ERRORS) as exc:
        reason = exc.message if isinstance(exc, MalformedEntry) else str(exc)
        raise ExportEntryInvalid(
            f"line {position + 1} is not a canonical ledger entry: {reason}",
            file=ENTRIES_FILE,
            seq=seq,
        ) from exc
    if entry.seq != seq:
        raise ExportEntryInvalid(
            f"line {position + 1} holds seq {entry.seq} where seq {seq} belongs: an entry "
            "is missing, repeated or out of order",
            file=ENTRIES_FILE,
            seq=seq,
        )
    if previous_hash is not None and entry.prev_hash != previous_hash:
        raise _chain_broken(seq, entry.prev_hash, previous_hash)
    return entry


def _chain_broken(seq: int, prev_hash: bytes, previous_hash: bytes) -> ExportEntryInvalid:
    link = "the genesis value (32 zero bytes)" if seq == 0 else f"entry seq {seq - 1}"
    return ExportEntryInvalid(
        f"prev_hash {prev_hash.hex()} is not the entry hash of {link} "
        f"({previous_hash.hex()}): the hash chain is broken",
        file=ENTRIES_FILE,
        seq=seq,
    )


def _altered(seq: int, position: int) -> ExportEntryInvalid:
    return ExportEntryInvalid(
        f"line {position + 1} is not the entry that entry seq {seq + 1} links to (its entry "
        f"hash is not their prev_hash), while entry seq {seq + 1} is the one the next entry "
        "links to: this entry was altered",
        file=ENTRIES_FILE,
        seq=seq,
    )


def _verify_range(
    source: MemberSource,
    manifest: Manifest,
    checkpoint: Checkpoint,
    checkpoint_bytes: bytes,
    progress: Progress | None = None,
) -> tuple[bytes, tuple[int, str]]:
    """v2: check every entry as it streams, and that the entries with the two boundary proofs
    lead to the checkpoint's root. Returns the entry hash of the last entry, and the size and
    SHA-256 of ``entries.jsonl``.

    A fault is named by its entry seq: the first and the last entry are checked against their
    own tlog-proofs, and a link of the chain that does not hold at seq N means that line N-1 or
    line N was altered; line N+1 tells which (it links to line N only if line N is intact), or,
    for the last line, its proof does."""
    first = _boundary_proof(source, FIRST_PROOF_FILE, manifest.start, checkpoint_bytes)
    last = _boundary_proof(source, LAST_PROOF_FILE, manifest.end - 1, checkpoint_bytes)
    try:
        tree = RangeRoot(manifest.start, manifest.end, checkpoint.size, first, last)
    except RangeProofInvalid as exc:
        raise ExportInclusionInvalid(
            f"the boundary proofs do not fit the range: {exc.message}", file=FIRST_PROOF_FILE
        ) from exc
    add_leaf, add_leaves, sha256 = tree.add, tree.extend, hashlib.sha256
    start, end = manifest.start, manifest.end
    previous_hash = GENESIS_PREV_HASH
    broken: ExportEntryInvalid | None = None  # the link that failed at the previous line
    digest, size = hashlib.sha256(), 0
    position = 0
    first_entry: _Fields | None = None
    entry: _Fields | None = None
    line = rest = b""
    for chunk in source.chunks(ENTRIES_FILE):
        digest.update(chunk)
        size += len(chunk)
        lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_ENTRY_BYTES:
            raise ExportEntryInvalid(
                f"line {position + 1} is longer than {MAX_ENTRY_BYTES} bytes",
                file=ENTRIES_FILE,
                seq=start + position,
            )
        index, count = 0, len(lines)
        while index < count:
            seq = start + position
            if broken is None and first_entry is not None:
                # The fast path over as many lines as it vouches for; the line it stops at (if
                # any) takes the exact path below, which accepts it or names what is wrong.
                shapes, hexes = check_run(lines, index, seq, previous_hash, end - seq)
                if shapes:
                    accepted = len(shapes)
                    add_leaves(
                        [sha256(b"\x00" + run).digest() for run in lines[index : index + accepted]]
                    )
                    index += accepted
                    position += accepted
                    final = shapes[-1]
                    entry = _Fields(final.seq, bytes.fromhex(final.prev_hash), final.timestamp)
                    previous_hash = bytes.fromhex(hexes[-1])
                    line = lines[index - 1]
                    continue
            line = lines[index]
            index += 1
            if seq >= end:
                raise broken or ExportEntryInvalid(
                    f"line {position + 1} is beyond the last entry seq {end - 1} of "
                    f"the range; the manifest lists {manifest.row_count} entries",
                    file=ENTRIES_FILE,
                    seq=seq,
                )
            try:
                entry = _checked_entry(line, position, seq, None)
            except ExportEntryInvalid:
                if broken is not None:
                    raise broken from None
                raise
            if broken is not None:
                if entry.prev_hash == previous_hash and seq - 2 > start:
                    raise _altered(seq - 2, position - 2)
                raise broken
            if first_entry is None:
                first_entry = entry
                if start == 0 and entry.prev_hash != GENESIS_PREV_HASH:
                    raise _chain_broken(seq, entry.prev_hash, GENESIS_PREV_HASH)
                _check_boundary(line, start, checkpoint, first, FIRST_PROOF_FILE)
            elif entry.prev_hash != previous_hash:
                broken = _chain_broken(seq, entry.prev_hash, previous_hash)
            add_leaf(leaf_hash(line))
            previous_hash = entry_hash(line)
            position += 1
        if progress is not None:
            progress(position, manifest.row_count)
    if rest:
        raise ExportFormatInvalid("the last line does not end with a newline", file=ENTRIES_FILE)
    if broken is not None:
        if position == manifest.row_count and position - 2 > 0:
            last_seq = end - 1
            if _proven(line, last_seq, checkpoint, last):
                raise _altered(last_seq - 1, position - 2)
        raise broken
    if position < manifest.row_count:
        missing = start + position
        raise ExportEntryInvalid(
            f"the file ends after {position} entries; entries seq {missing} to "
            f"{end - 1} are missing",
            file=ENTRIES_FILE,
            seq=missing,
        )
    if tree.root != checkpoint.root_hash:
        _check_boundary(line, end - 1, checkpoint, last, LAST_PROOF_FILE)
        raise ExportInclusionInvalid(
            f"the entries seq {start} to {end - 1} with the boundary proofs lead to root "
            f"{b64encode(tree.root)}, not the signed checkpoint's "
            f"{b64encode(checkpoint.root_hash)}: an entry or a proof was altered",
            file=ENTRIES_FILE,
        )
    assert first_entry is not None
    assert entry is not None
    stamps = (format_timestamp(first_entry.timestamp), format_timestamp(entry.timestamp))
    if stamps != (manifest.first_timestamp, manifest.last_timestamp):
        raise ExportFormatInvalid(
            f"time_range [{manifest.first_timestamp}, {manifest.last_timestamp}] is not the "
            f"entries' [{stamps[0]}, {stamps[1]}]",
            file=MANIFEST_FILE,
        )
    return previous_hash, (size, digest.hexdigest())


def _proven(line: bytes, index: int, checkpoint: Checkpoint, proof: Sequence[bytes]) -> bool:
    try:
        verify_inclusion(leaf_hash(line), index, checkpoint.size, proof, checkpoint.root_hash)
    except InclusionProofInvalid:
        return False
    return True


def _check_boundary(
    line: bytes, index: int, checkpoint: Checkpoint, proof: Sequence[bytes], file: str
) -> None:
    if not _proven(line, index, checkpoint, proof):
        raise ExportInclusionInvalid(
            f"the entry is not proven in the signed checkpoint by its inclusion proof ({file}): "
            "the entry or the proof was altered",
            file=ENTRIES_FILE,
            seq=index,
        )


def _boundary_proof(
    source: MemberSource, file: str, index: int, checkpoint_bytes: bytes
) -> tuple[bytes, ...]:
    """The hashes of the tlog-proof bundle ``file``, which must prove leaf ``index`` in the
    export's own signed checkpoint."""
    try:
        bundle = parse_tlog_proof(source.read(file).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ExportFormatInvalid("not UTF-8 text", file=file) from exc
    except MalformedProofBundle as exc:
        raise ExportFormatInvalid(exc.message, file=file) from exc
    if bundle.index != index or bundle.extra is not None:
        raise ExportInclusionInvalid(
            f"proves leaf {bundle.index}, not the range's leaf {index}"
            if bundle.index != index
            else "carries extra data, which an export's proof never has",
            file=file,
        )
    if bundle.signed_checkpoint.encode("utf-8") != checkpoint_bytes:
        raise ExportInclusionInvalid(
            f"its checkpoint is not the export's {CHECKPOINT_FILE}", file=file
        )
    return bundle.proof


def _verify_entries(
    files: Mapping[str, bytes], manifest: Manifest, checkpoint: Checkpoint
) -> bytes:
    """Check every entry and its proof; return the entry hash of the last entry."""
    entries = _lines(files[ENTRIES_FILE], ENTRIES_FILE)
    proofs = _lines(files[PROOFS_FILE], PROOFS_FILE)
    previous_hash: bytes | None = GENESIS_PREV_HASH if manifest.start == 0 else None
    timestamps: list[str] = []
    proof_keys = frozenset({"audit_path", "leaf_index", "tree_size"})
    for position, line in enumerate(entries):
        seq = manifest.start + position
        if seq >= manifest.end:
            raise ExportEntryInvalid(
                f"line {position + 1} is beyond the last entry seq {manifest.end - 1} of the "
                f"range; the manifest lists {manifest.row_count} entries",
                file=ENTRIES_FILE,
                seq=seq,
            )
        entry = _checked_entry(line, position, seq, previous_hash)
        if position >= len(proofs):
            raise ExportInclusionInvalid(
                f"there is no inclusion proof line for this entry ({len(proofs)} lines)",
                file=PROOFS_FILE,
                seq=seq,
            )
        proof = Fields(
            parse_json_file(proofs[position], PROOFS_FILE, seq),
            f"proof line {position + 1}",
            PROOFS_FILE,
            proof_keys,
            seq,
        )
        index, size = proof.integer("leaf_index"), proof.integer("tree_size")
        if (index, size) != (seq, checkpoint.size):
            raise proof.fail(
                f"proves leaf {index} in a tree of size {size}, not leaf {seq} in the "
                f"checkpoint's tree of size {checkpoint.size}"
            )
        try:
            verify_inclusion(
                leaf_hash(line),
                seq,
                checkpoint.size,
                proof.hashes("audit_path"),
                checkpoint.root_hash,
            )
        except InclusionProofInvalid as exc:
            raise ExportInclusionInvalid(
                f"the entry is not proven in the signed checkpoint by its inclusion proof "
                f"({PROOFS_FILE} line {position + 1}): the entry or the proof was altered; "
                f"{exc.message}",
                file=ENTRIES_FILE,
                seq=seq,
            ) from exc
        previous_hash = entry_hash(line)
        timestamps.append(format_timestamp(entry.timestamp))
    if len(entries) < manifest.row_count:
        missing = manifest.start + len(entries)
        raise ExportEntryInvalid(
            f"the file ends after {len(entries)} entries; entries seq {missing} to "
            f"{manifest.end - 1} are missing",
            file=ENTRIES_FILE,
            seq=missing,
        )
    if len(proofs) > len(entries):
        raise ExportInclusionInvalid(
            f"{len(proofs)} proof lines for {len(entries)} entries", file=PROOFS_FILE
        )
    if (timestamps[0], timestamps[-1]) != (manifest.first_timestamp, manifest.last_timestamp):
        raise ExportFormatInvalid(
            f"time_range [{manifest.first_timestamp}, {manifest.last_timestamp}] is not the "
            f"entries' [{timestamps[0]}, {timestamps[-1]}]",
            file=MANIFEST_FILE,
        )
    assert previous_hash is not None
    return previous_hash


def verify_consistency_member(
    data: bytes, previous_size: int | None, checkpoint: Checkpoint, verifier: note.Verifier
) -> tuple[int, bytes]:
    """``consistency.json``: the previous signed checkpoint of ``previous_size`` (the manifest's)
    and the proof that ``checkpoint`` extends it; returns its size and root."""
    fields = Fields(
        parse_json_file(data, CONSISTENCY_FILE),
        "consistency",
        CONSISTENCY_FILE,
        frozenset({"first", "previous_checkpoint", "proof", "second"}),
    )
    first, second = fields.integer("first"), fields.integer("second")
    if (first, second) != (previous_size, checkpoint.size):
        raise fields.fail(
            f"proves sizes {first} to {second}, not {previous_size} to the "
            f"checkpoint's {checkpoint.size}"
        )
    previous = open_signed_checkpoint(
        fields.text("previous_checkpoint"), verifier, CONSISTENCY_FILE, "previous_checkpoint"
    )
    if previous.origin != checkpoint.origin or previous.size != first:
        raise fields.fail(
            f"previous_checkpoint is for {previous.origin} at size {previous.size}, not "
            f"{checkpoint.origin} at size {first}"
        )
    try:
        verify_consistency(
            first, second, fields.hashes("proof"), previous.root_hash, checkpoint.root_hash
        )
    except ConsistencyProofInvalid as exc:
        raise ExportConsistencyInvalid(
            f"the checkpoint of size {second} is not proven to extend the previous checkpoint "
            f"of size {first}: {exc.message}",
            file=CONSISTENCY_FILE,
        ) from exc
    return first, previous.root_hash


def check_trusted(
    trusted_text: str,
    verifier: note.Verifier,
    checkpoint: Checkpoint,
    previous: tuple[int, bytes] | None,
) -> None:
    trusted = open_signed_checkpoint(
        trusted_text.encode("utf-8"), verifier, "trusted checkpoint", "the trusted checkpoint"
    )
    if trusted.origin != checkpoint.origin:
        raise ExportConsistencyInvalid(
            f"the trusted checkpoint is of {trusted.origin}, not {checkpoint.origin}",
            file=CHECKPOINT_FILE,
        )
    if trusted.size == checkpoint.size:
        if trusted.root_hash != checkpoint.root_hash:
            raise ExportConsistencyInvalid(
                f"the export's tree of size {checkpoint.size} differs from the trusted one: "
                "the log signed two inconsistent checkpoints",
                file=CHECKPOINT_FILE,
            )
        return
    if previous is None or previous[0] != trusted.size:
        raise ExportConsistencyInvalid(
            f"the export carries no consistency proof from the trusted size {trusted.size}: "
            f"ask for it with previous_size={trusted.size}",
            file=CONSISTENCY_FILE,
        )
    if previous[1] != trusted.root_hash:
        raise ExportConsistencyInvalid(
            f"the export's previous checkpoint of size {trusted.size} differs from the trusted "
            "one: the log signed two inconsistent checkpoints",
            file=CONSISTENCY_FILE,
        )
