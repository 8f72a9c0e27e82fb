"""C2SP witness cosignatures (ledger/log/tlog_cosignature.py): cosignature/v1, type 0x04."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import InvalidInput
from ledger.log.keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    InvalidKey,
    generate_signer,
    key_id,
    parse_skey,
    parse_vkey,
)
from ledger.log.note import (
    NoKnownSignature,
    SignatureInvalid,
    Signer,
    Verifier,
    add_signatures,
    format_signature_line,
    open_note,
    parse_note,
)
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner, verify_cosignature
from tests.unit.log.known_keys import GO_SKEY, GO_VKEY, ORIGIN, PARTNER, ROOT


def test_cosignature_sign_and_verify(partner_skey: str, log_keys: tuple[str, str]) -> None:
    cosigner = Cosigner(partner_skey, clock=lambda: 1_700_000_000)
    public_key = parse_skey(partner_skey).public_key()
    assert cosigner.key_id == key_id(PARTNER, SIGNATURE_TYPE_COSIGNATURE_V1, public_key)
    assert cosigner.key_id != Signer(partner_skey).key_id
    cosigner_vkey = cosigner.vkey
    assert parse_vkey(cosigner_vkey).signature_type == SIGNATURE_TYPE_COSIGNATURE_V1
    verifier = Verifier(cosigner_vkey)

    checkpoint = Checkpoint(ORIGIN, 20852163, ROOT)
    line = cosigner.cosign(checkpoint, 1_679_315_147)
    assert verify_cosignature(checkpoint, line, verifier) == 1_679_315_147

    # Independent check of the signed message layout and the timestamped_signature structure.
    raw = base64.b64decode(line.split(" ")[2])
    assert int.from_bytes(raw[:4], "big") == cosigner.key_id
    assert int.from_bytes(raw[4:12], "big") == 1_679_315_147
    message = b"cosignature/v1\ntime 1679315147\n" + checkpoint.body().encode()
    Ed25519PublicKey.from_public_bytes(public_key).verify(raw[12:], message)
    assert len(raw) == 4 + 8 + 64

    # Log signature plus cosignature in one note; both verified, the timestamp reported.
    log_signed = sign_checkpoint(checkpoint, [Signer(log_keys[0])])
    cosigned = add_signatures(log_signed, [cosigner])
    assert cosigned.startswith(log_signed)
    opened, signatures = open_checkpoint(cosigned, [Verifier(log_keys[1]), verifier])
    assert opened == checkpoint
    assert [(s.name, s.timestamp) for s in signatures] == [
        (ORIGIN, None),
        (PARTNER, 1_700_000_000),
    ]
    # The partner's cosignature alone also satisfies open_note when it is the key trusted.
    assert open_checkpoint(cosigned, [verifier])[0] == checkpoint


def test_cosignature_tampering_is_detected(partner_skey: str) -> None:
    cosigner = Cosigner(partner_skey)
    verifier = Verifier(cosigner.vkey)
    checkpoint = Checkpoint(ORIGIN, 10, ROOT)
    line = cosigner.cosign(checkpoint, 1_700_000_000)

    with pytest.raises(SignatureInvalid):
        verify_cosignature(Checkpoint(ORIGIN, 11, ROOT), line, verifier)
    with pytest.raises(SignatureInvalid):
        verify_cosignature(Checkpoint(ORIGIN, 10, ROOT, ("ext",)), line, verifier)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 0x01  # the timestamp's last byte
    with pytest.raises(SignatureInvalid):
        verify_cosignature(
            checkpoint, format_signature_line(PARTNER, cosigner.key_id, bytes(raw[4:])), verifier
        )
    huge = (1 << 63).to_bytes(8, "big") + bytes(raw[12:])
    with pytest.raises(SignatureInvalid):
        verify_cosignature(
            checkpoint, format_signature_line(PARTNER, cosigner.key_id, huge), verifier
        )
    # The same key as a plain Ed25519 (type 0x01) key is a different key: not a cosigner.
    plain = Verifier(Signer(partner_skey).vkey)
    with pytest.raises(InvalidKey):
        verify_cosignature(checkpoint, line, plain)
    note = checkpoint.body() + "\n" + line
    with pytest.raises(NoKnownSignature):
        open_note(note, [plain])
    other = Cosigner(generate_signer(PARTNER)[0])
    with pytest.raises(NoKnownSignature):
        verify_cosignature(checkpoint, line, Verifier(other.vkey))
    with pytest.raises(InvalidInput):
        cosigner.sign_at(b"x\n", 1 << 63)
    with pytest.raises(InvalidInput):
        cosigner.sign_at(b"x\n", -1)


def test_add_signatures_replaces_the_same_keys_line(partner_skey: str) -> None:
    checkpoint = Checkpoint(ORIGIN, 10, ROOT)
    first = Cosigner(partner_skey, clock=lambda: 100)
    second = Cosigner(partner_skey, clock=lambda: 200)
    note = sign_checkpoint(checkpoint, [Signer(GO_SKEY), first])
    renewed = add_signatures(note, [second])
    assert len(parse_note(renewed).signatures) == 2
    _, signatures = open_note(renewed, [Verifier(GO_VKEY), Verifier(first.vkey)])
    assert [s.timestamp for s in signatures] == [None, 200]
