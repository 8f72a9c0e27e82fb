"""C2SP witness cosignatures (https://c2sp.org/tlog-cosignature): the Ed25519 ``cosignature/v1``
cosigner (signature type 0x04) and the check of one cosignature line over a checkpoint.

A cosignature is a timestamped signature over ``cosignature/v1\\ntime <t>\\n`` ‖ checkpoint body
(:func:`ledger.log.note.cosignature_message`); its key ID is computed with type byte 0x04. Which
witnesses the log accepts and how it serves their cosignatures is ``ledger.log.witness``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ledger.errors import InvalidInput
from ledger.log.keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    InvalidKey,
    ed25519_private_key,
    format_vkey,
    key_id,
    parse_skey,
)
from ledger.log.note import (
    MAX_COSIGNATURE_TIMESTAMP,
    TIMESTAMP_SIZE,
    MalformedNote,
    NoKnownSignature,
    SignatureInvalid,
    Verifier,
    cosignature_message,
    cosignature_timestamp,
    format_signature_line,
    parse_note,
)
from ledger.log.tlog_checkpoint import Checkpoint


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
        self._key = ed25519_private_key(parsed.seed)
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
        signature = self._key.sign(cosignature_message(message, timestamp))
        return timestamp.to_bytes(TIMESTAMP_SIZE, "big") + signature

    def sign(self, message: bytes) -> bytes:
        """Cosign ``message`` at the current time of the clock (for ``note.sign_note``)."""
        return self.sign_at(message, self._clock())

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The signature line cosigning ``checkpoint`` at ``timestamp``, ready to append."""
        signature = self.sign_at(checkpoint.body().encode("utf-8"), timestamp)
        return format_signature_line(self._name, self._key_id, signature)

    def __repr__(self) -> str:
        return f"Cosigner({self._name}+{self._key_id:08x})"


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
