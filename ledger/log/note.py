"""C2SP signed notes, checkpoints, cosignatures and offline proof bundles, with Ed25519.

* Signed notes: https://c2sp.org/signed-note, in the shape of Go's ``golang.org/x/mod/sumdb/note``
  (the key text formats ``<name>+<8hex>+<base64>`` and ``PRIVATE+KEY+<name>+<8hex>+<base64>``
  come from there). verifiable-log.md §2.
* Checkpoints: https://c2sp.org/tlog-checkpoint (note text = origin, size, root hash, extension
  lines). verifiable-log.md §2.
* Cosignatures: https://c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1`` (signature type
  0x04): a timestamped signature over ``cosignature/v1\\ntime <t>\\n`` ‖ checkpoint body.
* Proof bundles: https://c2sp.org/tlog-proof (``c2sp.org/tlog-proof@v1``). verifiable-log.md §3.

Everything that is parsed is parsed strictly: standard base64 must be canonical (the encoding a
correct encoder produces), decimals have no leading zeros, every line ends in ``\\n``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import InvalidInput, ProofError
from ledger.log.merkle import HASH_SIZE, leaf_hash, verify_inclusion

SIGNATURE_TYPE_ED25519 = 0x01
"""signed-note §Signature types: Ed25519 signature over the note text."""

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
"""signed-note §Signature types / tlog-cosignature: timestamped Ed25519 witness cosignature."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (signed-note requires at least 16; Go uses 100)."""

MAX_UINT64 = (1 << 64) - 1
MAX_COSIGNATURE_TIMESTAMP = (1 << 63) - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
"""First line of a tlog-proof bundle."""

COSIGNATURE_V1_HEADER = "cosignature/v1"
"""First line of the message an Ed25519 cosignature signs (tlog-cosignature)."""

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_B64_RE = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")
_DECIMAL_RE = re.compile(r"\A(?:0|[1-9][0-9]*)\Z")
_KEY_ID_RE = re.compile(r"\A[0-9a-fA-F]{8}\Z")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class InvalidKey(InvalidInput):
    """A signer or verifier key text is malformed, inconsistent or of an unsupported type."""

    rule = "note-key"


class AmbiguousVerifiers(InvalidInput):
    """Two configured verifier keys share both key name and key ID."""

    rule = "note-verifiers"


class MalformedNote(ProofError):
    """A signed note does not follow c2sp.org/signed-note."""

    rule = "note-format"


class SignatureInvalid(ProofError):
    """A signature line from a known key does not verify: the whole note is rejected."""

    rule = "note-signature"


class NoKnownSignature(ProofError):
    """No signature from a known key verifies, so the note's text must not be trusted."""

    rule = "note-unverified"


class MalformedCheckpoint(ProofError):
    """A checkpoint body does not follow c2sp.org/tlog-checkpoint."""

    rule = "checkpoint-format"


class MalformedProofBundle(ProofError):
    """A proof bundle does not follow c2sp.org/tlog-proof@v1."""

    rule = "tlog-proof-format"


# --------------------------------------------------------------------------------------------
# Strict encodings
# --------------------------------------------------------------------------------------------


def _b64decode(text: str) -> bytes | None:
    """Standard base64 (RFC 4648 §4), padded and canonical; ``None`` if ``text`` is not that."""
    if len(text) % 4 != 0 or _B64_RE.match(text) is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _parse_uint64(text: str) -> int | str:
    """ASCII decimal without leading zeros, at most 2^64 - 1; else a description of the fault."""
    if _DECIMAL_RE.match(text) is None:
        return f"{text!r} is not an ASCII decimal without leading zeros"
    value = int(text)
    if value > MAX_UINT64:
        return f"{text} is larger than 2**64-1"
    return value


def _has_control_characters(text: str) -> bool:
    """True if ``text`` holds an ASCII control character other than newline (signed-note)."""
    return any(ord(char) < 0x20 and char != "\n" for char in text)


