"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519: signers, verifiers, and the
note format itself (text, blank line, signature lines). verifiable-log.md §2.

The shape is that of Go's ``golang.org/x/mod/sumdb/note``. Key texts are parsed in
``ledger.log.keys``; what the notes of this log carry is in ``ledger.log.tlog_checkpoint``
(checkpoints), ``ledger.log.tlog_cosignature`` (witness cosignatures) and ``ledger.log.tlog_proof``
(offline proof bundles).

A :class:`Verifier` checks both signature types a note of this log may carry: Ed25519 (0x01) and
the timestamped Ed25519 ``cosignature/v1`` (0x04, https://c2sp.org/tlog-cosignature), whose signed
message (:func:`cosignature_message`) is therefore defined here.

Everything that is parsed is parsed strictly (``ledger.log.encoding``): canonical base64, every
line ends in ``\\n``, no control characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import InvalidInput, ProofError
from ledger.log.encoding import b64decode, b64encode, has_control_characters, is_valid_utf8
from ledger.log.keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    SIGNATURE_TYPE_ED25519,
    InvalidKey,
    ed25519_private_key,
    format_vkey,
    is_valid_key_name,
    parse_skey,
    parse_vkey,
)

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (signed-note requires at least 16; Go uses 100)."""

MAX_COSIGNATURE_TIMESTAMP = (1 << 63) - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""

COSIGNATURE_V1_HEADER = "cosignature/v1"
"""First line of the message an Ed25519 cosignature signs (tlog-cosignature)."""

TIMESTAMP_SIZE = 8
"""Bytes of the big-endian timestamp that starts a ``timestamped_signature`` (tlog-cosignature)."""

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_ED25519_SIGNATURE_SIZE = 64


class AmbiguousVerifiers(InvalidInput):
    """Two configured verifier keys share both key name and key ID."""

    problem_type = "ambiguous-verifiers"
    title = "Two configured verifier keys share both key name and key ID"
    rule = "note-verifiers"


class MalformedNote(ProofError):
    """A signed note does not follow c2sp.org/signed-note."""

    problem_type = "malformed-note"
    title = "A signed note does not follow c2sp.org/signed-note"
    rule = "note-format"


class SignatureInvalid(ProofError):
    """A signature line from a known key does not verify: the whole note is rejected."""

    problem_type = "signature-invalid"
    title = "A signature line from a known key does not verify: the whole note is rejected"
    rule = "note-signature"


class NoKnownSignature(ProofError):
    """No signature from a known key verifies, so the note's text must not be trusted."""

    problem_type = "no-known-signature"
    title = "No signature from a known key verifies, so the note's text must not be trusted"
    rule = "note-unverified"


# --------------------------------------------------------------------------------------------
# Signers and verifiers
# --------------------------------------------------------------------------------------------


class NoteSigner(Protocol):
    """Anything that can add a signature line to a note: :class:`Signer`, or
    :class:`ledger.log.tlog_cosignature.Cosigner`."""

    @property
    def name(self) -> str:
        """The key name written in the signature line."""
        ...

    @property
    def key_id(self) -> int:
        """The uint32 key ID written before the signature."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The signature bytes (after the key ID) for the note text ``message``."""
        ...


class Signer:
    """Ed25519 note signer (signature type 0x01) built from a signer key text."""

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    def __init__(self, skey: str) -> None:
        parsed = parse_skey(skey)
        self._name = parsed.name
        self._key_id = parsed.key_id
        self._key = ed25519_private_key(parsed.seed)
        self._public_key = self._key.public_key().public_bytes_raw()

    @property
    def name(self) -> str:
        """The key name written in signature lines."""
        return self._name

    @property
    def key_id(self) -> int:
        """The uint32 key ID (signed-note §Ed25519 signatures)."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._public_key

    @property
    def vkey(self) -> str:
        """The matching verifier key text."""
        return format_vkey(self._name, self._public_key, SIGNATURE_TYPE_ED25519)

    def sign(self, message: bytes) -> bytes:
        """Ed25519 (RFC 8032, deterministic) signature of ``message``: the note text bytes."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer({self._name}+{self._key_id:08x})"


