"""Signed exports: a contiguous range of the log that an auditor verifies offline, forever,
trusting only the log's verifier key (verifiable-log.md §5).

Format ``a6ledger-export/v2`` (written since issue 12; v1 is still verified)
============================================================================

v2 is v1 with the per-entry ``proofs.jsonl`` replaced by one proof for the whole range, so that
an export of any size is written and verified as a stream, in memory that does not grow with
it, and costs about one node hash per entry instead of log2(tree size):

``first.tlog-proof`` and ``last.tlog-proof``
    The C2SP tlog-proof bundles (``c2sp.org/tlog-proof@v1``, ``ledger.log.tlog_proof``) of the
    first and the last exported entry, each with the signed checkpoint of ``checkpoint.txt``
    verbatim. Each verifies on its own with any tlog-proof implementation. Together with the
    entries they prove the whole range: every subtree of the checkpoint's tree that holds no
    exported entry, but whose parent does, is on one of the two paths, and every other node is
    computed from the entries (``ledger.log.merkle_range``); the root so computed must be the
    checkpoint's. It is exactly the set of nodes the per-entry proofs would have used.

The manifest's ``format`` is ``a6ledger-export/v2``, its ``formats.proof`` is
``c2sp.org/tlog-proof@v1+range``, and its ``files`` list ``first.tlog-proof`` and
``last.tlog-proof`` instead of ``proofs.jsonl``; everything else is as in v1. The ZIP archive
holds the members in the order they are written (``entries.jsonl``, the two proofs,
``checkpoint.txt``, ``consistency.json``, ``manifest.json``, ``manifest.sig``), each with fixed
timestamps and modes; ``entries.jsonl`` is written with a ZIP64 data descriptor, since its size
is not known before it is streamed. Verification stops at the first fault as in v1, in the same
order, and still names an altered entry by its seq: the first and the last entry are checked
against their own tlog-proofs, and a link of the hash chain that fails at seq N means line N-1 or
line N was altered; whether line N+1 links to line N tells which (for the last line, its proof
does). The range root is compared with the checkpoint's once the last entry is read.

Format ``a6ledger-export/v1``
=============================

An export is a set of members, named byte strings: ``ledger.log.export_build`` makes them and
``ledger.log.export_verify`` checks them. Their container is file handling, in
``ledger.adapters.export_files``: one deterministic ZIP archive (sorted names, fixed timestamps,
so the same content always gives the same bytes), or the directory it was unpacked into. Every
JSON document in an export is RFC 8785 canonical JSON (``ledger.log.canonical``): integers and
strings only, sorted keys, no insignificant whitespace.

``entries.jsonl``
    The canonical bytes of the entries ``seq = start .. end-1``, one per line, each followed by
    ``\\n``. Each line is exactly a Merkle leaf (RFC 9162 leaf hash = SHA-256(0x00 ‖ line)) and
    the input of the entry hash of the hash chain (``ledger.log.chain``).

``checkpoint.txt``
    The signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note, Ed25519) of the tree of
    size ``tree_size >= end`` that every entry is proven against.

``proofs.jsonl``
    One line per entry, in the same order::

        {"audit_path":[<base64 hash>, ...],"leaf_index":<seq>,"tree_size":<tree_size>}

    the RFC 9162 §2.1.3 inclusion proof (leaf level first) of that entry in the checkpoint's
    tree. Every line can be checked on its own by any RFC 9162 implementation, so every entry is
    proven individually and a failure names the entry. (A whole-tree export would not need
    them, but with them the verifier can always say *which* entry does not belong.)

``consistency.json`` (only when the export was asked for with a previous tree size)
    ``{"first":<previous size>,"previous_checkpoint":"<signed note>","proof":[<base64>, ...],
    "second":<tree_size>}``: the log's signed checkpoint at the previous size and the RFC 9162
    §2.1.4 consistency proof that the exported checkpoint's tree extends it. An auditor who kept
    the previous checkpoint (e.g. from the previous export) compares it with this one.

``manifest.json``
    One canonical JSON object followed by ``\\n``::

        {"created_at": "<UTC timestamp>", "files": {<name>: {"sha256": <hex>, "size": <bytes>}},
         "filters": {"end": <end>, "start": <start>}, "first_seq": <start>,
         "format": "a6ledger-export/v1",
         "formats": {"checkpoint": "c2sp.org/tlog-checkpoint", "entry": 1,
                     "proof": "rfc9162-inclusion", "signature": "c2sp.org/signed-note+ed25519"},
         "key_id": "<8 hex digits>", "key_name": "<log key name>", "last_seq": <end - 1>,
         "origin": "<checkpoint origin>", "previous_tree_size": <size or null>,
         "root_hash": "<base64>", "row_count": <end - start>,
         "time_range": {"first": <timestamp of seq start>, "last": <timestamp of seq end-1>},
         "tree_size": <tree_size>}

    ``files`` lists every other member except ``manifest.sig``.

``manifest.sig``
    A C2SP signed note by the log key whose text is two lines::

        a6ledger-export-manifest/v1
        <SHA-256 of manifest.json, 64 lower-case hex digits>

    The header line separates this signature from every other note the log key signs (a
    checkpoint has at least three lines and a decimal second line), as tlog-cosignature does with
    ``cosignature/v1``.

Verification (``ledger.log.export_verify``) checks, in this order, and stops at the first failure
with an :class:`ExportInvalid` naming the file, and the entry seq where there is one: the
archive's members; the manifest signature and its digest of ``manifest.json``; the manifest's
fields and file list; the checkpoint signature and that it is the manifest's checkpoint; every
entry (canonical, ``seq`` consecutive from ``start``, ``prev_hash`` = entry hash of the entry
before it, genesis ``prev_hash`` at seq 0, its inclusion proof against the checkpoint root); the
row count and time range; the consistency proof and the previous checkpoint's signature; finally
each file's size and SHA-256 against the manifest. Content is checked before file digests so
that an altered entry is reported by its seq rather than only as an altered file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ledger.errors import IntegrityError, InvalidInput, ProofError
from ledger.log.canonical import JsonValue
from ledger.log.chain import ENTRY_FORMAT_VERSION

EXPORT_FORMAT = "a6ledger-export/v1"
"""``format`` of a v1 manifest (per-entry proofs)."""

EXPORT_FORMAT_V2 = "a6ledger-export/v2"
"""``format`` of a v2 manifest (one proof for the range): what exports are written in."""

MANIFEST_SIGNATURE_HEADER = "a6ledger-export-manifest/v1"
"""First line of the note text in ``manifest.sig``."""

FORMATS: Mapping[str, JsonValue] = {
    "checkpoint": "c2sp.org/tlog-checkpoint",
    "entry": ENTRY_FORMAT_VERSION,
    "proof": "rfc9162-inclusion",
    "signature": "c2sp.org/signed-note+ed25519",
}
"""Versions of the formats inside a v1 export (manifest ``formats``)."""

FORMATS_V2: Mapping[str, JsonValue] = {**FORMATS, "proof": "c2sp.org/tlog-proof@v1+range"}
"""Versions of the formats inside a v2 export (manifest ``formats``)."""

ENTRIES_FILE = "entries.jsonl"
CHECKPOINT_FILE = "checkpoint.txt"
PROOFS_FILE = "proofs.jsonl"
FIRST_PROOF_FILE = "first.tlog-proof"
LAST_PROOF_FILE = "last.tlog-proof"
CONSISTENCY_FILE = "consistency.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_SIGNATURE_FILE = "manifest.sig"
TLOG_PROOFS_FILE = "tlog-proofs.jsonl"
AEF_FILE = "aef.json"

EXPORT_FILES = frozenset(
    {
        ENTRIES_FILE,
        CHECKPOINT_FILE,
        PROOFS_FILE,
        FIRST_PROOF_FILE,
        LAST_PROOF_FILE,
        CONSISTENCY_FILE,
        MANIFEST_FILE,
        MANIFEST_SIGNATURE_FILE,
        TLOG_PROOFS_FILE,
        AEF_FILE,
    }
)
"""Every member name an export may hold (``tlog-proofs.jsonl`` and ``aef.json`` only in a
filtered export, ``ledger.accounting.party_export``)."""

REQUIRED_LISTED = (CHECKPOINT_FILE, ENTRIES_FILE, PROOFS_FILE)
"""Members every v1 manifest must list."""

VERSIONS: Mapping[str, tuple[Mapping[str, JsonValue], frozenset[str]]] = {
    EXPORT_FORMAT: (FORMATS, frozenset(REQUIRED_LISTED)),
    EXPORT_FORMAT_V2: (
        FORMATS_V2,
        frozenset({CHECKPOINT_FILE, ENTRIES_FILE, FIRST_PROOF_FILE, LAST_PROOF_FILE}),
    ),
}
"""Each export format: its manifest ``formats`` and the members its manifest must list (and
the only proof members it may list)."""

MANIFEST_KEYS = frozenset(
    {
        "created_at",
        "files",
        "filters",
        "first_seq",
        "format",
        "formats",
        "key_id",
        "key_name",
        "last_seq",
        "origin",
        "previous_tree_size",
        "root_hash",
        "row_count",
        "time_range",
        "tree_size",
    }
)
"""The members of ``manifest.json``, all required."""

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ExportRangeInvalid(InvalidInput):
    """An export needs 0 <= start < end <= tree size, and a previous tree size in 1..tree size."""

    problem_type = "export-range-invalid"
    title = (
        "An export needs 0 <= start < end <= tree size, and a previous tree size in 1..tree size"
    )
    rule = "export-range"


class ExportSourceInvalid(IntegrityError):
    """The log's own entries, nodes or proofs do not reproduce its root: nothing was signed."""

    problem_type = "export-source-invalid"
    title = "The log's own entries, nodes or proofs do not reproduce its root: nothing was signed"
    rule = "export-source"


