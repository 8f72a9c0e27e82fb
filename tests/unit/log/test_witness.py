"""Witness cosignatures (ledger/log/witness.py): checking a partner's cosignature line against a
checkpoint and the configured witness keys, and assembling the cosigned note."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from app.settings import Settings
from ledger.log import keys, note, witness
from ledger.log.canonical import canonical_bytes
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner, verify_cosignature

ORIGIN = "a6ledger.example.go.jp/jcm"
THAILAND = "registry.example.th/witness"
MONGOLIA = "registry.example.mn/witness"
ROOT = hashlib.sha256(b"root of 7").digest()
CHECKPOINT = Checkpoint(ORIGIN, 7, ROOT)
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def log_signer() -> note.Signer:
    return note.Signer(keys.generate_signer(ORIGIN)[0])


@pytest.fixture(scope="module")
def thailand() -> Cosigner:
    return Cosigner(keys.generate_signer(THAILAND)[0])


@pytest.fixture(scope="module")
def mongolia() -> Cosigner:
    return Cosigner(keys.generate_signer(MONGOLIA)[0])


@pytest.fixture(scope="module")
def witnesses(thailand: Cosigner, mongolia: Cosigner) -> tuple[note.Verifier, ...]:
    return witness.parse_witness_keys([thailand.vkey, mongolia.vkey])


def flip_signature_byte(line: str, position: int) -> str:
    """The line with one byte of its signature (after the 4-byte key ID) flipped."""
    prefix, encoded = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[4 + position] ^= 0x01
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}"


# --- witness keys -----------------------------------------------------------------------------


def test_witness_keys_are_type_0x04_verifiers(thailand: Cosigner) -> None:
    (verifier,) = witness.parse_witness_keys([thailand.vkey])
    assert verifier.signature_type == keys.SIGNATURE_TYPE_COSIGNATURE_V1
    assert (verifier.name, verifier.key_id) == (THAILAND, thailand.key_id)
    assert witness.parse_witness_keys([]) == ()


def test_witness_keys_refuse_other_types_duplicates_and_garbage(
    thailand: Cosigner, log_signer: note.Signer
) -> None:
    with pytest.raises(keys.InvalidKey, match="type 0x04"):
        witness.parse_witness_keys([log_signer.vkey])
    with pytest.raises(keys.InvalidKey, match="listed twice"):
        witness.parse_witness_keys([thailand.vkey, thailand.vkey])
    with pytest.raises(keys.InvalidKey):
        witness.parse_witness_keys(["not a key"])


def test_witness_keys_must_not_share_a_key_id() -> None:
    """Cosignatures are stored per (tree size, key ID): two keys with one ID are refused.

    Key IDs are 32 bits, so two names for one public key collide after about 2**16 tries."""
    public_key = Cosigner(keys.format_skey("seed", bytes(32))).public_key
    seen: dict[int, str] = {}
    for number in range(1 << 20):
        name = f"w{number}.example"
        key_id = keys.key_id(name, keys.SIGNATURE_TYPE_COSIGNATURE_V1, public_key)
        if key_id in seen:
            break
        seen[key_id] = name
    first, second = (
        keys.format_vkey(n, public_key, keys.SIGNATURE_TYPE_COSIGNATURE_V1)
        for n in (seen[key_id], name)
    )
    assert note.Verifier(first).key_id == note.Verifier(second).key_id
    with pytest.raises(keys.InvalidKey, match="shares its key ID"):
        witness.parse_witness_keys([first, second])


def test_settings_validate_witness_keys_at_start_up(
    thailand: Cosigner, log_signer: note.Signer
) -> None:
    settings = Settings(database_url="sqlite://", witness_keys=[thailand.vkey])
    assert settings.witness_keys == [thailand.vkey]
    assert Settings(database_url="sqlite://").witness_keys == []
    with pytest.raises(ValidationError, match="type 0x04"):
        Settings(database_url="sqlite://", witness_keys=[log_signer.vkey])
    with pytest.raises(ValidationError, match="malformed verifier key"):
        Settings(database_url="sqlite://", witness_keys=["nobody+0000+AA=="])


def test_settings_read_witness_keys_from_the_environment(
    thailand: Cosigner,
    mongolia: Cosigner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("A6LEDGER_WITNESS_KEYS", f'["{thailand.vkey}", "{mongolia.vkey}"]')
    assert Settings(database_url="sqlite://").witness_keys == [thailand.vkey, mongolia.vkey]


# --- verifying one cosignature line ------------------------------------------------------------


def test_a_witness_cosignature_is_verified_and_recorded(
    thailand: Cosigner, witnesses: tuple[note.Verifier, ...]
) -> None:
    line = thailand.cosign(CHECKPOINT, T0)
    record = witness.verify_cosignature_line(CHECKPOINT, line, witnesses)
    assert record == witness.Cosignature(7, ROOT, THAILAND, thailand.key_id, T0, line[:-1])
    assert record.key_id_hex == f"{thailand.key_id:08x}"
    # The final newline is optional; the record is the same.
    assert witness.verify_cosignature_line(CHECKPOINT, line[:-1], witnesses) == record
    payload = record.payload()
    assert payload == {
        "tree_size": 7,
        "root_hash": base64.b64encode(ROOT).decode(),
        "key_name": THAILAND,
        "key_id": record.key_id_hex,
        "timestamp": T0,
        "signature": line[:-1],
    }
    assert canonical_bytes(payload)


def test_the_cosignature_is_ed25519_over_the_cosignature_v1_message(
    thailand: Cosigner, witnesses: tuple[note.Verifier, ...]
) -> None:
    """tlog-cosignature, transcribed: key ID ‖ 8-byte timestamp ‖ Ed25519 over
    ``cosignature/v1\\ntime <t>\\n`` ‖ checkpoint body."""
    record = witness.verify_cosignature_line(CHECKPOINT, thailand.cosign(CHECKPOINT, T0), witnesses)
    raw = base64.b64decode(record.signature_line.rsplit(" ", 1)[1])
    key_id = hashlib.sha256(THAILAND.encode() + b"\n\x04" + thailand.public_key).digest()[:4]
    assert raw[:4] == key_id
    assert int.from_bytes(raw[4:12], "big") == T0
    message = f"cosignature/v1\ntime {T0}\n".encode() + CHECKPOINT.body().encode()
    Ed25519PublicKey.from_public_bytes(thailand.public_key).verify(raw[12:], message)


def test_an_unknown_witness_is_refused(
    witnesses: tuple[note.Verifier, ...], log_signer: note.Signer
) -> None:
    stranger = Cosigner(keys.generate_signer("registry.example.zz/witness")[0])
    with pytest.raises(witness.UnknownWitness, match="not a configured witness key") as caught:
        witness.verify_cosignature_line(CHECKPOINT, stranger.cosign(CHECKPOINT, T0), witnesses)
    assert caught.value.details["key_name"] == "registry.example.zz/witness"
    # The log's own signature line is no cosignature either.
    own = note.sign_note(CHECKPOINT.body(), [log_signer]).split("\n\n", 1)[1]
    with pytest.raises(witness.UnknownWitness):
        witness.verify_cosignature_line(CHECKPOINT, own, witnesses)
    with pytest.raises(witness.UnknownWitness, match="known witness keys: none"):
        witness.verify_cosignature_line(CHECKPOINT, stranger.cosign(CHECKPOINT, T0), ())


def test_a_known_witness_with_another_key_is_unknown(
    witnesses: tuple[note.Verifier, ...],
) -> None:
    """Same name, new key: the key ID differs, so it is not the configured witness."""
    impostor = Cosigner(keys.generate_signer(THAILAND)[0])
    with pytest.raises(witness.UnknownWitness):
        witness.verify_cosignature_line(CHECKPOINT, impostor.cosign(CHECKPOINT, T0), witnesses)


@pytest.mark.parametrize("position", [0, 7, 8, 40, 71])
def test_a_tampered_cosignature_is_refused(
    thailand: Cosigner, witnesses: tuple[note.Verifier, ...], position: int
) -> None:
    """Any flipped byte, in the timestamp or the signature, fails verification."""
    line = flip_signature_byte(thailand.cosign(CHECKPOINT, T0), position)
    with pytest.raises(note.SignatureInvalid):
        witness.verify_cosignature_line(CHECKPOINT, line, witnesses)


def test_a_cosignature_of_another_checkpoint_is_refused(
    thailand: Cosigner, witnesses: tuple[note.Verifier, ...]
) -> None:
    line = thailand.cosign(CHECKPOINT, T0)
    for other in (
        Checkpoint(ORIGIN, 8, ROOT),
        Checkpoint(ORIGIN, 7, hashlib.sha256(b"forked").digest()),
        Checkpoint("another.example/log", 7, ROOT),
    ):
        with pytest.raises(note.SignatureInvalid):
            witness.verify_cosignature_line(other, line, witnesses)


def test_a_plain_ed25519_signature_by_the_witness_name_is_refused(
    witnesses: tuple[note.Verifier, ...],
) -> None:
    """A type 0x01 signature (no timestamp) under a witness's key ID does not verify."""
    (thailand_verifier, _) = witnesses
    line = note.format_signature_line(THAILAND, thailand_verifier.key_id, b"\x00" * 64)
    with pytest.raises(note.SignatureInvalid):
        witness.verify_cosignature_line(CHECKPOINT, line, witnesses)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "\n",
        "registry.example.th/witness AAAA",
        "— registry.example.th/witness not-base64!",
        "— registry.example.th/witness AAAA",
        "— a AAAAAAA=\n— b AAAAAAA=",
        "— a AAAAAAA=\n\n",
        "— two words AAAAAAA=",
    ],
)
def test_malformed_lines_are_refused(witnesses: tuple[note.Verifier, ...], line: str) -> None:
    with pytest.raises(note.MalformedNote):
        witness.verify_cosignature_line(CHECKPOINT, line, witnesses)


