"""Building a signed export in format ``a6ledger-export/v2`` (``ledger.log.export_format``) as a
stream: the entries are read from the log in batches and handed on as they come, so the memory
an export takes does not grow with its size. ``ledger.adapters.export_files`` writes the members
into a ZIP archive as they are produced, to a file or to an HTTP response.

Everything that can be refused is checked before the first byte: the range, the log's boundary
proofs and the consistency proof. The entries are then checked against the log's root as they
stream (:class:`ledger.log.merkle_range.RangeRoot`); the checkpoint, the proofs and the manifest
are signed only after the last entry, when the root they imply is the log's, so a log whose
entries do not reproduce its root never gets a signed export (the stream stops with
:class:`ledger.log.export_format.ExportSourceInvalid` before anything is signed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from ledger.log import note, witness
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry, format_timestamp
from ledger.log.encoding import b64encode
from ledger.log.export_build import LogReader, check_range, consistency_member, json_file, utc_now
from ledger.log.export_format import (
    CHECKPOINT_FILE,
    CONSISTENCY_FILE,
    ENTRIES_FILE,
    EXPORT_FORMAT_V2,
    FIRST_PROOF_FILE,
    FORMATS_V2,
    LAST_PROOF_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    ExportRangeInvalid,
    ExportSourceInvalid,
    manifest_signature_text,
)
from ledger.log.merkle import leaf_hash
from ledger.log.merkle_range import RangeProofInvalid, RangeRoot
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_proof import format_tlog_proof

READ_BATCH = 2000
"""Entries read from the log per query: the most bodies the builder holds at once."""

Member = tuple[str, Iterator[bytes]]
"""A member's name and its bytes, in chunks; consume each one before asking for the next."""


