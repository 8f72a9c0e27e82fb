"""C2SP key texts for Ed25519 (signature type 0x01) and cosignature/v1 (type 0x04) keys.

The formats are those of Go's ``golang.org/x/mod/sumdb/note``: a verifier key ("vkey") is
``<name>+<8hex key ID>+<base64(type ‖ public key)>``, a signer key is
``PRIVATE+KEY+<name>+<8hex>+<base64(0x01 ‖ seed)>``. Key IDs follow https://c2sp.org/signed-note
(type 0x01) and https://c2sp.org/tlog-cosignature (type 0x04). verifiable-log.md §2.

The signers and verifiers built from these texts are in ``ledger.log.note`` (and the cosigner in
``ledger.log.tlog_cosignature``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import InvalidInput
from ledger.log.encoding import b64decode, b64encode, has_control_characters, is_valid_utf8

SIGNATURE_TYPE_ED25519 = 0x01
"""signed-note §Signature types: Ed25519 signature over the note text."""

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
"""signed-note §Signature types / tlog-cosignature: timestamped Ed25519 witness cosignature."""

ED25519_KEY_SIZE = 32
"""Size in bytes of an Ed25519 public key and of its seed (RFC 8032)."""

_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_KEY_ID_RE = re.compile(r"\A[0-9a-fA-F]{8}\Z")


class InvalidKey(InvalidInput):
    """A signer or verifier key text is malformed, inconsistent or of an unsupported type."""

    problem_type = "invalid-key"
    title = "A signer or verifier key text is malformed, inconsistent or of an unsupported type"
    rule = "note-key"


def is_valid_key_name(name: str) -> bool:
    """signed-note: a key name is non-empty and has no Unicode spaces and no ``+``.

    Control characters are refused too: no note may contain them, so such a name could never
    sign anything.
    """
    return (
        isinstance(name, str)
        and name != ""
        and is_valid_utf8(name)
        and "+" not in name
        and not any(char.isspace() for char in name)
        and not has_control_characters(name)
    )


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
        encoded = b64encode(bytes([self.signature_type]) + self.public_key)
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
        encoded = b64encode(bytes([SIGNATURE_TYPE_ED25519]) + self.seed)
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id:08x}+{encoded}"

    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key derived from the seed (RFC 8032 §5.1.5)."""
        return ed25519_private_key(self.seed).public_key().public_bytes_raw()


def ed25519_private_key(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key of a 32-byte seed (RFC 8032 §5.1.5)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def format_vkey(name: str, public_key: bytes, signature_type: int = SIGNATURE_TYPE_ED25519) -> str:
    """Verifier key text for an Ed25519 public key (type 0x01, or 0x04 for a cosigner)."""
    if not is_valid_key_name(name):
        raise InvalidKey(f"key name {name!r} is empty or contains a space or '+'")
    if signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1):
        raise InvalidKey(f"unsupported signature type 0x{signature_type:02x}")
    if len(public_key) != ED25519_KEY_SIZE:
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
    raw = b64decode(key_b64)
    if not is_valid_key_name(name) or _KEY_ID_RE.match(id_hex) is None or not raw:
        raise InvalidKey(f"malformed verifier key for name {name!r}")
    declared = int(id_hex, 16)
    if declared != key_id(name, raw[0], raw[1:]):
        raise InvalidKey(f"verifier key ID {id_hex} does not match the key for {name!r}")
    signature_type, public_key = raw[0], raw[1:]
    if signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1):
        raise InvalidKey(f"unsupported verifier key type 0x{signature_type:02x} for {name!r}")
    if len(public_key) != ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 verifier key for {name!r} must be 32 bytes")
    return VerifierKey(name, declared, signature_type, public_key)


def format_skey(name: str, seed: bytes) -> str:
    """Signer key text for a 32-byte Ed25519 seed (RFC 8032 private key)."""
    if not is_valid_key_name(name):
        raise InvalidKey(f"key name {name!r} is empty or contains a space or '+'")
    if len(seed) != ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
    seed = bytes(seed)
    public_key = ed25519_private_key(seed).public_key().public_bytes_raw()
    return SignerKey(name, key_id(name, SIGNATURE_TYPE_ED25519, public_key), seed).text()


def parse_skey(text: str) -> SignerKey:
    """Parse and check a signer key text; the key ID must match the derived public key."""
    if not text.startswith(_PRIVATE_KEY_PREFIX):
        raise InvalidKey("signer key must start with PRIVATE+KEY+")
    parts = text[len(_PRIVATE_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise InvalidKey("signer key must be PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
    name, id_hex, key_b64 = parts
    raw = b64decode(key_b64)
    if not is_valid_key_name(name) or _KEY_ID_RE.match(id_hex) is None or not raw:
        raise InvalidKey(f"malformed signer key for name {name!r}")
    if raw[0] != SIGNATURE_TYPE_ED25519:
        raise InvalidKey(f"unsupported signer key type 0x{raw[0]:02x} for {name!r}")
    seed = raw[1:]
    if len(seed) != ED25519_KEY_SIZE:
        raise InvalidKey(f"Ed25519 signer key for {name!r} must hold a 32-byte seed")
    public_key = ed25519_private_key(seed).public_key().public_bytes_raw()
    declared = int(id_hex, 16)
    if declared != key_id(name, SIGNATURE_TYPE_ED25519, public_key):
        raise InvalidKey(f"signer key ID {id_hex} does not match the key for {name!r}")
    return SignerKey(name, declared, seed)


def generate_signer(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair for ``name``: ``(signer key text, verifier key text)``."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    skey = format_skey(name, seed)
    public_key = ed25519_private_key(seed).public_key().public_bytes_raw()
    return skey, format_vkey(name, public_key, SIGNATURE_TYPE_ED25519)