def test_a_timestamp_beyond_the_ledger_integer_range_is_refused(
    thailand: Cosigner, witnesses: tuple[note.Verifier, ...]
) -> None:
    line = thailand.cosign(CHECKPOINT, witness.MAX_TIMESTAMP)
    assert witness.verify_cosignature_line(CHECKPOINT, line, witnesses).timestamp == 2**53 - 1
    too_late = thailand.cosign(CHECKPOINT, witness.MAX_TIMESTAMP + 1)
    with pytest.raises(witness.CosignatureTimestampOutOfRange):
        witness.verify_cosignature_line(CHECKPOINT, too_late, witnesses)


# --- the cosigned note -------------------------------------------------------------------------


def test_the_cosigned_note_verifies_with_the_log_key_and_every_witness_key(
    log_signer: note.Signer,
    thailand: Cosigner,
    mongolia: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    records = [
        witness.verify_cosignature_line(CHECKPOINT, cosigner.cosign(CHECKPOINT, t), witnesses)
        for cosigner, t in ((mongolia, T0 + 5), (thailand, T0))
    ]
    text = witness.cosigned_note(signed, records, witnesses)
    body, lines = text.split("\n\n")
    assert body + "\n" == CHECKPOINT.body()
    # The log's line first, then the cosignatures in timestamp order.
    assert lines.splitlines() == [
        signed.split("\n\n")[1][:-1],
        records[1].signature_line,
        records[0].signature_line,
    ]
    checkpoint, by_log = open_checkpoint(text, [note.Verifier(log_signer.vkey)])
    assert checkpoint == CHECKPOINT
    assert [s.name for s in by_log] == [ORIGIN]
    _, by_witnesses = open_checkpoint(text, witnesses)
    assert {(s.name, s.timestamp) for s in by_witnesses} == {(THAILAND, T0), (MONGOLIA, T0 + 5)}
    for record, verifier in zip(records, reversed(witnesses), strict=True):
        assert verify_cosignature(CHECKPOINT, record.signature_line, verifier) == (record.timestamp)


def test_the_cosigned_note_writes_each_key_once(
    log_signer: note.Signer,
    thailand: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    record = witness.verify_cosignature_line(CHECKPOINT, thailand.cosign(CHECKPOINT, T0), witnesses)
    text = witness.cosigned_note(signed, [record, record], witnesses)
    assert text.count(record.signature_line) == 1
    assert witness.cosigned_note(signed, []) == signed


def test_the_cosigned_note_keeps_lines_of_keys_no_longer_configured(
    log_signer: note.Signer,
    thailand: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    record = witness.verify_cosignature_line(CHECKPOINT, thailand.cosign(CHECKPOINT, T0), witnesses)
    text = witness.cosigned_note(signed, [record], witnesses=())
    assert record.signature_line in text
    assert open_checkpoint(text, witnesses[:1])[0] == CHECKPOINT


def test_an_altered_record_of_a_configured_witness_is_an_integrity_failure(
    log_signer: note.Signer,
    thailand: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    record = witness.verify_cosignature_line(CHECKPOINT, thailand.cosign(CHECKPOINT, T0), witnesses)
    altered = witness.Cosignature(
        record.tree_size,
        record.root_hash,
        record.key_name,
        record.key_id,
        record.timestamp,
        flip_signature_byte(record.signature_line, 20),
    )
    with pytest.raises(witness.RecordedCosignatureInvalid):
        witness.cosigned_note(signed, [altered], witnesses)


def test_a_record_of_another_checkpoint_is_refused(
    log_signer: note.Signer,
    thailand: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    record = witness.verify_cosignature_line(CHECKPOINT, thailand.cosign(CHECKPOINT, T0), witnesses)
    later = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), [log_signer])
    with pytest.raises(witness.CosignatureMismatch):
        witness.cosigned_note(later, [record], witnesses)


def test_the_cosigned_note_holds_at_most_100_signatures(log_signer: note.Signer) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    records = []
    for number in range(note.MAX_SIGNATURES + 5):
        cosigner = Cosigner(keys.generate_signer(f"w{number}.example")[0])
        line = cosigner.cosign(CHECKPOINT, T0 + number)
        records.append(
            witness.Cosignature(7, ROOT, cosigner.name, cosigner.key_id, T0 + number, line[:-1])
        )
    text = witness.cosigned_note(signed, records)
    parsed = note.parse_note(text)
    assert len(parsed.signatures) == note.MAX_SIGNATURES
    assert parsed.signatures[-1].name == f"w{note.MAX_SIGNATURES - 2}.example"


# --- k of n -----------------------------------------------------------------------------------


def test_k_of_n_counts_distinct_known_witnesses_that_verify(
    log_signer: note.Signer,
    thailand: Cosigner,
    mongolia: Cosigner,
    witnesses: tuple[note.Verifier, ...],
) -> None:
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    stranger = Cosigner(keys.generate_signer("registry.example.zz/witness")[0])
    thai = thailand.cosign(CHECKPOINT, T0 + 1)
    cosigned = signed + thai + stranger.cosign(CHECKPOINT, T0)
    # Thailand twice (two notes, two timestamps) counts once; the stranger not at all.
    again = signed + thailand.cosign(CHECKPOINT, T0 + 2)
    found = witness.require_cosignatures(CHECKPOINT, [cosigned, again], witnesses, 1)
    assert [(c.key_name, c.timestamp) for c in found] == [(THAILAND, T0 + 1)]
    with pytest.raises(witness.TooFewCosignatures, match="1 of the 2 known witnesses") as caught:
        witness.require_cosignatures(CHECKPOINT, [cosigned], witnesses, 2)
    assert caught.value.details == {"found": 1, "required": 2}

    both = cosigned + mongolia.cosign(CHECKPOINT, T0)
    found = witness.require_cosignatures(CHECKPOINT, [both], witnesses, 2)
    assert [c.key_name for c in found] == [MONGOLIA, THAILAND]
    assert witness.require_cosignatures(CHECKPOINT, [signed], witnesses, 0) == ()


def test_k_of_n_ignores_notes_of_other_checkpoints_and_rejects_a_bad_known_line(
    log_signer: note.Signer, thailand: Cosigner, witnesses: tuple[note.Verifier, ...]
) -> None:
    later = Checkpoint(ORIGIN, 8, ROOT)
    other = sign_checkpoint(later, [log_signer]) + thailand.cosign(later, T0)
    assert witness.known_cosignatures(CHECKPOINT, [other], witnesses) == ()
    signed = sign_checkpoint(CHECKPOINT, [log_signer])
    forged = flip_signature_byte(thailand.cosign(CHECKPOINT, T0).removesuffix("\n"), 30)
    with pytest.raises(note.SignatureInvalid):
        witness.known_cosignatures(CHECKPOINT, [signed + forged + "\n"], witnesses)
