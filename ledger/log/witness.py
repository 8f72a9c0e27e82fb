"""Witness cosignatures of the log's checkpoints (C2SP tlog-cosignature, verifiable-log.md §2).

A partner Party's registry runs a witness: it cosigns this log's checkpoints with its own
Ed25519 key (signature type 0x04, ``cosignature/v1``). Once the log holds a partner's
cosignature of a checkpoint, neither registry can later deny the transfers under that root, which
is what 6/CMA.4 annex I para 10 asks of interoperable registries.

This module checks a cosignature line against a checkpoint and the configured witness keys, and
assembles the log's signed checkpoint and its recorded cosignatures into one signed note. It has
no web framework and no database: the caller recomputes the checkpoint from storage and stores
the :class:`Cosignature` it gets back.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import Conflict, IntegrityError, InvalidInput, ProofError
from ledger.log import note
from ledger.log.canonical import MAX_SAFE_INTEGER, JsonValue
from ledger.log.keys import SIGNATURE_TYPE_COSIGNATURE_V1, InvalidKey
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.log.tlog_cosignature import verify_cosignature

KIND_CHECKPOINT_COSIGNED = "checkpoint.cosigned"
"""Ledger entry kind that records an accepted cosignature (payload: :meth:`Cosignature.payload`)."""

MAX_TIMESTAMP = MAX_SAFE_INTEGER
"""Largest cosignature timestamp the ledger records: ledger entries hold only integers up to
2**53 - 1 (RFC 8785), and Unix time stays below that for the next 285 million years."""


class UnknownWitness(InvalidInput):
    """A cosignature is accepted only from a configured witness key (A6LEDGER_WITNESS_KEYS)."""

    problem_type = "unknown-witness"
    title = "A cosignature is accepted only from a configured witness key (A6LEDGER_WITNESS_KEYS)"
    rule = "witness-known"


class CosignatureTimestampOutOfRange(InvalidInput):
    """A cosignature timestamp must fit a ledger integer (at most 2**53 - 1 seconds)."""

    problem_type = "cosignature-timestamp-out-of-range"
    title = "A cosignature timestamp must fit a ledger integer (at most 2**53 - 1 seconds)"
    rule = "cosignature-timestamp"


class CosignatureConflict(Conflict):
    """A witness cosigns a checkpoint once: a different cosignature by the same key of the same
    tree size is refused."""

    problem_type = "cosignature-conflict"
    title = "A witness cosigns a checkpoint once"
    rule = "cosignature-once"


class CosignatureMismatch(ProofError):
    """A cosignature covers another checkpoint than the note it is added to."""

    problem_type = "cosignature-mismatch"
    title = "A cosignature covers another checkpoint than the note it is added to"
    rule = "cosignature-checkpoint"


class TooFewCosignatures(ProofError):
    """A verifier that requires K cosignatures accepts a checkpoint only when K distinct witness
    keys it knows cosigned it."""

    problem_type = "too-few-cosignatures"
    title = "Fewer known witnesses cosigned the checkpoint than the verifier requires"
    rule = "witness-quorum"


class RecordedCosignatureInvalid(IntegrityError):
    """A recorded cosignature by a configured witness no longer verifies: it was altered."""

    problem_type = "recorded-cosignature-invalid"
    title = "A recorded cosignature by a configured witness no longer verifies: it was altered"
    rule = "cosignature-recorded"


@dataclass(frozen=True, slots=True)
class Cosignature:
    """An accepted cosignature: the checkpoint it covers and the witness's signature line.

    ``signature_line`` is ``— <name> <base64(key ID ‖ timestamp ‖ signature)>`` without the
    final newline.
    """

    tree_size: int
    root_hash: bytes
    key_name: str
    key_id: int
    timestamp: int
    signature_line: str

    @property
    def key_id_hex(self) -> str:
        """The key ID as 8 lower-case hex digits, as in a vkey."""
        return f"{self.key_id:08x}"

    def payload(self) -> dict[str, JsonValue]:
        """The payload of the ``checkpoint.cosigned`` ledger entry."""
        return {
            "tree_size": self.tree_size,
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
            "key_name": self.key_name,
            "key_id": self.key_id_hex,
            "timestamp": self.timestamp,
            "signature": self.signature_line,
        }


def parse_witness_keys(vkeys: Sequence[str]) -> tuple[note.Verifier, ...]:
    """Verifiers of the configured witness keys: C2SP vkeys of signature type 0x04.

    Raises :class:`ledger.log.keys.InvalidKey` for a malformed key, a key of another type, a key
    listed twice, or two keys that share a key ID (cosignatures are stored per key ID).
    """
    verifiers: list[note.Verifier] = []
    by_key_id: dict[int, note.Verifier] = {}
    for text in vkeys:
        verifier = note.Verifier(text)
        label = f"{verifier.name}+{verifier.key_id:08x}"
        if verifier.signature_type != SIGNATURE_TYPE_COSIGNATURE_V1:
            raise InvalidKey(
                f"witness key {label} is not a cosignature/v1 (type 0x04) key", key=label
            )
        other = by_key_id.get(verifier.key_id)
        if other is not None:
            reason = "is listed twice" if other.vkey == verifier.vkey else "shares its key ID"
            raise InvalidKey(f"witness key {label} {reason}", key=label)
        by_key_id[verifier.key_id] = verifier
        verifiers.append(verifier)
    return tuple(verifiers)


def verify_cosignature_line(
    checkpoint: Checkpoint, line: str, witnesses: Sequence[note.Verifier]
) -> Cosignature:
    """Check one cosignature line of ``checkpoint`` by one of ``witnesses``.

    ``line`` is ``— <name> <base64>``, with or without its final newline. Raises
    :class:`ledger.log.note.MalformedNote` for anything but one well-formed signature line,
    :class:`UnknownWitness` if its name and key ID match no witness key,
    :class:`ledger.log.note.SignatureInvalid` if the cosignature does not verify over this
    checkpoint, and :class:`CosignatureTimestampOutOfRange` for a timestamp beyond 2**53 - 1.
    """
    text = line[:-1] if line.endswith("\n") else line
    if "\n" in text:
        raise note.MalformedNote("a cosignature is exactly one signature line")
    parsed = note.parse_note(checkpoint.body() + "\n" + text + "\n")
    if len(parsed.signatures) != 1:
        raise note.MalformedNote("a cosignature is exactly one signature line")
    signature = parsed.signatures[0]
    label = f"{signature.name}+{signature.key_id:08x}"
    verifier = next(
        (w for w in witnesses if (w.name, w.key_id) == (signature.name, signature.key_id)), None
    )
    if verifier is None:
        known = ", ".join(f"{w.name}+{w.key_id:08x}" for w in witnesses) or "none"
        raise UnknownWitness(
            f"{label} is not a configured witness key; known witness keys: {known}",
            key_name=signature.name,
            key_id=f"{signature.key_id:08x}",
        )
    timestamp = verify_cosignature(checkpoint, text, verifier)
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureTimestampOutOfRange(
            f"cosignature timestamp {timestamp} by {label} is beyond 2**53-1", timestamp=timestamp
        )
    return Cosignature(
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=signature.name,
        key_id=signature.key_id,
        timestamp=timestamp,
        signature_line=signature.line().removesuffix("\n"),
    )


def cosigned_note(
    signed_checkpoint: str,
    cosignatures: Sequence[Cosignature],
    witnesses: Sequence[note.Verifier] = (),
) -> str:
    """The log's signed checkpoint with the cosignature lines appended (signed-note §Format).

    The log's own lines come first, then the cosignatures ordered by timestamp, key name and key
    ID; a key that already signs the note, or appears twice, is written once. A signed note holds
    at most 100 signatures (Go's limit), so the earliest cosignatures that fit are kept.

    Each cosignature by a key in ``witnesses`` is verified again over the checkpoint: one that
    fails raises :class:`RecordedCosignatureInvalid`, since a verifier that trusts the key would
    reject the whole note. Cosignatures by other keys (say, a witness no longer configured) are
    kept as they are; verifiers that do not know the key ignore them. Raises
    :class:`CosignatureMismatch` for a cosignature of another tree size or root.
    """
    parsed = note.parse_note(signed_checkpoint)
    checkpoint = Checkpoint.parse(parsed.text)
    by_key = {(w.name, w.key_id): w for w in witnesses}
    present = {(s.name, s.key_id) for s in parsed.signatures}
    lines: list[str] = []
    ordered = sorted(cosignatures, key=lambda c: (c.timestamp, c.key_name, c.key_id))
    for cosignature in ordered:
        if (cosignature.tree_size, cosignature.root_hash) != (
            checkpoint.size,
            checkpoint.root_hash,
        ):
            raise CosignatureMismatch(
                f"cosignature by {cosignature.key_name}+{cosignature.key_id_hex} covers tree "
                f"size {cosignature.tree_size}, not the checkpoint of size {checkpoint.size}",
                tree_size=cosignature.tree_size,
                checkpoint_size=checkpoint.size,
            )
        key = (cosignature.key_name, cosignature.key_id)
        verifier = by_key.get(key)
        if verifier is not None:
            try:
                verify_cosignature(checkpoint, cosignature.signature_line, verifier)
            except ProofError as exc:
                raise RecordedCosignatureInvalid(
                    f"the recorded cosignature of tree size {checkpoint.size} by "
                    f"{cosignature.key_name}+{cosignature.key_id_hex} does not verify",
                    tree_size=checkpoint.size,
                    key_name=cosignature.key_name,
                    key_id=cosignature.key_id_hex,
                ) from exc
        if key in present:
            continue
        present.add(key)
        lines.append(cosignature.signature_line + "\n")
    room = note.MAX_SIGNATURES - len(parsed.signatures)
    own = "".join(signature.line() for signature in parsed.signatures)
    return parsed.text + "\n" + own + "".join(lines[:room])


def known_cosignatures(
    checkpoint: Checkpoint, notes: Sequence[str], witnesses: Sequence[note.Verifier]
) -> tuple[Cosignature, ...]:
    """The cosignatures of ``checkpoint`` by distinct keys of ``witnesses`` found in ``notes``
    (signed notes; only those whose text is this checkpoint's body count), earliest first.

    As signed-note asks, lines by unknown keys are ignored and a line by a known key that does
    not verify rejects the whole: :class:`~ledger.log.note.SignatureInvalid`."""
    body = checkpoint.body()
    by_key = {(w.name, w.key_id): w for w in witnesses}
    found: dict[tuple[str, int], Cosignature] = {}
    for text in notes:
        parsed = note.parse_note(text)
        if parsed.text != body:
            continue
        for signature in parsed.signatures:
            key = (signature.name, signature.key_id)
            verifier = by_key.get(key)
            if verifier is None:
                continue
            line = signature.line().removesuffix("\n")
            timestamp = verify_cosignature(checkpoint, line, verifier)
            found.setdefault(
                key,
                Cosignature(
                    checkpoint.size,
                    checkpoint.root_hash,
                    signature.name,
                    signature.key_id,
                    timestamp,
                    line,
                ),
            )
    return tuple(sorted(found.values(), key=lambda c: (c.timestamp, c.key_name, c.key_id)))


def require_cosignatures(
    checkpoint: Checkpoint,
    notes: Sequence[str],
    witnesses: Sequence[note.Verifier],
    required: int,
) -> tuple[Cosignature, ...]:
    """:func:`known_cosignatures`, or :class:`TooFewCosignatures` when fewer than ``required``
    distinct known witnesses cosigned ``checkpoint`` (k of n)."""
    found = known_cosignatures(checkpoint, notes, witnesses)
    if len(found) < required:
        names = ", ".join(f"{c.key_name}+{c.key_id_hex}" for c in found) or "none"
        raise TooFewCosignatures(
            f"{len(found)} of the {len(witnesses)} known witnesses cosigned the checkpoint of "
            f"tree size {checkpoint.size} ({names}); {required} required",
            found=len(found),
            required=required,
        )
    return found
