"""C2SP signed-note, tlog-checkpoint, tlog-cosignature and tlog-proof (verifiable-log.md §2-§4)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import InvalidInput, ProofError
from ledger.log.merkle import InclusionProofInvalid, leaf_hash
from ledger.log.merkle_store import MemoryNodeStore, MerkleAppender, inclusion_proof, tree_root
from ledger.log.note import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    SIGNATURE_TYPE_ED25519,
    AmbiguousVerifiers,
    Checkpoint,
    Cosigner,
    InvalidKey,
    MalformedCheckpoint,
    MalformedNote,
    MalformedProofBundle,
    NoKnownSignature,
    SignatureInvalid,
    Signer,
    TlogProof,
    Verifier,
    add_signatures,
    format_signature_line,
    format_skey,
    format_tlog_proof,
    format_vkey,
    generate_signer,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    parse_skey,
    parse_tlog_proof,
    parse_vkey,
    sign_checkpoint,
    sign_note,
    verify_cosignature,
    verify_tlog_proof,
)

# Go checksum database test vector (golang.org/x/mod/sumdb/note), verifiable-log.md §4.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)

# C2SP signed-note example, verifiable-log.md §4.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
    "FXmRKuwHjG1Yu72IneyaQM=\n"
)

ORIGIN = "a6ledger.example.go.jp/jcm"
PARTNER = "registry.example.org/witness"
ROOT = hashlib.sha256(b"some root").digest()


@pytest.fixture(scope="module")
def log_keys() -> tuple[str, str]:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def partner_skey() -> str:
    return generate_signer(PARTNER)[0]


# --------------------------------------------------------------------------------------------
# Known-answer vectors
# --------------------------------------------------------------------------------------------


def test_go_vector_is_reproduced_byte_for_byte() -> None:
    signer = Signer(GO_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert signer.vkey == GO_VKEY
    note = sign_note(GO_TEXT, [signer])
    assert note == GO_TEXT + "\n" + GO_SIGNATURE_LINE
    text, signatures = open_note(note, [Verifier(GO_VKEY)])
    assert text == GO_TEXT
    assert [(s.name, s.key_id, s.timestamp) for s in signatures] == [
        ("PeterNeumann", 0xC74F20A3, None)
    ]


def test_go_key_texts_round_trip() -> None:
    parsed = parse_skey(GO_SKEY)
    assert parsed.text() == GO_SKEY
    assert format_skey(parsed.name, parsed.seed) == GO_SKEY
    assert "seed" not in repr(parsed)
    assert "AYEKFALV" not in repr(Signer(GO_SKEY))
    vkey = parse_vkey(GO_VKEY)
    assert vkey.signature_type == SIGNATURE_TYPE_ED25519
    assert vkey.public_key == parsed.public_key()
    assert vkey.key_id == key_id("PeterNeumann", SIGNATURE_TYPE_ED25519, vkey.public_key)
    assert format_vkey("PeterNeumann", vkey.public_key) == GO_VKEY
    assert vkey.text() == GO_VKEY


def test_c2sp_example_verifies() -> None:
    text, signatures = open_note(C2SP_NOTE, [Verifier(C2SP_VKEY)])
    assert text == "This is an example message.\n"
    assert [s.name for s in signatures] == ["example.com/foo"]
    assert open_note(C2SP_NOTE.encode("utf-8"), [Verifier(C2SP_VKEY)])[0] == text


def test_generated_keys_sign_and_verify(log_keys: tuple[str, str]) -> None:
    skey, vkey = log_keys
    assert skey.startswith(f"PRIVATE+KEY+{ORIGIN}+")
    assert vkey.startswith(f"{ORIGIN}+")
    note = sign_note("hello\n", [Signer(skey)])
    assert open_note(note, [Verifier(vkey)])[0] == "hello\n"


# --------------------------------------------------------------------------------------------
# Verification policy (signed-note §Signatures)
# --------------------------------------------------------------------------------------------


def test_unknown_keys_are_ignored(log_keys: tuple[str, str]) -> None:
    other_skey, _ = generate_signer("someone.example/else")
    # Same name as a known key but another key ID, and same key ID under another name.
    go_id = parse_vkey(GO_VKEY).key_id
    same_name = format_signature_line("PeterNeumann", go_id ^ 1, b"\x00" * 64)
    same_id = format_signature_line("PeterNeumann2", go_id, b"\x00" * 64)
    note = sign_note(GO_TEXT, [Signer(other_skey), Signer(GO_SKEY), Signer(log_keys[0])])
    note += same_name + same_id
    text, signatures = open_note(note, [Verifier(GO_VKEY)])
    assert text == GO_TEXT
    assert [s.name for s in signatures] == ["PeterNeumann"]


def test_a_bad_signature_from_a_known_key_rejects_the_note() -> None:
    note = sign_note(GO_TEXT, [Signer(GO_SKEY)])
    verifiers = [Verifier(GO_VKEY)]
    with pytest.raises(SignatureInvalid, match="PeterNeumann\\+c74f20a3"):
        open_note(note.replace("cryptography", "cryptographY"), verifiers)
    raw = bytearray(base64.b64decode(GO_SIGNATURE_LINE.split(" ")[2]))
    raw[10] ^= 0x01
    tampered = GO_TEXT + "\n" + format_signature_line("PeterNeumann", 0xC74F20A3, bytes(raw[4:]))
    with pytest.raises(SignatureInvalid):
        open_note(tampered, verifiers)
    # A good signature does not excuse a second, bad one from the same key.
    with pytest.raises(SignatureInvalid):
        open_note(note + tampered.split("\n\n")[1], verifiers)
    # Wrong signature length from a known key.
    short = GO_TEXT + "\n" + format_signature_line("PeterNeumann", 0xC74F20A3, b"\x01" * 10)
    with pytest.raises(SignatureInvalid):
        open_note(short, verifiers)


def test_repeated_good_signatures_are_reported_once() -> None:
    note = sign_note(GO_TEXT, [Signer(GO_SKEY)])
    doubled = note + GO_SIGNATURE_LINE
    assert len(open_note(doubled, [Verifier(GO_VKEY)])[1]) == 1


def test_a_note_without_a_known_signature_is_rejected(log_keys: tuple[str, str]) -> None:
    note = sign_note(GO_TEXT, [Signer(GO_SKEY)])
    with pytest.raises(NoKnownSignature, match="PeterNeumann"):
        open_note(note, [Verifier(log_keys[1])])
    with pytest.raises(NoKnownSignature):
        open_note(note, [])


def test_ambiguous_verifiers_are_refused() -> None:
    verifier = Verifier(GO_VKEY)
    note = sign_note(GO_TEXT, [Signer(GO_SKEY)])
    assert open_note(note, [verifier, Verifier(GO_VKEY)])[0] == GO_TEXT

    class Impostor(Verifier):
        """Same name and key ID as a real key but (pretending) different key material."""

        @property
        def vkey(self) -> str:
            return "different"

    with pytest.raises(AmbiguousVerifiers):
        open_note(note, [verifier, Impostor(GO_VKEY)])


GOOD = GO_TEXT + "\n" + GO_SIGNATURE_LINE


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(GOOD[:-1], id="signature lines must end in newline"),
        pytest.param(GO_TEXT + GO_SIGNATURE_LINE, id="no blank line"),
        pytest.param(GO_TEXT + "\n", id="no signature lines"),
        pytest.param(GOOD.replace("\u2014 ", "- "), id="hyphen instead of em dash"),
        pytest.param(GOOD.replace("\u2014 ", "\u2013 "), id="en dash instead of em dash"),
        pytest.param(GOOD.replace("\u2014 ", "\u2014"), id="no space after the dash"),
        pytest.param(GOOD.replace("\u2014 PeterNeumann ", "\u2014  "), id="empty key name"),
        pytest.param(GOOD.replace("PeterNeumann ", "Peter+Neumann "), id="'+' in key name"),
        pytest.param(
            GOOD.replace("PeterNeumann ", "Peter\u00a0Neumann "), id="Unicode space in key name"
        ),
        pytest.param(
            GOOD.replace("PeterNeumann ", "PeterNeumann\u3000"), id="ideographic space separator"
        ),
        pytest.param(GOOD.replace("PeterNeumann ", "Peter Neumann "), id="space in key name"),
        pytest.param(GOOD.replace("=\n", "\n"), id="unpadded base64"),
        pytest.param(GOOD.replace("x08go", "x08g!"), id="invalid base64 character"),
        pytest.param(GOOD.replace("AM=\n", "AN=\n"), id="non-canonical base64"),
        pytest.param(
            GO_TEXT + "\n\u2014 PeterNeumann AAAAAA==\n", id="signature shorter than 5 bytes"
        ),
        pytest.param(GO_TEXT + "\n\u2014 PeterNeumann\n", id="no signature after the name"),
        pytest.param(GOOD.replace("problem,\n", "problem,\r\n"), id="carriage return in the text"),
        pytest.param(GOOD.replace("problem,\n", "problem,\t\n"), id="tab in the text"),
        pytest.param(GOOD + "trailing\n", id="non-signature line after the signatures"),
        pytest.param(GOOD + "\n", id="trailing blank line"),
        pytest.param(GOOD.replace("you", "\ud800"), id="lone surrogate"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(note, [Verifier(GO_VKEY)])


def test_malformed_note_bytes_and_signature_count() -> None:
    with pytest.raises(MalformedNote, match="UTF-8"):
        open_note(GOOD.encode("utf-8").replace(b"you", b"\xff"), [Verifier(GO_VKEY)])
    with pytest.raises(MalformedNote, match="more than 100"):
        open_note(GOOD + GO_SIGNATURE_LINE * 100, [Verifier(GO_VKEY)])
    assert len(open_note(GOOD + GO_SIGNATURE_LINE * 99, [Verifier(GO_VKEY)])[1]) == 1


def test_note_text_may_contain_blank_lines() -> None:
    text = "first paragraph\n\nsecond paragraph\n\n"
    note = sign_note(text, [Signer(GO_SKEY)])
    assert parse_note(note).text == text
    assert open_note(note, [Verifier(GO_VKEY)])[0] == text


@pytest.mark.parametrize("text", ["", "no final newline", "tab\there\n", "cr\r\n"])
def test_sign_note_refuses_malformed_text(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(text, [Signer(GO_SKEY)])


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(InvalidInput):
        sign_note(GO_TEXT, [])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not hex
        "PeterNeumann+c74_20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # int() accepts _
        "PeterNeumann2+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # other name
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3",  # no key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(InvalidKey):
        Verifier(vkey)


def test_verifier_key_types_and_lengths_are_checked() -> None:
    public_key = parse_vkey(GO_VKEY).public_key
    for signature_type, key in ((0x02, public_key), (0x01, public_key[:31])):
        raw = bytes([signature_type]) + key
        kid = int.from_bytes(hashlib.sha256(b"n\n" + raw).digest()[:4], "big")
        with pytest.raises(InvalidKey):
            parse_vkey(f"n+{kid:08x}+{base64.b64encode(raw).decode()}")
    with pytest.raises(InvalidKey):
        format_vkey("n", public_key, 0x02)
    with pytest.raises(InvalidKey):
        format_vkey("bad name", public_key)


@pytest.mark.parametrize(
    "skey",
    [
        GO_SKEY.replace("PRIVATE+KEY+", "PRIVATE+KEYS+"),
        GO_SKEY.replace("c74f20a3", "c74f20a4"),
        GO_SKEY.replace("PeterNeumann", "PeterNeumann2"),
        GO_SKEY[:-4],
        GO_VKEY,
        "PRIVATE+KEY+n+00000000+" + base64.b64encode(b"\x02" + b"\x00" * 32).decode(),
        "PRIVATE+KEY+n+00000000+" + base64.b64encode(b"\x01" + b"\x00" * 31).decode(),
    ],
)
def test_bad_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(InvalidKey):
        Signer(skey)


# --------------------------------------------------------------------------------------------
# Checkpoints (c2sp.org/tlog-checkpoint)
# --------------------------------------------------------------------------------------------


def test_checkpoint_body_and_parse_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 20852163, ROOT)
    body = checkpoint.body()
    assert body == f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(body) == checkpoint
    with_extensions = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert with_extensions.body().endswith("\next one\next two\n")
    assert Checkpoint.parse(with_extensions.body()) == with_extensions
    spec_example = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert Checkpoint.parse(spec_example).body() == spec_example


ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_HASH = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{ORIGIN}\n007\n{ROOT_B64}\n", id="leading zeros"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT_B64}\n", id="zero with a leading zero"),
        pytest.param(f"{ORIGIN}\n+7\n{ROOT_B64}\n", id="sign"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"{ORIGIN}\n 7\n{ROOT_B64}\n", id="space"),
        pytest.param(f"{ORIGIN}\n1_000\n{ROOT_B64}\n", id="underscore"),
        pytest.param(f"{ORIGIN}\n\u0663\n{ROOT_B64}\n", id="non-ASCII digit"),
        pytest.param(f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n", id="size above 2**64-1"),
        pytest.param(f"{ORIGIN}\n\n{ROOT_B64}\n", id="empty size"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64.rstrip('=')}\n", id="unpadded base64"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64[:-2]}!=\n", id="invalid base64"),
        pytest.param(f"{ORIGIN}\n7\n{base64.b64encode(ROOT[:31]).decode()}\n", id="31-byte hash"),
        pytest.param(f"{ORIGIN}\n7\n{base64.b64encode(ROOT + b'x').decode()}\n", id="33-byte hash"),
        pytest.param(f"{ORIGIN}\n7\n{URLSAFE_HASH}\n", id="URL-safe base64"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64}", id="no final newline"),
        pytest.param(f"{ORIGIN}\n7\n", id="two lines"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64}\n\n", id="empty extension line"),
        pytest.param(f"\n7\n{ROOT_B64}\n", id="empty origin"),
        pytest.param(f"{ORIGIN}\t\n7\n{ROOT_B64}\n", id="control character in origin"),
    ],
)
def test_checkpoint_parse_is_strict(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_checkpoint_fields_are_validated() -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("", 1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1 << 64, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, True, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT[:31])
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT, ("two\nlines",))


def test_signed_checkpoint_round_trip(log_keys: tuple[str, str]) -> None:
    skey, vkey = log_keys
    checkpoint = Checkpoint(ORIGIN, 42, ROOT)
    note = sign_checkpoint(checkpoint, [Signer(skey)])
    opened, signatures = open_checkpoint(note, [Verifier(vkey)])
    assert opened == checkpoint
    assert signatures[0].name == ORIGIN
    forged = note.replace("\n42\n", "\n43\n")
    with pytest.raises(SignatureInvalid):
        open_checkpoint(forged, [Verifier(vkey)])
    not_a_checkpoint = sign_note("just text\n", [Signer(skey)])
    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(not_a_checkpoint, [Verifier(vkey)])


# --------------------------------------------------------------------------------------------
# Cosignatures (c2sp.org/tlog-cosignature, type 0x04)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Offline proof bundles (c2sp.org/tlog-proof@v1)
# --------------------------------------------------------------------------------------------


def ledger_entries(count: int) -> list[bytes]:
    return [f'{{"kind":"transfer","seq":{i}}}'.encode() for i in range(count)]


@pytest.fixture(scope="module")
def bundle_setup(log_keys: tuple[str, str]) -> tuple[list[bytes], str, MemoryNodeStore]:
    entries = ledger_entries(11)
    store = MemoryNodeStore()
    appender = MerkleAppender(store, 0)
    for entry in entries:
        store.put_many(appender.append(leaf_hash(entry)))
    checkpoint = Checkpoint(ORIGIN, len(entries), appender.root())
    signed = sign_checkpoint(checkpoint, [Signer(log_keys[0])])
    return entries, signed, store


def test_tlog_proof_round_trip(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore], log_keys: tuple[str, str]
) -> None:
    entries, signed, store = bundle_setup
    proof = inclusion_proof(store, 7, 11)
    bundle = format_tlog_proof(7, proof, signed)
    expected_head = "c2sp.org/tlog-proof@v1\nindex 7\n" + "".join(
        base64.b64encode(value).decode() + "\n" for value in proof
    )
    assert bundle == expected_head + "\n" + signed
    assert parse_tlog_proof(bundle) == TlogProof(7, tuple(proof), signed, None)
    checkpoint = verify_tlog_proof(bundle, entries[7], [Verifier(log_keys[1])])
    assert checkpoint.size == 11
    assert checkpoint.root_hash == tree_root(store, 11)

    with_extra = format_tlog_proof(7, proof, signed, extra=b"context")
    assert with_extra.startswith("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 7\n")
    assert parse_tlog_proof(with_extra).extra == b"context"
    assert verify_tlog_proof(with_extra, entries[7], [Verifier(log_keys[1])]) == checkpoint


def test_tlog_proof_with_no_hashes(log_keys: tuple[str, str]) -> None:
    entry = b'{"kind":"genesis"}'
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(entry)), [Signer(log_keys[0])])
    bundle = format_tlog_proof(0, [], signed)
    assert bundle.startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")
    assert verify_tlog_proof(bundle, entry, [Verifier(log_keys[1])]).size == 1


def test_tlog_proof_tampering_is_detected(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore], log_keys: tuple[str, str]
) -> None:
    entries, signed, store = bundle_setup
    verifiers = [Verifier(log_keys[1])]
    proof = inclusion_proof(store, 7, 11)
    bundle = format_tlog_proof(7, proof, signed)

    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(bundle, entries[6], verifiers)
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(bundle.replace("index 7\n", "index 6\n"), entries[7], verifiers)
    altered = [proof[0], bytes([proof[1][0] ^ 1]) + proof[1][1:], *proof[2:]]
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(format_tlog_proof(7, altered, signed), entries[7], verifiers)
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(format_tlog_proof(7, proof[:-1], signed), entries[7], verifiers)
    forged_root = signed.replace(
        base64.b64encode(tree_root(store, 11)).decode(), base64.b64encode(ROOT).decode()
    )
    with pytest.raises(SignatureInvalid):
        verify_tlog_proof(format_tlog_proof(7, proof, forged_root), entries[7], verifiers)
    with pytest.raises(NoKnownSignature):
        verify_tlog_proof(bundle, entries[7], [Verifier(GO_VKEY)])
    # Re-signing a forged checkpoint with another key does not help.
    resigned = sign_checkpoint(
        Checkpoint(ORIGIN, 11, tree_root(store, 10)), [Signer(generate_signer(ORIGIN)[0])]
    )
    with pytest.raises(NoKnownSignature):
        verify_tlog_proof(format_tlog_proof(7, proof, resigned), entries[7], verifiers)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda b: b.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), id="version"
        ),
        pytest.param(lambda b: b.replace("index 7\n", "index 07\n"), id="leading zero"),
        pytest.param(lambda b: b.replace("index 7\n", "index  7\n"), id="double space"),
        pytest.param(lambda b: b.replace("index 7\n", "idx 7\n"), id="no index line"),
        pytest.param(lambda b: b.replace("index 7\n", "extra \nindex 7\n"), id="empty extra"),
        pytest.param(
            lambda b: b.replace("index 7\n", "index 7\nnot-base64!\n"), id="bad hash line"
        ),
        pytest.param(lambda b: b.replace("index 7\n", "index 7\nAAAA\n"), id="short hash line"),
        pytest.param(lambda b: b.split("\n\n", 1)[0] + "\n", id="no checkpoint"),
        pytest.param(lambda b: b.rstrip("\n"), id="checkpoint without final newline"),
        pytest.param(lambda b: b.replace("\u2014 ", "-- "), id="checkpoint signature line"),
    ],
)
def test_malformed_tlog_proofs_are_rejected(
    mutate: Callable[[str], str],
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore],
    log_keys: tuple[str, str],
) -> None:
    entries, signed, store = bundle_setup
    bundle = format_tlog_proof(7, inclusion_proof(store, 7, 11), signed)
    broken = mutate(bundle)
    assert broken != bundle
    with pytest.raises(MalformedProofBundle):
        parse_tlog_proof(broken)
    with pytest.raises(ProofError):
        verify_tlog_proof(broken, entries[7], [Verifier(log_keys[1])])


def test_format_tlog_proof_checks_its_inputs(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore],
) -> None:
    _entries, signed, store = bundle_setup
    proof = inclusion_proof(store, 7, 11)
    with pytest.raises(InvalidInput):
        format_tlog_proof(-1, proof, signed)
    with pytest.raises(InvalidInput):
        format_tlog_proof(7, [*proof, b"short"], signed)
    with pytest.raises(InvalidInput):
        format_tlog_proof(7, proof, signed, extra=b"")
    with pytest.raises(MalformedNote):
        format_tlog_proof(7, proof, "not a signed note\n")
