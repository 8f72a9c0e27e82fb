"""C2SP checkpoints (https://c2sp.org/tlog-checkpoint): the note text naming a tree of the log
(origin, tree size, root hash, extension lines), and signing and opening it as a signed note.
verifiable-log.md §2.

When and what the log signs (never two inconsistent checkpoints) is ``ledger.log.checkpoints``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import ProofError
from ledger.log.encoding import (
    MAX_UINT64,
    b64decode,
    b64encode,
    has_control_characters,
    is_valid_utf8,
    parse_uint64,
)
from ledger.log.merkle import HASH_SIZE
from ledger.log.note import NoteSignature, NoteSigner, Verifier, open_note, sign_note


class MalformedCheckpoint(ProofError):
    """A checkpoint body does not follow c2sp.org/tlog-checkpoint."""

    problem_type = "malformed-checkpoint"
    title = "A checkpoint body does not follow c2sp.org/tlog-checkpoint"
    rule = "checkpoint-format"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A c2sp.org/tlog-checkpoint note text: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or self.origin == "":
            raise MalformedCheckpoint("checkpoint origin must be a non-empty line")
        if "\n" in self.origin or has_control_characters(self.origin):
            raise MalformedCheckpoint("checkpoint origin must be one line without control chars")
        if not is_valid_utf8(self.origin):
            raise MalformedCheckpoint("checkpoint origin must be valid UTF-8")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedCheckpoint("checkpoint tree size must be an integer")
        if not 0 <= self.size <= MAX_UINT64:
            raise MalformedCheckpoint(f"checkpoint tree size {self.size} is not in 0..2**64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpoint("checkpoint root hash must be 32 bytes")
        if not isinstance(self.extensions, tuple):
            raise MalformedCheckpoint("checkpoint extension lines must be a tuple of strings")
        for line in self.extensions:
            if (
                not isinstance(line, str)
                or line == ""
                or "\n" in line
                or has_control_characters(line)
                or not is_valid_utf8(line)
            ):
                raise MalformedCheckpoint("checkpoint extension lines must be non-empty lines")

    def body(self) -> str:
        """The note text: each line, extension lines included, ends in a newline."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly (tlog-checkpoint §Note text)."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise MalformedCheckpoint("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint(
                f"checkpoint needs origin, size and root hash lines, got {len(lines)} lines"
            )
        origin, size_text, root_text, *extensions = lines
        size = parse_uint64(size_text)
        if isinstance(size, str):
            raise MalformedCheckpoint(f"checkpoint tree size {size}")
        root = b64decode(root_text)
        if root is None:
            raise MalformedCheckpoint(f"checkpoint root hash {root_text!r} is not base64")
        if len(root) != HASH_SIZE:
            raise MalformedCheckpoint(f"checkpoint root hash is {len(root)} bytes, not 32")
        return cls(origin, size, root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    note: str | bytes, verifiers: Sequence[Verifier]
) -> tuple[Checkpoint, tuple[NoteSignature, ...]]:
    """Verify a signed checkpoint (see :func:`ledger.log.note.open_note`), then parse its text
    strictly."""
    text, signatures = open_note(note, verifiers)
    return Checkpoint.parse(text), signatures