def _is_valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_valid_key_name(name: str) -> bool:
    """signed-note: a key name is non-empty and has no Unicode spaces and no ``+``.

    Control characters are refused too: no note may contain them, so such a name could never
    sign anything.
    """
    return (
        isinstance(name, str)
        and name != ""
        and _is_valid_utf8(name)
        and "+" not in name
        and not any(char.isspace() for char in name)
        and not _has_control_characters(name)
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """Key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4], big-endian uint32.

    signed-note §Signatures (type 0x01) and tlog-cosignature §Format (type 0x04).
    """
    if not 0 <= signature_type <= 0xFF:
        raise InvalidKey(f"signature type {signature_type} is not a byte")
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A parsed verifier key ("vkey"): ``<name>+<8 hex key ID>+<base64(type ‖ public key)>``."""

    name: str
    key_id: int
    signature_type: int
    public_key: bytes

    def text(self) -> str:
        """The vkey text, key ID in lower-case hex as Go's ``%08x`` writes it."""
        encoded = _b64encode(bytes([self.signature_type]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{encoded}"


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A parsed Go ``sumdb/note`` signer key: ``PRIVATE+KEY+<name>+<8hex>+<base64(0x01‖seed)>``.

    ``key_id`` is the Ed25519 (type 0x01) key ID of the derived public key.
    """

    name: str
    key_id: int
    seed: bytes = field(repr=False)

    def text(self) -> str:
        """The signer key text (keep it secret)."""
        encoded = _b64encode(bytes([SIGNATURE_TYPE_ED25519]) + self.seed)
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id:08x}+{encoded}"

    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key derived from the seed (RFC 8032 §5.1.5)."""
        return _ed25519_private(self.seed).public_key().public_bytes_raw()


def _ed25519_private(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def format_vkey(name: str, public_key: bytes, signature_type: int = SIGNATURE_TYPE_ED25519) -> str:
    """Verifier key text for an Ed25519 public key (type 0x01, or 0x04 for a cosigner)."""
    if not is_valid_key_name(name):
        raise InvalidKey(f"key name {name!r} is empty or contains a space or '+'")
    if signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1):
        raise InvalidKey(f"unsupported signature type 0x{signature_type:02x}")
    if len(public_key) != _ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    public_key = bytes(public_key)
    return VerifierKey(
        name, key_id(name, signature_type, public_key), signature_type, public_key
    ).text()


def parse_vkey(text: str) -> VerifierKey:
    """Parse and check a verifier key text; the key ID must match name, type and key."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidKey("verifier key must be <name>+<8 hex digits>+<base64 key>")
    name, id_hex, key_b64 = parts
    raw = _b64decode(key_b64)
    if not is_valid_key_name(name) or _KEY_ID_RE.match(id_hex) is None or not raw:
        raise InvalidKey(f"malformed verifier key for name {name!r}")
    declared = int(id_hex, 16)
    if declared != key_id(name, raw[0], raw[1:]):
        raise InvalidKey(f"verifier key ID {id_hex} does not match the key for {name!r}")
    signature_type, public_key = raw[0], raw[1:]
    if signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1):
        raise InvalidKey(f"unsupported verifier key type 0x{signature_type:02x} for {name!r}")
    if len(public_key) != _ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 verifier key for {name!r} must be 32 bytes")
    return VerifierKey(name, declared, signature_type, public_key)


def format_skey(name: str, seed: bytes) -> str:
    """Signer key text for a 32-byte Ed25519 seed (RFC 8032 private key)."""
    if not is_valid_key_name(name):
        raise InvalidKey(f"key name {name!r} is empty or contains a space or '+'")
    if len(seed) != _ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
    seed = bytes(seed)
    public_key = _ed25519_private(seed).public_key().public_bytes_raw()
    return SignerKey(name, key_id(name, SIGNATURE_TYPE_ED25519, public_key), seed).text()


def parse_skey(text: str) -> SignerKey:
    """Parse and check a signer key text; the key ID must match the derived public key."""
    if not text.startswith(_PRIVATE_KEY_PREFIX):
        raise InvalidKey("signer key must start with PRIVATE+KEY+")
    parts = text[len(_PRIVATE_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise InvalidKey("signer key must be PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
    name, id_hex, key_b64 = parts
    raw = _b64decode(key_b64)
    if not is_valid_key_name(name) or _KEY_ID_RE.match(id_hex) is None or not raw:
        raise InvalidKey(f"malformed signer key for name {name!r}")
    if raw[0] != SIGNATURE_TYPE_ED25519:
        raise InvalidKey(f"unsupported signer key type 0x{raw[0]:02x} for {name!r}")
    seed = raw[1:]
    if len(seed) != _ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 signer key for {name!r} must hold a 32-byte seed")
    public_key = _ed25519_private(seed).public_key().public_bytes_raw()
    declared = int(id_hex, 16)
    if declared != key_id(name, SIGNATURE_TYPE_ED25519, public_key):
        raise InvalidKey(f"signer key ID {id_hex} does not match the key for {name!r}")
    return SignerKey(name, declared, seed)


def generate_signer(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair for ``name``: ``(signer key text, verifier key text)``."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    skey = format_skey(name, seed)
    return skey, Signer(skey).vkey


# --------------------------------------------------------------------------------------------
# Signers and verifiers
# --------------------------------------------------------------------------------------------


class NoteSigner(Protocol):
    """Anything that can add a signature line to a note: :class:`Signer`, :class:`Cosigner`."""

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
        self._key = _ed25519_private(parsed.seed)
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


def _cosignature_message(body: bytes, timestamp: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: header, time line, then the checkpoint body."""
    return f"{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n".encode("ascii") + body


def _unix_now() -> int:
    return time.time_ns() // 1_000_000_000


class Cosigner:
    """Ed25519 ``cosignature/v1`` cosigner (signature type 0x04, c2sp.org/tlog-cosignature).

    Built from an ordinary Go-format Ed25519 signer key text; its key ID is computed with type
    byte 0x04, so it differs from the key ID in the signer key text. ``clock`` returns the POSIX
    time in whole seconds used by :meth:`sign` (default: the system clock).
    """

    __slots__ = ("_clock", "_key", "_key_id", "_name", "_public_key")

    def __init__(self, skey: str, clock: Callable[[], int] | None = None) -> None:
        parsed = parse_skey(skey)
        self._name = parsed.name
        self._key = _ed25519_private(parsed.seed)
        self._public_key = self._key.public_key().public_bytes_raw()
        self._key_id = key_id(parsed.name, SIGNATURE_TYPE_COSIGNATURE_V1, self._public_key)
        self._clock: Callable[[], int] = clock if clock is not None else _unix_now

    @property
    def name(self) -> str:
        """The cosigner name written in signature lines."""
        return self._name

    @property
    def key_id(self) -> int:
        """SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4] (tlog-cosignature §Format)."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._public_key

    @property
    def vkey(self) -> str:
        """Verifier key text with signature type 0x04."""
        return format_vkey(self._name, self._public_key, SIGNATURE_TYPE_COSIGNATURE_V1)

    def sign_at(self, message: bytes, timestamp: int) -> bytes:
        """``timestamped_signature``: 8-byte big-endian timestamp ‖ Ed25519 signature (72 bytes).

        ``message`` is the checkpoint body (the note text being cosigned).
        """
        if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_COSIGNATURE_TIMESTAMP:
            raise InvalidInput(f"cosignature timestamp {timestamp} is not in 0..2**63-1")
        signature = self._key.sign(_cosignature_message(message, timestamp))
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature

    def sign(self, message: bytes) -> bytes:
        """Cosign ``message`` at the current time of the clock (for :func:`sign_note`)."""
        return self.sign_at(message, self._clock())

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The signature line cosigning ``checkpoint`` at ``timestamp``, ready to append."""
        signature = self.sign_at(checkpoint.body().encode("utf-8"), timestamp)
        return format_signature_line(self._name, self._key_id, signature)

    def __repr__(self) -> str:
        return f"Cosigner({self._name}+{self._key_id:08x})"


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
            message = _cosignature_message(message, timestamp)
            signature = signature[_TIMESTAMP_SIZE:]
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
    if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        return None
    timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
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
    encoded = _b64encode(key_id.to_bytes(4, "big") + signature)
    return f"{_SIGNATURE_PREFIX}{name} {encoded}\n"


def _check_note_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNote("note text must be non-empty and end with a newline")
    if not _is_valid_utf8(text) or _has_control_characters(text):
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
    if not _is_valid_utf8(note):
        raise MalformedNote("signed note is not valid UTF-8")
    if _has_control_characters(note):
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
        raw = _b64decode(encoded)
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


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


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
        if "\n" in self.origin or _has_control_characters(self.origin):
            raise MalformedCheckpoint("checkpoint origin must be one line without control chars")
        if not _is_valid_utf8(self.origin):
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
                or _has_control_characters(line)
                or not _is_valid_utf8(line)
            ):
                raise MalformedCheckpoint("checkpoint extension lines must be non-empty lines")

    def body(self) -> str:
        """The note text: each line, extension lines included, ends in a newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
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
        size = _parse_uint64(size_text)
        if isinstance(size, str):
            raise MalformedCheckpoint(f"checkpoint tree size {size}")
        root = _b64decode(root_text)
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
    """Verify a signed checkpoint (see :func:`open_note`), then parse its text strictly."""
    text, signatures = open_note(note, verifiers)
    return Checkpoint.parse(text), signatures


def verify_cosignature(checkpoint: Checkpoint, signature_line: str, verifier: Verifier) -> int:
    """Verify one cosignature line over ``checkpoint``; return its timestamp.

    ``verifier`` must be a type 0x04 key whose name and key ID match the line.
    """
    if verifier.signature_type != SIGNATURE_TYPE_COSIGNATURE_V1:
        raise InvalidKey(f"verifier {verifier.name} is not a cosignature/v1 (type 0x04) key")
    line = signature_line if signature_line.endswith("\n") else signature_line + "\n"
    parsed = parse_note(checkpoint.body() + "\n" + line)
    if len(parsed.signatures) != 1:
        raise MalformedNote("expected exactly one cosignature line")
    signature = parsed.signatures[0]
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoKnownSignature(
            f"cosignature is by {signature.name}+{signature.key_id:08x}, "
            f"not by {verifier.name}+{verifier.key_id:08x}"
        )
    timestamp = cosignature_timestamp(signature.signature)
    if timestamp is None or not verifier.verify(
        checkpoint.body().encode("utf-8"), signature.signature
    ):
        raise SignatureInvalid(
            f"cosignature by {verifier.name}+{verifier.key_id:08x} does not verify",
            name=verifier.name,
            key_id=f"{verifier.key_id:08x}",
        )
    return timestamp


# --------------------------------------------------------------------------------------------
# tlog-proof bundles
# --------------------------------------------------------------------------------------------


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
        lines.append(f"extra {_b64encode(bytes(extra))}")
    lines.append(f"index {index}")
    lines.extend(_b64encode(bytes(value)) for value in proof_hashes)
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
        extra = _b64decode(line[len("extra ") :])
        if not extra:
            raise MalformedProofBundle("proof bundle extra line is not non-empty base64 data")
        line, _newline, rest = rest.partition("\n")
    if not line.startswith("index "):
        raise MalformedProofBundle("proof bundle has no 'index <n>' line after its header")
    index = _parse_uint64(line[len("index ") :])
    if isinstance(index, str):
        raise MalformedProofBundle(f"proof bundle index {index}")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise MalformedProofBundle("proof bundle ends before the blank line and checkpoint")
        if line == "":
            break
        value = _b64decode(line)
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
    :func:`open_note`), parse the checkpoint, then check the inclusion proof of
    SHA-256(0x00 ‖ leaf_bytes) at the bundle's index against the checkpoint's root (RFC 9162
    §2.1.3.2). Returns the verified checkpoint.
    """
    parsed = parse_tlog_proof(bundle)
    checkpoint, _signatures = open_checkpoint(parsed.signed_checkpoint, verifiers)
    verify_inclusion(
        leaf_hash(leaf_bytes), parsed.index, checkpoint.size, parsed.proof, checkpoint.root_hash
    )
    return checkpoint
