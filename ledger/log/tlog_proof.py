"""C2SP offline proof bundles (https://c2sp.org/tlog-proof, ``c2sp.org/tlog-proof@v1``): one
entry's inclusion proof with the signed checkpoint it leads to, verifiable offline with the log's
verifier key alone. verifiable-log.md §3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import InvalidInput, ProofError
from ledger.log.encoding import MAX_UINT64, b64decode, b64encode, parse_uint64
from ledger.log.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from ledger.log.note import MalformedNote, Verifier, parse_note
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
"""First line of a tlog-proof bundle."""


class MalformedProofBundle(ProofError):
    """A proof bundle does not follow c2sp.org/tlog-proof@v1."""

    problem_type = "malformed-proof-bundle"
    title = "A proof bundle does not follow c2sp.org/tlog-proof@v1"
    rule = "tlog-proof-format"


@dataclass(frozen=True, slots=True)
class TlogProof:
    """A parsed c2sp.org/tlog-proof@v1 bundle (signatures not yet verified)."""

    index: int
    proof: tuple[bytes, ...]
    signed_checkpoint: str
    extra: bytes | None = None


def format_tlog_proof(
    index: int,
    proof_hashes: Sequence[bytes],
    signed_checkpoint: str,
    extra: bytes | None = None,
) -> str:
    """The proof bundle text (tlog-proof §Format, verifiable-log.md §3).

    Header, optional ``extra`` line, ``index`` line, one base64 hash per line (leaf level first),
    a blank line, then the signed checkpoint verbatim.
    """
    if isinstance(index, bool) or not 0 <= index <= MAX_UINT64:
        raise InvalidInput(f"leaf index {index} is not in 0..2**64-1")
    for position, value in enumerate(proof_hashes):
        if len(value) != HASH_SIZE:
            raise InvalidInput(f"proof hash {position} must be 32 bytes, got {len(value)}")
    if extra is not None and len(extra) == 0:
        raise InvalidInput("extra data, when given, must not be empty")
    parse_note(signed_checkpoint)
    lines = [TLOG_PROOF_HEADER]
    if extra is not None:
        lines.append(f"extra {b64encode(bytes(extra))}")
    lines.append(f"index {index}")
    lines.extend(b64encode(bytes(value)) for value in proof_hashes)
    return "".join(line + "\n" for line in lines) + "\n" + signed_checkpoint


def parse_tlog_proof(bundle: str) -> TlogProof:
    """Parse a proof bundle strictly; the embedded note is only split, not verified."""
    if not isinstance(bundle, str):
        raise MalformedProofBundle("proof bundle must be text")
    header, separator, rest = bundle.partition("\n")
    if header != TLOG_PROOF_HEADER or not separator:
        raise MalformedProofBundle(f"proof bundle must start with the line {TLOG_PROOF_HEADER}")
    line, _newline, rest = rest.partition("\n")
    extra: bytes | None = None
    if line.startswith("extra "):
        extra = b64decode(line[len("extra ") :])
        if not extra:
            raise MalformedProofBundle("proof bundle extra line is not non-empty base64 data")
        line, _newline, rest = rest.partition("\n")
    if not line.startswith("index "):
        raise MalformedProofBundle("proof bundle has no 'index <n>' line after its header")
    index = parse_uint64(line[len("index ") :])
    if isinstance(index, str):
        raise MalformedProofBundle(f"proof bundle index {index}")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise MalformedProofBundle("proof bundle ends before the blank line and checkpoint")
        if line == "":
            break
        value = b64decode(line)
        if value is None or len(value) != HASH_SIZE:
            raise MalformedProofBundle(
                f"proof bundle hash line {len(proof)} is not base64 of 32 bytes"
            )
        proof.append(value)
    try:
        parse_note(rest)
    except MalformedNote as exc:
        raise MalformedProofBundle(f"proof bundle checkpoint: {exc.message}") from exc
    return TlogProof(index, tuple(proof), rest, extra)


def verify_tlog_proof(bundle: str, leaf_bytes: bytes, verifiers: Sequence[Verifier]) -> Checkpoint:
    """Verify a tlog-proof bundle for the entry ``leaf_bytes`` (its canonical bytes).

    verifiable-log.md §3: check the checkpoint's signature with ``verifiers`` (see
    :func:`ledger.log.note.open_note`), parse the checkpoint, then check the inclusion proof of
    SHA-256(0x00 ‖ leaf_bytes) at the bundle's index against the checkpoint's root (RFC 9162
    §2.1.3.2). Returns the verified checkpoint.
    """
    parsed = parse_tlog_proof(bundle)
    checkpoint, _signatures = open_checkpoint(parsed.signed_checkpoint, verifiers)
    verify_inclusion(
        leaf_hash(leaf_bytes), parsed.index, checkpoint.size, parsed.proof, checkpoint.root_hash
    )
    return checkpoint