def cosignature_message(body: bytes, timestamp: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: header, time line, then the checkpoint body."""
    return f"{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n".encode("ascii") + body


class Verifier:
    """Verifies signatures of one key, built from a verifier key text.

    Type 0x01 keys verify plain Ed25519 note signatures; type 0x04 keys verify ``cosignature/v1``
    timestamped signatures (tlog-cosignature).
    """

    __slots__ = ("_key", "_parsed")

    def __init__(self, vkey: str) -> None:
        self._parsed = parse_vkey(vkey)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self._parsed.public_key)
        except ValueError as exc:
            raise InvalidKey(f"verifier key for {self._parsed.name!r} is not usable") from exc

    @property
    def name(self) -> str:
        """The key name expected in signature lines."""
        return self._parsed.name

    @property
    def key_id(self) -> int:
        """The uint32 key ID expected in signatures."""
        return self._parsed.key_id

    @property
    def signature_type(self) -> int:
        """0x01 (Ed25519 note signature) or 0x04 (Ed25519 cosignature/v1)."""
        return self._parsed.signature_type

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._parsed.public_key

    @property
    def vkey(self) -> str:
        """The verifier key text."""
        return self._parsed.text()

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the 4-byte key ID) is valid for the note text."""
        if self._parsed.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1:
            timestamp = cosignature_timestamp(signature)
            if timestamp is None:
                return False
            message = cosignature_message(message, timestamp)
            signature = signature[TIMESTAMP_SIZE:]
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.name}+{self.key_id:08x})"


def cosignature_timestamp(signature: bytes) -> int | None:
    """The timestamp of a 72-byte ``timestamped_signature``, or ``None`` if it is not one."""
    if len(signature) != TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        return None
    timestamp = int.from_bytes(signature[:TIMESTAMP_SIZE], "big")
    return timestamp if timestamp <= MAX_COSIGNATURE_TIMESTAMP else None


# --------------------------------------------------------------------------------------------
# Signed notes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the key ID.

    ``timestamp`` is set for verified cosignatures (type 0x04 keys), ``None`` otherwise.
    """

    name: str
    key_id: int
    signature: bytes
    timestamp: int | None = None

    def line(self) -> str:
        """The signature line, ``— <name> <base64(key ID ‖ signature)>\\n``."""
        return format_signature_line(self.name, self.key_id, self.signature)


@dataclass(frozen=True, slots=True)
class ParsedNote:
    """A note split into text and signature lines, nothing verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]


def format_signature_line(name: str, key_id: int, signature: bytes) -> str:
    """``— <name> <base64(4-byte big-endian key ID ‖ signature)>\\n`` (signed-note §Format)."""
    if not is_valid_key_name(name):
        raise InvalidKey(f"key name {name!r} is empty or contains a space or '+'")
    if not 0 <= key_id <= 0xFFFFFFFF:
        raise InvalidKey(f"key ID {key_id} is not a uint32")
    encoded = b64encode(key_id.to_bytes(4, "big") + signature)
    return f"{_SIGNATURE_PREFIX}{name} {encoded}\n"


def _check_note_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNote("note text must be non-empty and end with a newline")
    if not is_valid_utf8(text) or has_control_characters(text):
        raise MalformedNote(
            "note text must be valid UTF-8 without control characters other than newline"
        )