class StreamedExport:
    """The signed v2 export of entries ``[start, end)`` of ``log``, proven against the checkpoint
    of the log's current size, or of ``tree_size`` when given (and, with ``previous_size``,
    consistent with the checkpoint of that size). The constructor reads and checks everything
    but the entries, raising :class:`ExportRangeInvalid` or :class:`ExportSourceInvalid`;
    :meth:`members` then streams.

    ``cosignatures`` are the witnesses' recorded cosignatures of that checkpoint: their lines
    are appended to the note in ``checkpoint.txt`` (and in the proofs that carry it), so that
    ``verify-export --witness VKEY --require K`` finds them in the export itself; each one by a
    key in ``witnesses`` is verified again first (:func:`ledger.log.witness.cosigned_note`).
    ``progress`` is called with the number of entries handed on after each batch."""

    def __init__(
        self,
        log: LogReader,
        signer: note.Signer,
        origin: str,
        start: int,
        end: int,
        previous_size: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        batch: int = READ_BATCH,
        *,
        tree_size: int | None = None,
        cosignatures: Sequence[witness.Cosignature] = (),
        witnesses: Sequence[note.Verifier] = (),
        progress: Callable[[int], None] | None = None,
    ) -> None:
        size = log.size()
        if tree_size is not None:
            if isinstance(tree_size, bool) or not 0 < tree_size <= size:
                raise ExportRangeInvalid(
                    f"tree size {tree_size!r} is not in 1..{size}, the log's size",
                    tree_size=tree_size,
                    log_size=size,
                )
            size = tree_size
        check_range(start, end, size, previous_size)
        self.tree_size = size
        self.root_hash = log.root(size)
        self.start, self.end = start, end
        self._log, self._signer, self._origin = log, signer, origin
        self._previous_size, self._clock, self._batch = previous_size, clock, max(1, batch)
        self._first_proof = log.inclusion_proof(start, size)
        self._last_proof = log.inclusion_proof(end - 1, size)
        try:
            self._range = RangeRoot(start, end, size, self._first_proof, self._last_proof)
        except RangeProofInvalid as exc:
            raise ExportSourceInvalid(
                f"the log's boundary proofs are malformed: {exc.message}", tree_size=size
            ) from exc
        self._consistency = (
            None
            if previous_size is None
            else consistency_member(log, signer, origin, previous_size, size, self.root_hash)
        )
        self._cosignatures, self._witnesses = tuple(cosignatures), tuple(witnesses)
        self._progress = progress
        self._records: dict[str, JsonValue] = {}
        self._timestamps: list[str] = []

    def members(self) -> Iterator[Member]:
        """The members in the order they are written; each is signed only once the entries
        before it have reproduced the log's root."""
        yield ENTRIES_FILE, recorded(self._records, ENTRIES_FILE, self._entries())
        root = self._range_root()
        checkpoint = sign_checkpoint(
            Checkpoint(origin=self._origin, size=self.tree_size, root_hash=root), [self._signer]
        )
        if self._cosignatures:
            checkpoint = witness.cosigned_note(checkpoint, self._cosignatures, self._witnesses)
        for name, index, proof in (
            (FIRST_PROOF_FILE, self.start, self._first_proof),
            (LAST_PROOF_FILE, self.end - 1, self._last_proof),
        ):
            bundle = format_tlog_proof(index, proof, checkpoint).encode("utf-8")
            yield name, recorded(self._records, name, iter((bundle,)))
        yield (
            CHECKPOINT_FILE,
            recorded(self._records, CHECKPOINT_FILE, iter((checkpoint.encode("utf-8"),))),
        )
        if self._consistency is not None:
            data = self._consistency
            yield CONSISTENCY_FILE, recorded(self._records, CONSISTENCY_FILE, iter((data,)))
        yield from manifest_members(self._manifest(), self._signer)

    def _entries(self) -> Iterator[bytes]:
        log, start, end, step = self._log, self.start, self.end, self._batch
        add = self._range.add
        for low in range(start, end, step):
            high = min(low + step, end)
            bodies = log.read_entries(low, high)
            if len(bodies) != high - low:
                raise ExportSourceInvalid(
                    f"the log returned {len(bodies)} entries for [{low}, {high})",
                    start=low,
                    end=high,
                )
            for body in bodies:
                add(leaf_hash(body))
            if low == start:
                self._timestamps.append(_timestamp(bodies[0]))
            if high == end:
                self._timestamps.append(_timestamp(bodies[-1]))
            yield b"".join(body + b"\n" for body in bodies)
            if self._progress is not None:
                self._progress(len(bodies))

    def _range_root(self) -> bytes:
        root = self._range.root  # RangeProofInvalid here would mean entries were skipped
        if root != self.root_hash:
            raise ExportSourceInvalid(
                f"the entries [{self.start}, {self.end}) and the log's proofs lead to root "
                f"{b64encode(root)}, not the log's root {b64encode(self.root_hash)} at size "
                f"{self.tree_size}",
                tree_size=self.tree_size,
            )
        return root

    def _manifest(self) -> bytes:
        first, last = self._timestamps[0], self._timestamps[-1]
        return json_file(
            {
                "created_at": format_timestamp(self._clock()),
                "files": dict(sorted(self._records.items())),
                "filters": {"end": self.end, "start": self.start},
                "first_seq": self.start,
                "format": EXPORT_FORMAT_V2,
                "formats": FORMATS_V2,
                "key_id": f"{self._signer.key_id:08x}",
                "key_name": self._signer.name,
                "last_seq": self.end - 1,
                "origin": self._origin,
                "previous_tree_size": self._previous_size,
                "root_hash": b64encode(self.root_hash),
                "row_count": self.end - self.start,
                "time_range": {"first": first, "last": last},
                "tree_size": self.tree_size,
            }
        )


def _timestamp(body: bytes) -> str:
    return format_timestamp(Entry.from_canonical(body).timestamp)


def recorded(records: dict[str, JsonValue], name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The member ``name``'s ``chunks``, passed on as they are read; once the last is read, its
    SHA-256 and size go to ``records[name]``, as the manifest's ``files`` lists them."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    records[name] = {"sha256": digest.hexdigest(), "size": size}


def manifest_members(manifest: bytes, signer: note.Signer) -> Iterator[Member]:
    """The last two members: ``manifest.json`` and ``manifest.sig``, its signature by the log
    key ``signer``."""
    yield MANIFEST_FILE, iter((manifest,))
    signature = note.sign_note(manifest_signature_text(manifest), [signer])
    yield MANIFEST_SIGNATURE_FILE, iter((signature.encode("utf-8"),))