class ExportInvalid(ProofError):
    """An export does not verify. ``file`` names the member, ``seq`` the entry where relevant."""

    problem_type = "export-invalid"
    title = "An export does not verify"
    rule = "export"

    def __init__(self, message: str, *, file: str, seq: int | None = None, **details: Any) -> None:
        where = file if seq is None else f"{file}, entry seq {seq}"
        super().__init__(f"{where}: {message}", file=file, seq=seq, **details)
        self.file = file
        self.seq = seq


class ExportFormatInvalid(ExportInvalid):
    """The archive, a member or a manifest field is malformed, missing or unexpected."""

    problem_type = "export-format-invalid"
    title = "The archive, a member or a manifest field is malformed, missing or unexpected"
    rule = "export-format"


class ExportSignatureInvalid(ExportInvalid):
    """A signed note in the export (manifest or checkpoint) does not verify with the log key."""

    problem_type = "export-signature-invalid"
    title = "A signed note in the export (manifest or checkpoint) does not verify with the log key"
    rule = "export-signature"


class ExportFileHashMismatch(ExportInvalid):
    """A member's size or SHA-256 differs from the one the signed manifest lists."""

    problem_type = "export-file-hash-mismatch"
    title = "A member's size or SHA-256 differs from the one the signed manifest lists"
    rule = "export-file-hash"


class ExportEntryInvalid(ExportInvalid):
    """An exported entry is not canonical, out of sequence, or breaks the hash chain."""

    problem_type = "export-entry-invalid"
    title = "An exported entry is not canonical, out of sequence, or breaks the hash chain"
    rule = "export-entry"


class ExportInclusionInvalid(ExportInvalid):
    """An entry's inclusion proof does not lead to the signed checkpoint's root."""

    problem_type = "export-inclusion-invalid"
    title = "An entry's inclusion proof does not lead to the signed checkpoint's root"
    rule = "export-inclusion"


class ExportConsistencyInvalid(ExportInvalid):
    """The consistency proof from the previous checkpoint does not verify."""

    problem_type = "export-consistency-invalid"
    title = "The consistency proof from the previous checkpoint does not verify"
    rule = "export-consistency"


# --------------------------------------------------------------------------------------------
# The signed manifest
# --------------------------------------------------------------------------------------------


def manifest_signature_text(manifest: bytes) -> str:
    """The note text ``manifest.sig`` signs: the header line and the SHA-256 of ``manifest``."""
    return f"{MANIFEST_SIGNATURE_HEADER}\n{hashlib.sha256(manifest).hexdigest()}\n"
