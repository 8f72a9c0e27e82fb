"""C2SP signed notes (ledger/log/note.py): known answers, the verification policy and strict
parsing (verifiable-log.md §2, §4)."""

from __future__ import annotations

import base64

import pytest

from ledger.errors import InvalidInput
from ledger.log.keys import generate_signer, parse_vkey
from ledger.log.note import (
    AmbiguousVerifiers,
    MalformedNote,
    NoKnownSignature,
    SignatureInvalid,
    Signer,
    Verifier,
    format_signature_line,
    open_note,
    parse_note,
    sign_note,
)
from tests.unit.log.known_keys import (
    C2SP_NOTE,
    C2SP_VKEY,
    GO_SIGNATURE_LINE,
    GO_SKEY,
    GO_TEXT,
    GO_VKEY,
    ORIGIN,
)

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