def parse_note(note: str | bytes) -> ParsedNote:
    """Split a signed note into its text and signature lines; verify nothing (signed-note §Format).

    The text is everything up to the LAST blank line, including its final newline; every line
    after that blank line must be a signature line ``— <name> <base64>``.
    """
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("signed note is not valid UTF-8") from exc
    if not is_valid_utf8(note):
        raise MalformedNote("signed note is not valid UTF-8")
    if has_control_characters(note):
        raise MalformedNote("signed note contains a control character other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("signed note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("signed note has no signature lines, or they do not end in newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures: list[NoteSignature] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedNote(
                f"signature line {number} does not start with an em dash (U+2014) and a space"
            )
        name, _space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        raw = b64decode(encoded)
        if not is_valid_key_name(name):
            raise MalformedNote(f"signature line {number} has an invalid key name {name!r}")
        if raw is None or len(raw) < 5:
            raise MalformedNote(
                f"signature line {number} ({name}) is not base64 of a key ID and a signature"
            )
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return ParsedNote(text, tuple(signatures))


def _verifier_index(verifiers: Sequence[Verifier]) -> dict[tuple[str, int], Verifier]:
    index: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in index and index[key].vkey != verifier.vkey:
            raise AmbiguousVerifiers(
                f"two different verifier keys are named {verifier.name}+{verifier.key_id:08x}"
            )
        index[key] = verifier
    return index


def open_note(
    note: str | bytes, verifiers: Sequence[Verifier]
) -> tuple[str, tuple[NoteSignature, ...]]:
    """Verify a signed note; return its text and the signatures of known keys that verified.

    signed-note §Signatures: lines whose (name, key ID) match no verifier are ignored; every
    line that matches a known key is verified and one failure rejects the note
    (:class:`SignatureInvalid`); at least one known key must have signed
    (:class:`NoKnownSignature`). Repeated lines of one key are reported once.
    """
    known = _verifier_index(verifiers)
    parsed = parse_note(note)
    text_bytes = parsed.text.encode("utf-8")
    verified: dict[tuple[str, int], NoteSignature] = {}
    for signature in parsed.signatures:
        key = (signature.name, signature.key_id)
        verifier = known.get(key)
        if verifier is None:
            continue
        if not verifier.verify(text_bytes, signature.signature):
            raise SignatureInvalid(
                f"signature by known key {signature.name}+{signature.key_id:08x} does not verify",
                name=signature.name,
                key_id=f"{signature.key_id:08x}",
            )
        if key not in verified:
            timestamp = (
                cosignature_timestamp(signature.signature)
                if verifier.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1
                else None
            )
            verified[key] = NoteSignature(
                signature.name, signature.key_id, signature.signature, timestamp
            )
    if not verified:
        present = ", ".join(f"{s.name}+{s.key_id:08x}" for s in parsed.signatures)
        expected = ", ".join(f"{name}+{kid:08x}" for name, kid in known) or "none"
        raise NoKnownSignature(
            f"no signature from a known key; signed by {present}, known keys: {expected}"
        )
    return parsed.text, tuple(verified.values())


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` with each signer: text, blank line, one signature line per signer."""
    _check_note_text(text)
    if not signers:
        raise InvalidInput("a signed note needs at least one signer")
    message = text.encode("utf-8")
    lines = [format_signature_line(s.name, s.key_id, s.sign(message)) for s in signers]
    return text + "\n" + "".join(lines)


def add_signatures(note: str, signers: Sequence[NoteSigner]) -> str:
    """Append signatures by ``signers`` to an existing signed note (e.g. a cosignature).

    Existing lines are kept (not verified here), except lines of a key that signs again, which
    are replaced, as Go's ``note.Sign`` does.
    """
    parsed = parse_note(note)
    if not signers:
        raise InvalidInput("add_signatures needs at least one signer")
    message = parsed.text.encode("utf-8")
    replaced = {(s.name, s.key_id) for s in signers}
    kept = [s.line() for s in parsed.signatures if (s.name, s.key_id) not in replaced]
    new = [format_signature_line(s.name, s.key_id, s.sign(message)) for s in signers]
    return parsed.text + "\n" + "".join(kept) + "".join(new)
